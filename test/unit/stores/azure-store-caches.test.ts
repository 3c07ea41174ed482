// The azure store's caches stay the size of what is in use: one set of SDK clients per
// IntegrationAccount (not per spec it ever had), and prerequisites of one recheck interval.
// ARM itself is not reached: ArmRequests answers as ARM would (no sleeping, no network).
import { describe, expect, it } from 'vitest';
import type { IntegrationAccount } from '../../../src/api/types.ts';
import { createLogger } from '../../../src/operator/log.ts';
import { ArmRequests } from '../../../src/stores/azure/arm-requests.ts';
import { AzureStore } from '../../../src/stores/azure/azure-store.ts';
import { Prerequisites } from '../../../src/stores/azure/prerequisites.ts';
import type { AzureClients } from '../../../src/stores/azure/clients.ts';

const log = createLogger('error', {}, () => {});

/** Every integration account exists, sku Standard. */
class ArmWithAccounts extends ArmRequests {
  calls = 0;
  constructor() {
    super({ log });
  }
  override run<T>(): Promise<T> {
    this.calls++;
    return Promise.resolve({ id: 'id', location: 'westeurope', sku: { name: 'Standard' } } as T);
  }
}

function account(name: string, azureName: string, resourceGroup = 'rg'): IntegrationAccount {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name, namespace: 'b2b' },
    spec: {
      store: {
        azure: {
          subscriptionId: '00000000-0000-0000-0000-000000000000',
          resourceGroup,
          name: azureName,
          auth: { managedIdentity: {} },
        },
      },
    },
  };
}

describe('azure store caches', () => {
  it('keeps one connection and one set of cached checks per account however often its spec is edited', async () => {
    const requests = new ArmWithAccounts();
    const store = new AzureStore({
      log,
      recheckIntervalMs: 3_600_000,
      endpoints: {},
      readSecret: () => Promise.resolve(undefined),
      requests,
    });
    for (let edit = 0; edit < 20; edit++) {
      await store.accountInfo(account('contoso', `contoso-ia-${edit}`));
      await store.accountInfo(account('fabrikam', 'fabrikam-ia', `rg-${edit}`));
    }
    expect(store.cacheSizes).toEqual({ connections: 2, prerequisites: 2 });
    // The latest spec's check is cached: no ARM call for it again.
    const calls = requests.calls;
    await store.accountInfo(account('contoso', 'contoso-ia-19'));
    expect(requests.calls).toBe(calls);
    store.forgetAccount('b2b', 'contoso');
    expect(store.cacheSizes).toEqual({ connections: 1, prerequisites: 1 });
  });

  it('sweeps prerequisites nobody asked about for an interval', async () => {
    let now = 0;
    const prerequisites = new Prerequisites(new ArmWithAccounts(), 1_000, () => now);
    const clients = (name: string) =>
      ({ spec: account('a', name).spec.store!.azure! }) as unknown as AzureClients;
    for (let i = 0; i < 50; i++) {
      await prerequisites.account(clients(`ia-${i}`), `connection-${i}`);
      now += 100;
    }
    // One sweep an interval: at most two intervals' worth stay (here 10 asked an interval), not 50.
    expect(prerequisites.size).toBeLessThanOrEqual(20);
  });
});
