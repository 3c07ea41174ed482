// A Kubernetes name may be longer than ARM allows for an integration account certificate:
// the azure store refuses it with its own reason before any ARM request, and no CEL rule
// refuses it for the certificates of a kubernetes store.
import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/reasons.ts';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import { silentLogger } from '../../../src/operator/log.ts';
import { AzureStore } from '../../../src/stores/azure/azure-store.ts';
import { StorePrerequisiteError } from '../../../src/stores/store.ts';

const store = new AzureStore({
  log: silentLogger,
  recheckIntervalMs: 60_000,
  // Nothing may be asked of ARM: a request to this endpoint fails the test with ECONNREFUSED.
  endpoints: { arm: 'https://127.0.0.1:9' },
  readSecret: () => Promise.reject(new Error('no Secret may be read')),
});
const account = {
  metadata: { name: 'contoso', namespace: 'b2b' },
  spec: {
    store: {
      azure: {
        subscriptionId: 's',
        resourceGroup: 'rg',
        name: 'ia',
        auth: { managedIdentity: {} },
      },
    },
  },
} as unknown as IntegrationAccount;
const certificate = (name: string, azureName?: string) =>
  ({
    metadata: { name, namespace: 'b2b', uid: 'u' },
    spec: { type: 'Public', ...(azureName ? { azureName } : {}) },
  }) as unknown as Certificate;

describe('the azure store and ARM names', () => {
  it('refuses a Certificate name over 80 characters without spec.azureName: AzureNameTooLong, terminal', async () => {
    const failure = await store
      .sync(account, { certificate: certificate('a'.repeat(81)), pem: '', metadata: {} })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StorePrerequisiteError);
    expect((failure as StorePrerequisiteError).reason).toBe(Reason.AzureNameTooLong);
    expect((failure as StorePrerequisiteError).terminal).toBe(true);
    expect((failure as Error).message).toMatch(/81 characters.*80.*spec\.azureName/);
  });
});
