// The account reconciler over plain data: a status field the account no longer has is removed
// by the patch (a merge patch keeps what it does not name), so a steady account costs no
// writes; one vault whose service principal Secret cannot be read is that vault's problem, not
// a reconcile that writes no status at all.
import { describe, expect, it } from 'vitest';
import type { IntegrationAccount } from '../../../src/api/types.ts';
import {
  IntegrationAccountReconciler,
  type AccountReconcilerDeps,
} from '../../../src/controllers/integration-account/reconciler.ts';
import { VaultHealthSchedule } from '../../../src/controllers/integration-account/vault-health.ts';
import { KubeApiError, type KubeClient } from '../../../src/kube/client.ts';
import type { EventRecorder } from '../../../src/operator/events.ts';
import { probeAccountVault } from '../../../src/vaults/azure/reachability.ts';
import { mergePatch } from '../../support/merge-patch.ts';

const now = new Date('2026-02-01T00:00:00Z');

/** An account held in memory; status patches are merged into it and counted. */
function accountApi(initial: IntegrationAccount) {
  const state = { account: initial, patches: [] as unknown[] };
  const client = {
    patch: (_path: string, body: { status: unknown }) => {
      state.patches.push(body);
      state.account = mergePatch(state.account, body) as IntegrationAccount;
      return Promise.resolve(state.account);
    },
  } as unknown as KubeClient;
  const events = { record: () => Promise.resolve() } as unknown as EventRecorder;
  return { state, client, events };
}

/** The reconciler over `accountApi`'s account, no certificates, no vault hosts; `deps` adds more. */
function reconcilerOf(
  api: Pick<ReturnType<typeof accountApi>, 'state' | 'client' | 'events'>,
  deps: Partial<AccountReconcilerDeps> = {},
) {
  return new IntegrationAccountReconciler({
    client: api.client,
    account: () => api.state.account,
    certificatesOf: () => [],
    events: api.events,
    allowedVaultHosts: [],
    now: () => now,
    ...deps,
  });
}

describe('IntegrationAccountReconciler', () => {
  it('clears status.keyVaults when the last vault is removed, then writes nothing more', async () => {
    const { state, client, events } = accountApi({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'acc', namespace: 'ns', generation: 2 },
      spec: {},
      status: {
        observedGeneration: 1,
        storeType: 'kubernetes',
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Ready',
            message: 'the account is ready',
            observedGeneration: 1,
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
        certificates: { total: 0, ready: 0, quota: 500 },
        keyVaults: [
          {
            name: 'old',
            reachable: true,
            reason: 'Reachable',
            message: '',
            lastCheckedTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    });
    const reconciler = reconcilerOf({ state, client, events });
    for (let i = 0; i < 3; i++) await reconciler.reconcile('ns/acc');
    expect(state.account.status?.keyVaults).toBeUndefined();
    expect(state.patches).toHaveLength(1);
  });

  it('retries an Azure account ARM cannot tell about yet with backoff, not at the hourly recheck', async () => {
    const { state, client, events } = accountApi({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'acc', namespace: 'ns', generation: 1 },
      spec: {
        store: {
          azure: {
            subscriptionId: '00000000-0000-0000-0000-000000000000',
            resourceGroup: 'rg',
            name: 'ia',
            auth: { managedIdentity: {} },
          },
        },
      },
    });
    let arm: 'silent' | 'answers' = 'silent';
    const reconciler = reconcilerOf(
      { state, client, events },
      {
        recheckIntervalMs: 3_600_000,
        azureAccount: () =>
          arm === 'silent'
            ? Promise.reject(new Error('no answer from Azure Resource Manager within 2 s'))
            : Promise.resolve({ id: 'id', location: 'westeurope', sku: 'Standard' }),
      },
    );
    // The failure is in status, and the reconcile fails: the controller retries it with backoff.
    await expect(reconciler.reconcile('ns/acc')).rejects.toThrow(/no answer from Azure/);
    expect(state.account.status?.conditions?.[0]).toMatchObject({ status: 'False' });
    expect(state.patches).toHaveLength(1);
    await expect(reconciler.reconcile('ns/acc')).rejects.toThrow(); // same status: no write
    expect(state.patches).toHaveLength(1);
    arm = 'answers';
    expect(await reconciler.reconcile('ns/acc')).toEqual({ requeueAfterMs: 3_600_000 });
  });

  it("turns an unreadable service principal Secret into that vault's entry", async () => {
    const { state, client, events } = accountApi({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'acc', namespace: 'ns', generation: 1 },
      spec: {
        keyVaults: [
          { name: 'local', kubernetes: {} },
          {
            name: 'bad',
            azure: {
              vaultUrl: 'https://x.vault.azure.net',
              auth: {
                servicePrincipal: {
                  tenantId: 't',
                  clientId: 'c',
                  clientSecretRef: { name: 'sp', key: 'k' },
                },
              },
            },
          },
        ],
      },
    });
    const reconciler = reconcilerOf(
      { state, client, events },
      {
        vaultProbes: new VaultHealthSchedule({
          probe: (namespace, vault) =>
            probeAccountVault(namespace, vault, () =>
              Promise.reject(
                new KubeApiError(
                  403,
                  { reason: 'Forbidden', message: 'secrets "sp" is forbidden' },
                  'GET secret sp',
                ),
              ),
            ),
          recheckIntervalMs: 3_600_000,
          now: () => now,
        }),
      },
    );
    await reconciler.reconcile('ns/acc');
    expect(state.patches).toHaveLength(1);
    const vaults = state.account.status?.keyVaults ?? [];
    expect(vaults.map((v) => [v.name, v.reachable])).toEqual([
      ['local', true],
      ['bad', false],
    ]);
    expect(vaults[1]).toMatchObject({ reason: 'AuthenticationFailed' });
    expect(vaults[1]?.message).toMatch(/Secret sp.*namespace ns/);
  });
});
