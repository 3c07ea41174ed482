// A Certificate reaches nothing outside its namespace: not a Secret or ConfigMap source, not a
// kubernetes vault's key, not an account, not a service principal's secret, whatever its spec
// says. Each gets a clear reason, the API server refuses what cannot be expressed, and the
// operator sends no request into the other namespace at all (its requests are recorded).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/conditions.ts';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { ConfigMapType, SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned, privateUsable } from '../support/certs.ts';
import { keyPair } from '../support/keys.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import {
  createAccount,
  createCertificate,
  kubectlApply,
  waitForCondition,
} from '../support/resources.ts';

describe('nothing outside the certificate’s namespace', () => {
  let admin: KubeClient;
  let ns: string;
  let other: string;
  let op: RunningOperator;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const usable = privateUsable({}, 3);
  const partnerThumbprint = createHash('sha1').update(partner.der).digest('hex').toUpperCase();

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'xns');
    other = await createNamespace(admin, 'xns-other');
    // Everything a certificate could want, but in the other namespace.
    await admin.create(resourcePath(SecretType, { namespace: other }), {
      metadata: { name: 'partner-tls' },
      stringData: { 'tls.crt': partner.pem },
    });
    await admin.create(resourcePath(ConfigMapType, { namespace: other }), {
      metadata: { name: 'partner-certs' },
      data: { 'partner.pem': partner.pem },
    });
    await admin.create(resourcePath(SecretType, { namespace: other }), {
      metadata: { name: 'vault-key' },
      stringData: {
        'tls.key': keyPair('rsa2048', 3).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }) as string,
      },
    });
    await admin.create(resourcePath(SecretType, { namespace: other }), {
      metadata: { name: 'sp-secret' },
      stringData: { secret: 'not-for-you' },
    });
    await createAccount(admin, other, 'contoso-elsewhere');
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [
        { name: 'in-cluster', kubernetes: {} },
        {
          name: 'sp',
          azure: {
            vaultUrl: 'https://contoso-kv.vault.azure.net',
            auth: {
              servicePrincipal: {
                tenantId: '00000000-0000-0000-0000-000000000000',
                clientId: '00000000-0000-0000-0000-000000000001',
                clientSecretRef: { name: 'sp-secret', key: 'secret' },
              },
            },
          },
        },
      ],
    });
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('gives each reference into the other namespace a clear reason', async () => {
    await createCertificate(admin, ns, 'secret-source', {
      certificate: { secretRef: { name: 'partner-tls' } },
    });
    await createCertificate(admin, ns, 'configmap-source', {
      certificate: { configMapRef: { name: 'partner-certs', key: 'partner.pem' } },
    });
    await createCertificate(admin, ns, 'vault-key', {
      type: 'Private',
      certificate: { inline: usable.pem },
      key: { vault: 'in-cluster', name: 'vault-key' },
    });
    await createCertificate(admin, ns, 'account', {
      integrationAccount: { name: 'contoso-elsewhere' },
      certificate: { inline: selfSigned('ec256').pem },
    });
    // A namespace field where the schema has none: pruned by the API server (kubectl refuses
    // it, below); what remains names an object of this namespace.
    await admin.create(resourcePath(CertificateResource, { namespace: ns }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name: 'namespace-field' },
      spec: {
        integrationAccount: { name: 'contoso-elsewhere', namespace: other },
        type: 'Public',
        certificate: { secretRef: { name: 'partner-tls', namespace: other } },
      },
    });
    const stored = await admin.get<{ spec: Record<string, Record<string, unknown>> }>(
      resourcePath(CertificateResource, { namespace: ns, name: 'namespace-field' }),
    );
    expect(stored.spec.integrationAccount).toEqual({ name: 'contoso-elsewhere' });
    expect(stored.spec.certificate).toEqual({ secretRef: { name: 'partner-tls', key: 'tls.crt' } });

    const reasons = {
      'secret-source': [
        'CertificateSourceNotFound',
        `Secret partner-tls not found in namespace ${ns}`,
      ],
      'configmap-source': [
        'CertificateSourceNotFound',
        `ConfigMap partner-certs not found in namespace ${ns}`,
      ],
      'vault-key': ['KeyNotFound', 'vault-key'],
      account: ['IntegrationAccountNotFound', 'contoso-elsewhere'],
      'namespace-field': ['IntegrationAccountNotFound', 'contoso-elsewhere'],
    };
    for (const [name, [reason, words]] of Object.entries(reasons)) {
      const c = await waitForCondition(admin, ns, name, 'Ready', 'False', reason);
      expect(findCondition(c.status?.conditions, 'Ready')?.message).toContain(words);
      // Nothing of the other namespace's certificate shows in status.
      expect(c.status?.thumbprint).not.toBe(partnerThumbprint);
    }
    // The service principal's secret is looked for in the account's namespace only.
    const account = await eventually(async () => {
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      );
      return a.status?.keyVaults?.find((v) => v.name === 'sp' && v.reason !== undefined);
    }, 'the sp vault probed');
    expect(account.reachable).toBe(false);

    // Not one request of the operator went into the other namespace.
    const into = op.requests.filter((r) => r.path.includes(`/namespaces/${other}/`));
    expect(into).toEqual([]);
  });

  it.each([
    [
      'a secretRef name that is a path',
      { secretRef: { name: `../${'x'}/secrets/partner-tls` } },
      /spec\.certificate\.secretRef\.name: Invalid value/,
    ],
    [
      'a secretRef name of ..',
      { secretRef: { name: '..' } },
      /spec\.certificate\.secretRef\.name: Invalid value/,
    ],
    [
      'a configMapRef name of .',
      { configMapRef: { name: '.', key: 'k' } },
      /spec\.certificate\.configMapRef\.name: Invalid value/,
    ],
  ])('the API server refuses %s', async (_, certificate, message) => {
    await expect(createCertificate(admin, ns, 'refused', { certificate })).rejects.toThrow(message);
  });

  it('kubectl refuses a namespace in a reference (strict field validation)', async () => {
    await expect(
      kubectlApply(ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name: 'strict' },
        spec: {
          integrationAccount: { name: 'contoso' },
          type: 'Public',
          certificate: { secretRef: { name: 'partner-tls', namespace: other } },
        },
      }),
    ).rejects.toThrow(/unknown field "spec\.certificate\.secretRef\.namespace"/);
  });

  it('refuses a service principal secret name that is a path', async () => {
    await expect(
      createAccount(admin, ns, 'sneaky', {
        keyVaults: [
          {
            name: 'sp',
            azure: {
              vaultUrl: 'https://contoso-kv.vault.azure.net',
              auth: {
                servicePrincipal: {
                  tenantId: 't',
                  clientId: 'c',
                  clientSecretRef: { name: '.', key: 'secret' },
                },
              },
            },
          },
        ],
      }),
    ).rejects.toThrow(/clientSecretRef\.name: Invalid value/);
  });

  it('leaves the other namespace’s objects untouched', async () => {
    const c = await admin.get<Certificate>(
      resourcePath(CertificateResource, { namespace: ns, name: 'secret-source' }),
    );
    expect(c.status?.store).toBeUndefined();
    const secrets = await admin.get<{ items: { metadata: { name: string } }[] }>(
      resourcePath(SecretType, { namespace: other }),
    );
    expect(secrets.items.map((s) => s.metadata.name).sort()).toEqual([
      'partner-tls',
      'sp-secret',
      'vault-key',
    ]);
  });
});
