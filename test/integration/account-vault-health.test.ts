// status.keyVaults against the Key Vault emulator: each vault of an account is probed (token
// obtained through managed identity, one key list request) on a change of its entry and every
// recheck interval; an unreachable vault shows on the account without any Certificate, and a
// steady account costs no status writes.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationAccountResource, type IntegrationAccount } from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { WRITE_METHODS, startOperator, type RunningOperator } from '../support/operator.ts';
import { condition, createAccount } from '../support/resources.ts';
import { waitForEvent } from '../support/events.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const { vaultUrl } = testenv();
const RECHECK_MS = 3_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type KeyVaultStatus = NonNullable<NonNullable<IntegrationAccount['status']>['keyVaults']>[number];

describe.skipIf(!vaultUrl)('status.keyVaults: every vault of an account, probed', () => {
  const emulator = new URL(vaultUrl ?? 'https://localhost:1');
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  let laterPort: number;
  let laterUrl: string;
  const proxy = new TcpProxy('127.0.0.1', Number(emulator.port));
  const getAccount = () =>
    admin.get<IntegrationAccount>(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'probed' }),
    );
  const waitForVault = (name: string, want: (v: KeyVaultStatus) => boolean, what: string) =>
    eventually(
      async () => {
        const a = await getAccount();
        const v = a.status?.keyVaults?.find((k) => k.name === name);
        return v && want(v) ? { account: a, vault: v } : undefined;
      },
      `key vault ${name}: ${what}`,
      60_000,
    );
  const listKeysProbes = () => {
    const text = op.metrics.registry.metrics();
    return [
      ...text.matchAll(/b2b_keyvault_requests_total\{operation="listKeys",code="[^"]*"\} (\d+)/g),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  };

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'vault-health');
    laterPort = await freePort();
    laterUrl = `https://127.0.0.1:${laterPort}`;
    await createAccount(admin, ns, 'probed', {
      keyVaults: [
        { name: 'emulator', azure: { vaultUrl: vaultUrl!, auth: { managedIdentity: {} } } },
        { name: 'later', azure: { vaultUrl: laterUrl, auth: { managedIdentity: {} } } },
        { name: 'in-cluster', kubernetes: {} },
      ],
    });
    op = await startOperator(ns, {
      settings: {
        allowedVaultHosts: [emulator.host, `127.0.0.1:${laterPort}`],
        recheckIntervalMs: RECHECK_MS,
      },
    });
  });
  afterAll(async () => {
    await op?.stop();
    await proxy.stop();
  });

  it('shows a reachable vault and an unreachable one on the account, with no Certificate', async () => {
    const { account } = await waitForVault('later', (v) => v.reachable === false, 'unreachable');
    const vaults = account.status?.keyVaults ?? [];
    expect(
      vaults.map(({ lastCheckedTime, ...v }) => ({ ...v, checked: !!lastCheckedTime })),
    ).toEqual([
      { name: 'emulator', reachable: true, reason: 'Reachable', message: '', checked: true },
      {
        name: 'later',
        reachable: false,
        reason: 'VaultUnavailable',
        message: vaults[1]?.message,
        checked: true,
      },
      { name: 'in-cluster', reachable: true, reason: 'Reachable', message: '', checked: true },
    ]);
    expect(vaults[1]?.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${laterPort}.*ECONNREFUSED`));
    expect(condition(account, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(account, 'Ready')?.message).toMatch(/key vault later \(VaultUnavailable\)/);
  });

  it('probes every recheck interval and writes nothing while the results stay the same', async () => {
    await waitForVault('later', (v) => v.reachable === false, 'unreachable');
    const accountWrites = () =>
      op.requests.filter(
        (r) => WRITE_METHODS.has(r.method) && r.path.includes('/integrationaccounts/'),
      ).length;
    const writesBefore = accountWrites();
    const probesBefore = listKeysProbes();
    const before = (await getAccount()).status?.keyVaults;
    await new Promise((r) => setTimeout(r, 3 * RECHECK_MS));
    expect(listKeysProbes()).toBeGreaterThanOrEqual(probesBefore + 4); // 2 vaults, 2+ rounds
    expect(accountWrites()).toBe(writesBefore);
    expect((await getAccount()).status?.keyVaults).toEqual(before);
  });

  it('shows a host that answers but holds no vault, then the vault once it exists', async () => {
    const before = await waitForVault('later', (v) => v.reachable === false, 'unreachable');
    // The emulator behind a proxy on the vault's port: it answers, but knows no such vault.
    await proxy.start(laterPort);
    const noVault = await waitForVault(
      'later',
      (v) => /no key vault there/.test(v.message ?? ''),
      'no vault there',
    );
    expect(noVault.vault).toMatchObject({ reachable: false, reason: 'VaultUnavailable' });
    expect(noVault.vault.message).toMatch(/404/);
    expect(Date.parse(noVault.vault.lastCheckedTime!)).toBeGreaterThan(
      Date.parse(before.vault.lastCheckedTime!),
    );
    // Register the vault in the emulator under that address (its management API).
    const created = await fetch(`${emulator.origin}/management/vault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        baseUri: laterUrl,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      }),
    });
    expect(created.status, await created.text()).toBe(200);
    const { account } = await waitForVault('later', (v) => v.reachable, 'reachable');
    expect(condition(account, 'Ready')?.message).not.toMatch(/key vault later/);
    const probed = { kind: 'IntegrationAccount', name: 'probed' };
    const reachable = await waitForEvent(admin, ns, {
      ...probed,
      reason: 'Reachable',
      message: 'key vault later',
    });
    expect(reachable.message).toBe('key vault later is reachable');
    const unavailable = await waitForEvent(admin, ns, {
      ...probed,
      reason: 'VaultUnavailable',
      message: 'key vault later',
    });
    expect(unavailable.message).toMatch(/^key vault later: /);
  });
});
