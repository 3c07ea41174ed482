// One manifest per CEL rule of crds/ that breaks it: `b2b validate` must refuse each with the
// rule's message (test/unit/cli/crd-rules.test.ts), as the API server does
// (test/integration/cli-api-server.test.ts).
import { selfSigned } from './certs.ts';

const pem = selfSigned('ec256').pem;
const certificate = (spec: Record<string, unknown>) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name: 'c' },
  spec: { integrationAccount: { name: 'contoso' }, type: 'Public', ...spec },
});
const account = (spec: Record<string, unknown>) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'a' },
  spec,
});

const azureStore = {
  subscriptionId: '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345',
  resourceGroup: 'b2b-rg',
  name: 'contoso-ia',
  auth: { managedIdentity: {} },
};

export interface RuleCase {
  what: string;
  /** The rule, exactly as in the CRD. */
  rule: string;
  manifest: Record<string, unknown>;
}

export const ruleCases: RuleCase[] = [
  {
    what: 'a Private certificate without key',
    rule: "self.type != 'Private' || has(self.key) || has(self.certificate.keyVault)",
    manifest: certificate({ type: 'Private', certificate: { inline: pem } }),
  },
  {
    what: 'a rollover without a Key Vault certificate source',
    rule: '!has(self.rollover) || has(self.certificate.keyVault)',
    manifest: certificate({ certificate: { inline: pem }, rollover: { delay: '168h' } }),
  },
  {
    what: 'a Public certificate with a key',
    rule: "self.type != 'Public' || !has(self.key)",
    manifest: certificate({ certificate: { inline: pem }, key: { vault: 'main', name: 'k' } }),
  },
  {
    what: 'two certificate sources',
    rule: '[has(self.inline), has(self.secretRef), has(self.configMapRef), has(self.keyVault)].filter(x, x).size() == 1',
    manifest: certificate({ certificate: { inline: pem, secretRef: { name: 's' } } }),
  },
  {
    what: 'an inline and a Key Vault certificate source',
    rule: '[has(self.inline), has(self.secretRef), has(self.configMapRef), has(self.keyVault)].filter(x, x).size() == 1',
    manifest: certificate({
      certificate: { inline: pem, keyVault: { vault: 'main', name: 'c' } },
    }),
  },
  {
    what: 'no certificate source',
    rule: '[has(self.inline), has(self.secretRef), has(self.configMapRef), has(self.keyVault)].filter(x, x).size() == 1',
    manifest: certificate({ certificate: {} }),
  },
  {
    what: 'a store without a backend',
    rule: '[has(self.kubernetes), has(self.azure)].filter(x, x).size() == 1',
    manifest: account({ store: {} }),
  },
  {
    what: 'a store with two backends',
    rule: '[has(self.kubernetes), has(self.azure)].filter(x, x).size() == 1',
    manifest: account({ store: { kubernetes: {}, azure: azureStore } }),
  },
  {
    what: 'an azure store with a kubernetes vault',
    rule: '!has(self.store) || !has(self.store.azure) || !has(self.keyVaults) || self.keyVaults.all(v, has(v.azure) && has(v.azure.resourceId))',
    manifest: account({
      store: { azure: azureStore },
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    }),
  },
  {
    what: 'an azure store whose vault is a Managed HSM',
    rule: "!has(self.store) || !has(self.store.azure) || !has(self.keyVaults) || !self.keyVaults.exists(v, has(v.azure) && has(v.azure.resourceId) && v.azure.resourceId.lowerAscii().contains('/providers/microsoft.keyvault/managedhsms/'))",
    manifest: account({
      store: { azure: azureStore },
      keyVaults: [
        {
          name: 'hsm',
          azure: {
            vaultUrl: 'https://contoso.managedhsm.azure.net',
            resourceId:
              '/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/contoso',
            auth: { managedIdentity: {} },
          },
        },
      ],
    }),
  },
  {
    what: 'an azureName outside ARM naming rules',
    rule: "!has(self.azureName) || (self.azureName.matches('^[A-Za-z0-9_.()-]+$') && !self.azureName.endsWith('.'))",
    manifest: certificate({ certificate: { inline: pem }, azureName: 'fabrikam.' }),
  },
  {
    what: 'a vault that is both azure and kubernetes',
    rule: '[has(self.azure), has(self.kubernetes)].filter(x, x).size() == 1',
    manifest: account({
      keyVaults: [
        {
          name: 'main',
          kubernetes: {},
          azure: { vaultUrl: 'https://a.vault.azure.net', auth: { workloadIdentity: {} } },
        },
      ],
    }),
  },
  {
    what: 'two auth methods',
    rule: '[has(self.workloadIdentity), has(self.managedIdentity), has(self.servicePrincipal)].filter(x, x).size() == 1',
    manifest: account({
      keyVaults: [
        {
          name: 'main',
          azure: {
            vaultUrl: 'https://a.vault.azure.net',
            auth: { workloadIdentity: {}, managedIdentity: {} },
          },
        },
      ],
    }),
  },
];

/** Transition rules (oldSelf) apply to updates only; the API server skips them on create. */
export const transitionRules = ['self == oldSelf'];
