// The azure store's API at apply time: the API server (CRD schema and CEL) accepts a valid
// azure account and refuses what ARM or Azure could never take.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateResource,
  IntegrationAccountResource,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { refusal } from '../support/api-refusal.ts';

const pem = selfSigned('ec256').pem;
const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const vaultId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`;
const azureStore = {
  subscriptionId: SUB,
  resourceGroup: 'b2b-rg',
  name: 'contoso-ia',
  auth: { managedIdentity: {} },
};
const azureVault = {
  name: 'main',
  azure: {
    vaultUrl: 'https://kv.vault.azure.net',
    resourceId: vaultId,
    auth: { workloadIdentity: {} },
  },
};

const object = (kind: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind,
  metadata: { name },
  spec,
});

describe('azure store API validation by the API server', () => {
  let client: KubeClient;
  let ns: string;
  const accounts = () => resourcePath(IntegrationAccountResource, { namespace: ns });
  const certs = () => resourcePath(CertificateResource, { namespace: ns });

  const rejection = (path: string, body: Record<string, unknown>) => refusal(client, path, body);

  beforeAll(async () => {
    client = adminClient();
    ns = await createNamespace(client, 'azcrd');
  });

  it('accepts an azure store with Azure vaults that name their resource IDs, defaulting the cloud', async () => {
    const created = await client.create<IntegrationAccount>(
      accounts(),
      object('IntegrationAccount', 'contoso', {
        store: { azure: azureStore },
        keyVaults: [azureVault],
      }),
    );
    expect(created.spec.store?.azure?.cloud).toBe('AzurePublic');
    expect(created.spec.keyVaults?.[0]?.azure?.resourceId).toBe(vaultId);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'two store backends',
      { store: { kubernetes: {}, azure: azureStore } },
      /store must name exactly one backend, kubernetes or azure/,
    ],
    [
      'an azure store with a kubernetes vault',
      { store: { azure: azureStore }, keyVaults: [{ name: 'in-cluster', kubernetes: {} }] },
      /every key vault must be an Azure vault with resourceId/,
    ],
    [
      'an azure store with a vault lacking resourceId',
      {
        store: { azure: azureStore },
        keyVaults: [{ name: 'main', azure: { ...azureVault.azure, resourceId: undefined } }],
      },
      /every key vault must be an Azure vault with resourceId/,
    ],
    [
      'an unknown cloud',
      { store: { azure: { ...azureStore, cloud: 'AzureGermany' } } },
      /Unsupported value: "AzureGermany"/,
    ],
    [
      'a subscription that is not a GUID',
      { store: { azure: { ...azureStore, subscriptionId: 'my-sub' } } },
      /subscriptionId/,
    ],
    [
      "a store service principal's clientSecretRef.name that is a path",
      {
        store: {
          azure: {
            ...azureStore,
            auth: {
              servicePrincipal: {
                tenantId: 't',
                clientId: 'c',
                clientSecretRef: { name: '../kube-system/sa-token', key: 'secret' },
              },
            },
          },
        },
      },
      /store\.azure\.auth\.servicePrincipal\.clientSecretRef\.name in body should match/,
    ],
    [
      'an azure store whose vault is a Managed HSM',
      {
        store: { azure: azureStore },
        keyVaults: [
          {
            name: 'main',
            azure: {
              ...azureVault.azure,
              vaultUrl: 'https://contoso.managedhsm.azure.net',
              resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/contoso`,
            },
          },
        ],
      },
      /a Managed HSM \(Microsoft\.KeyVault\/managedHSMs\) cannot hold the keys of an azure store/,
    ],
    [
      'two auth methods',
      { store: { azure: { ...azureStore, auth: { managedIdentity: {}, workloadIdentity: {} } } } },
      /auth must set exactly one of workloadIdentity, managedIdentity or servicePrincipal/,
    ],
  ])('refuses %s', async (_, spec, message) => {
    expect(await rejection(accounts(), object('IntegrationAccount', 'bad', spec))).toMatch(message);
  });

  const publicSpec = {
    integrationAccount: { name: 'contoso' },
    type: 'Public',
    certificate: { inline: pem },
  };

  it('accepts an azureName within ARM naming rules', async () => {
    const c = await client.create<{ spec: { azureName?: string } }>(
      certs(),
      object('Certificate', 'named', { ...publicSpec, azureName: 'Fabrikam_Signing.(2026)-v1' }),
    );
    expect(c.spec.azureName).toBe('Fabrikam_Signing.(2026)-v1');
  });

  it.each<[string, string, RegExp]>([
    ['a slash', 'a/b', /ARM's naming rules/],
    ['a trailing period', 'fabrikam.', /must not end in a period/],
    ['81 characters', 'a'.repeat(81), /spec\.azureName: Too long/],
  ])('refuses an azureName with %s', async (_, azureName, message) => {
    expect(
      await rejection(certs(), object('Certificate', 'bad', { ...publicSpec, azureName })),
    ).toMatch(message);
  });

  it('accepts a Certificate name longer than ARM allows: only an azure store refuses it (AzureNameTooLong)', async () => {
    // A kubernetes-store certificate may use any Kubernetes name; the azure store says
    // AzureNameTooLong at sync time (test/integration/azure-store.test.ts).
    await client.create(certs(), object('Certificate', 'a'.repeat(81), publicSpec));
  });
});
