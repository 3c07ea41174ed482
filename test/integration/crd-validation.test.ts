// The API server itself refuses invalid manifests (CRD schema and CEL, no webhook), with
// messages a user understands.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { KubeApiError, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { refusal } from '../support/api-refusal.ts';

const pem = selfSigned('ec256').pem;

function certificate(spec: Record<string, unknown>, name = 'c'): Record<string, unknown> {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name },
    spec,
  };
}

const publicSpec = {
  integrationAccount: { name: 'contoso' },
  type: 'Public',
  certificate: { inline: pem },
};
const privateSpec = {
  integrationAccount: { name: 'contoso' },
  type: 'Private',
  certificate: { secretRef: { name: 'fabrikam-tls' } },
  key: { vault: 'main', name: 'fabrikam-signing' },
};

function account(spec: Record<string, unknown>, name = 'a'): Record<string, unknown> {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name },
    spec,
  };
}

describe('CRD validation by the API server', () => {
  let client: KubeClient;
  let ns: string;
  const certs = () => resourcePath(CertificateResource, { namespace: ns });
  const accounts = () => resourcePath(IntegrationAccountResource, { namespace: ns });

  const rejection = (path: string, body: Record<string, unknown>) => refusal(client, path, body);

  beforeAll(async () => {
    client = adminClient();
    ns = await createNamespace(client, 'crd');
  });

  it('accepts valid manifests and fills defaults', async () => {
    const acct = await client.create<IntegrationAccount>(
      accounts(),
      account(
        {
          keyVaults: [
            {
              name: 'main',
              azure: {
                vaultUrl: 'https://contoso-kv.vault.azure.net',
                auth: { workloadIdentity: {} },
              },
            },
            { name: 'in-cluster', kubernetes: {} },
          ],
        },
        'contoso',
      ),
    );
    expect(acct.spec.sku).toBe('Standard');
    const pub = await client.create<Certificate>(certs(), certificate(publicSpec, 'partner'));
    expect(pub.spec.deletionPolicy).toBe('Delete');
    expect(pub.spec.expiryWarning).toBe('720h');
    const priv = await client.create<Certificate>(certs(), certificate(privateSpec, 'ours'));
    expect(priv.spec.certificate.secretRef?.key).toBe('tls.crt');
    const cm = await client.create<Certificate>(
      certs(),
      certificate(
        {
          ...publicSpec,
          certificate: { configMapRef: { name: 'partner-certs', key: 'fabrikam.pem' } },
          metadata: { partner: 'fabrikam' },
          deletionPolicy: 'Retain',
          expiryWarning: '1h30m',
        },
        'from-cm',
      ),
    );
    expect(cm.spec.metadata).toEqual({ partner: 'fabrikam' });
  });

  const invalidCertificates: [string, Record<string, unknown>, RegExp][] = [
    [
      'an unknown type',
      { ...publicSpec, type: 'Secret' },
      /spec\.type: Unsupported value: "Secret": supported values: "Public", "Private"/,
    ],
    [
      'two certificate sources',
      { ...publicSpec, certificate: { inline: pem, secretRef: { name: 'x' } } },
      /exactly one of inline, secretRef, configMapRef or keyVault/,
    ],
    [
      'no certificate source',
      { ...publicSpec, certificate: {} },
      /exactly one of inline, secretRef, configMapRef or keyVault/,
    ],
    [
      'Private without key',
      { ...privateSpec, key: undefined },
      /key is required when type is Private/,
    ],
    [
      'Public with a key',
      { ...publicSpec, key: { vault: 'main', name: 'k' } },
      /key must not be set when type is Public/,
    ],
    [
      'no integration account',
      { type: 'Public', certificate: { inline: pem } },
      /spec\.integrationAccount: Required value/,
    ],
    [
      'an inline certificate over 64 KiB',
      { ...publicSpec, certificate: { inline: 'A'.repeat(65537) } },
      /spec\.certificate\.inline: Too long: may not be (longer|more) than 65536/,
    ],
    [
      'a key name Key Vault cannot hold',
      { ...privateSpec, key: { vault: 'main', name: 'bad name!' } },
      /spec\.key\.name: Invalid value/,
    ],
    [
      'an unknown deletion policy',
      { ...publicSpec, deletionPolicy: 'Sometimes' },
      /spec\.deletionPolicy: Unsupported value: "Sometimes"/,
    ],
    [
      'an expiry warning that is not a duration',
      { ...publicSpec, expiryWarning: '30 days' },
      /spec\.expiryWarning: Invalid value/,
    ],
    [
      'a metadata value that is not a string',
      { ...publicSpec, metadata: { partner: 42 } },
      /spec\.metadata\.partner: Invalid value: "integer": .*must be of type string/,
    ],
    [
      'a configMapRef without key',
      { ...publicSpec, certificate: { configMapRef: { name: 'x' } } },
      /spec\.certificate\.configMapRef\.key: Required value/,
    ],
  ];

  it.each(invalidCertificates)('refuses a Certificate with %s', async (_, spec, message) => {
    expect(await rejection(certs(), certificate(spec))).toMatch(message);
  });

  const azure = { vaultUrl: 'https://contoso-kv.vault.azure.net', auth: { managedIdentity: {} } };
  const invalidAccounts: [string, Record<string, unknown>, RegExp][] = [
    [
      'an unknown sku',
      { sku: 'Premium' },
      /spec\.sku: Unsupported value: "Premium": supported values: "Free", "Basic", "Standard"/,
    ],
    [
      'a vault that is both azure and kubernetes',
      { keyVaults: [{ name: 'v', azure, kubernetes: {} }] },
      /exactly one of azure or kubernetes/,
    ],
    [
      'two vaults of the same name',
      {
        keyVaults: [
          { name: 'v', kubernetes: {} },
          { name: 'v', kubernetes: {} },
        ],
      },
      /spec\.keyVaults\[1\]: Duplicate value/,
    ],
    [
      'a vault URL that is not https',
      { keyVaults: [{ name: 'v', azure: { ...azure, vaultUrl: 'http://kv.vault.azure.net' } }] },
      /vaultUrl: Invalid value/,
    ],
    [
      'two auth methods',
      {
        keyVaults: [
          { name: 'v', azure: { ...azure, auth: { managedIdentity: {}, workloadIdentity: {} } } },
        ],
      },
      /auth must set exactly one of workloadIdentity, managedIdentity or servicePrincipal/,
    ],
    [
      'a service principal without its secret',
      {
        keyVaults: [
          {
            name: 'v',
            azure: { ...azure, auth: { servicePrincipal: { tenantId: 't', clientId: 'c' } } },
          },
        ],
      },
      /clientSecretRef: Required value/,
    ],
    ['an empty store', { store: {} }, /store must name exactly one backend/],
  ];

  it.each(invalidAccounts)('refuses an IntegrationAccount with %s', async (_, spec, message) => {
    expect(await rejection(accounts(), account(spec))).toMatch(message);
  });

  it('refuses a status.store.azure.auth that names no sign-in method, or another namespace', async () => {
    await client.create(certs(), certificate(publicSpec, 'recorded-auth'));
    const statusPath = resourcePath(CertificateResource, {
      namespace: ns,
      name: 'recorded-auth',
      subresource: 'status',
    });
    const withAuth = (auth: object) =>
      client
        .patch(statusPath, { status: { store: { ref: '/subscriptions/s/x', azure: { auth } } } })
        .catch((e: unknown) => e);
    expect(String(await withAuth({}))).toMatch(/auth must set exactly one of/);
    expect(
      String(await withAuth({ workloadIdentity: { serviceAccountName: 'team-b/b2b' } })),
    ).toMatch(/serviceAccountName/);
    expect(await withAuth({ workloadIdentity: { serviceAccountName: 'b2b' } })).not.toBeInstanceOf(
      KubeApiError,
    );
  });

  it('refuses changing integrationAccount.name', async () => {
    await client.create(certs(), certificate(publicSpec, 'immutable'));
    const err = await client
      .patch(resourcePath(CertificateResource, { namespace: ns, name: 'immutable' }), {
        spec: { integrationAccount: { name: 'other' } },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(422);
    expect((err as Error).message).toMatch(/integrationAccount\.name is immutable/);
  });
});
