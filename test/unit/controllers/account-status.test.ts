// The account's status as data: Ready says the account is usable whatever its vaults do,
// status.keyVaults carries each vault's health, and lastCheckedTime moves only with a result.
import { describe, expect, it } from 'vitest';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import { evaluateCertificate } from '../../../src/controllers/certificate/evaluate.ts';
import { selfSigned } from '../../support/certs.ts';
import {
  buildAccountStatus,
  type VaultHealth,
} from '../../../src/controllers/integration-account/status.ts';
import { VaultHealthSchedule } from '../../../src/controllers/integration-account/vault-health.ts';
import type { VaultConnection } from '../../../src/vaults/verifier.ts';

const t0 = new Date('2026-11-26T10:00:00Z');
const later = new Date('2026-11-26T11:00:00Z');

const account = (status?: IntegrationAccount['status']): IntegrationAccount => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'b2b', generation: 2 },
  spec: {},
  ...(status ? { status } : {}),
});

const health = (over: Partial<VaultHealth> = {}): VaultHealth => ({
  name: 'main',
  reachable: true,
  reason: 'Reachable',
  message: '',
  checkedAt: t0,
  ...over,
});

describe('buildAccountStatus', () => {
  it('stays Ready with an unusable vault, naming it in the message and in status.keyVaults', () => {
    const status = buildAccountStatus({
      account: account(),
      certificates: [],
      vaults: [
        health(),
        health({ name: 'typo', reachable: false, reason: 'VaultHostNotAllowed', message: 'no' }),
      ],
      now: t0,
    });
    expect(status.conditions).toHaveLength(1);
    expect(status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True' });
    expect(status.conditions?.[0]?.message).toMatch(
      /not usable: key vault typo \(VaultHostNotAllowed\)/,
    );
    expect(status.keyVaults).toEqual([
      {
        name: 'main',
        reachable: true,
        reason: 'Reachable',
        message: '',
        lastCheckedTime: '2026-11-26T10:00:00Z',
      },
      {
        name: 'typo',
        reachable: false,
        reason: 'VaultHostNotAllowed',
        message: 'no',
        lastCheckedTime: '2026-11-26T10:00:00Z',
      },
    ]);
  });

  it('is not Ready with an azure store whose ARM account cannot be read, and has no status.azure', () => {
    const azureAccount: IntegrationAccount = {
      ...account(),
      spec: {
        store: {
          azure: {
            subscriptionId: '00000000-0000-0000-0000-000000000000',
            resourceGroup: 'b2b-rg',
            name: 'nope',
            auth: { managedIdentity: {} },
          },
        },
      },
    };
    const status = buildAccountStatus({
      account: azureAccount,
      certificates: [],
      vaults: [],
      now: t0,
      azureFailure: {
        reason: 'AzureAccountNotFound',
        message: 'the Azure integration account nope does not exist',
        terminal: true,
      },
    });
    expect(status.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'AzureAccountNotFound',
    });
    expect(status.conditions?.[0]?.message).toContain('nope does not exist');
    expect(status.azure).toBeUndefined();
    // A certificate of that account says the Azure account's own reason.
    const failure = evaluateCertificate({
      certificate: {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name: 'c', namespace: 'b2b' },
        spec: {
          integrationAccount: { name: 'contoso' },
          type: 'Public',
          certificate: { inline: 'x' },
        },
      },
      account: { ...azureAccount, status },
      quota: { rank: 0, quota: 1000 },
      source: { found: true, data: selfSigned('ec256').pem },
      now: new Date(),
      allowedVaultHosts: [],
    }).failure;
    expect(failure).toMatchObject({ reason: 'AzureAccountNotFound', waiting: true });
    expect(failure?.message).toContain('nope does not exist');
  });

  it('keeps Ready through a transient ARM failure once the Azure account was seen', () => {
    const seen = { id: '/subscriptions/x', location: 'westeurope', sku: 'Standard' };
    const before = account({ observedGeneration: 2, azure: seen });
    const status = buildAccountStatus({
      account: { ...before, spec: { store: { azure: {} as never } } },
      certificates: [],
      vaults: [],
      now: t0,
      azureFailure: { reason: 'StoreWriteFailed', message: 'ARM did not answer', terminal: false },
    });
    expect(status.conditions?.[0]).toMatchObject({ status: 'True' });
    expect(status.azure).toEqual(seen);
  });

  it('is not Ready once its ServiceAccount identity is gone, though the Azure account was seen', () => {
    const seen = { id: '/subscriptions/x', location: 'westeurope', sku: 'Standard' };
    const before = account({ observedGeneration: 2, azure: seen });
    for (const reason of ['ServiceAccountNotFound', 'ServiceAccountNotAnnotated']) {
      const status = buildAccountStatus({
        account: { ...before, spec: { store: { azure: {} as never } } },
        certificates: [],
        vaults: [],
        now: t0,
        azureFailure: { reason, message: `ServiceAccount b2b: ${reason}`, terminal: false },
      });
      expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason });
    }
  });

  it('keeps lastCheckedTime while the result is the same, and moves it when the result changes', () => {
    const first = buildAccountStatus({
      account: account(),
      certificates: [],
      vaults: [health()],
      now: t0,
    });
    const same = buildAccountStatus({
      account: account(first),
      certificates: [],
      vaults: [health({ checkedAt: later })],
      now: later,
    });
    expect(same).toEqual(first);
    const changed = buildAccountStatus({
      account: account(first),
      certificates: [],
      vaults: [
        health({
          checkedAt: later,
          reachable: false,
          reason: 'VaultUnavailable',
          message: 'ECONNREFUSED',
        }),
      ],
      now: later,
    });
    expect(changed.keyVaults?.[0]?.lastCheckedTime).toBe('2026-11-26T11:00:00Z');
  });
});

describe('VaultHealthSchedule', () => {
  const vault: VaultConnection = {
    name: 'main',
    kind: 'azure',
    vaultUrl: 'https://contoso-kv.vault.azure.net',
    extraHost: false,
    azureAuth: { managedIdentity: {} },
  };

  it('probes when first asked, on a changed entry, and when the recheck interval is due', async () => {
    let now = t0.getTime();
    let probes = 0;
    let reachable = true;
    const schedule = new VaultHealthSchedule({
      probe: () => {
        probes++;
        return Promise.resolve({
          reachable,
          reason: reachable ? 'Reachable' : 'VaultUnavailable',
          message: '',
        });
      },
      recheckIntervalMs: 3_600_000,
      unreachableRecheckMs: 60_000,
      now: () => new Date(now),
    });
    expect((await schedule.health('b2b', vault)).nextCheckInMs).toBe(3_600_000);
    now += 1_000;
    expect(await schedule.health('b2b', vault)).toMatchObject({ nextCheckInMs: 3_599_000 });
    expect(probes).toBe(1);
    await schedule.health('b2b', { ...vault, vaultUrl: 'https://fabrikam-kv.vault.azure.net' });
    expect(probes).toBe(2);
    now += 3_600_000;
    reachable = false;
    expect((await schedule.health('b2b', vault)).health.reachable).toBe(false);
    expect(probes).toBe(3);
    now += 30_000;
    expect((await schedule.health('b2b', vault)).nextCheckInMs).toBe(30_000);
    now += 30_000;
    await schedule.health('b2b', vault);
    expect(probes).toBe(4);
  });
});

describe('a certificate waiting on its account', () => {
  const certificate: Certificate = {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: 'partner', namespace: 'b2b', generation: 1, uid: 'u1' },
    spec: {
      integrationAccount: { name: 'contoso' },
      type: 'Public',
      certificate: { inline: selfSigned('ec256').pem },
    },
  };
  const evaluate = (status?: IntegrationAccount['status']) =>
    evaluateCertificate({
      certificate,
      account: account(status),
      quota: { rank: 0, quota: 1000 },
      source: { found: true, data: certificate.spec.certificate.inline! },
      now: new Date(),
      allowedVaultHosts: [],
    }).failure;

  it('carries the account’s own reason and message', () => {
    const failure = evaluate({
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'SomeAccountProblem',
          message: 'what is wrong with the account',
          lastTransitionTime: '2026-11-26T10:00:00Z',
        },
      ],
    });
    expect(failure).toMatchObject({ reason: 'IntegrationAccountNotReady', waiting: true });
    expect(failure?.message).toBe(
      'IntegrationAccount contoso is not Ready (SomeAccountProblem: what is wrong with the account); waiting for it',
    );
    expect(evaluate()).toMatchObject({ reason: 'Progressing', waiting: true });
    expect(evaluate()?.message).toMatch(/waiting for its first status/);
  });
});
