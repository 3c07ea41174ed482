// An account's vaults, one by one: a vault that cannot be used (a host outside the allow-list,
// e.g. a typo) is reported on the account's status.keyVaults and on the certificates that use
// it, while the account stays Ready and its other certificates keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { keyPair } from '../support/keys.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { expectNoEvent } from '../support/events.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  waitForCondition,
} from '../support/resources.ts';

const keyPem = keyPair('rsa2048', 11).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const privatePem = privateUsable({}, 11).pem;
const partnerPem = selfSigned('ec256').pem;
const TYPO_URL = 'https://contoso-kv.vault.azure.nte';

describe('one vault’s problem stays with the certificates that use it', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const getAccount = (name: string) =>
    admin.get<IntegrationAccount>(
      resourcePath(IntegrationAccountResource, { namespace: ns, name }),
    );
  const vaultStatus = (a: IntegrationAccount, name: string) =>
    a.status?.keyVaults?.find((v) => v.name === name);

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'account-vaults');
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'signing-key' },
      data: { 'tls.key': Buffer.from(keyPem).toString('base64') },
    });
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    });
    op = await startOperator(ns);
    // The tests start from a healthy account: a certificate created before the account's first
    // status waits for it (IntegrationAccountNotReady), which is not what they are about.
    await eventually(async () => {
      const a = await getAccount('contoso');
      return condition(a, 'Ready')?.status === 'True' ? a : undefined;
    }, 'account contoso Ready');
  });
  afterAll(async () => op?.stop());

  it('a new vault entry with a host that is not allowed takes down only the certificates that use it', async () => {
    await createCertificate(admin, ns, 'partner', { certificate: { inline: partnerPem } });
    await createCertificate(admin, ns, 'signing', {
      type: 'Private',
      certificate: { inline: privatePem },
      key: { vault: 'in-cluster', name: 'signing-key' },
    });
    const readyBefore = new Map<string, Certificate>();
    for (const name of ['partner', 'signing'])
      readyBefore.set(name, await waitForCondition(admin, ns, name, 'Ready', 'True'));

    // The user adds a vault with a typo in its host.
    await admin.patch(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      {
        spec: {
          keyVaults: [
            { name: 'in-cluster', kubernetes: {} },
            { name: 'typo', azure: { vaultUrl: TYPO_URL, auth: { managedIdentity: {} } } },
          ],
        },
      },
    );
    await createCertificate(admin, ns, 'typo-user', {
      type: 'Private',
      certificate: { inline: privatePem },
      key: { vault: 'typo', name: 'signing-key' },
    });

    // The vault's problem is on the certificate that uses it, with the vault's own reason...
    const typoUser = await waitForCondition(
      admin,
      ns,
      'typo-user',
      'Ready',
      'False',
      'VaultHostNotAllowed',
    );
    expect(condition(typoUser, 'KeyVaultAccessGranted')).toMatchObject({
      status: 'False',
      reason: 'VaultHostNotAllowed',
    });
    expect(condition(typoUser, 'Ready')?.message).toMatch(/contoso-kv\.vault\.azure\.nte/);

    // ...and on the account's status.keyVaults, while the account itself stays Ready.
    const account = await eventually(async () => {
      const a = await getAccount('contoso');
      return a.status?.observedGeneration === a.metadata.generation && vaultStatus(a, 'typo')
        ? a
        : undefined;
    }, 'status.keyVaults of the account');
    expect(vaultStatus(account, 'typo')).toMatchObject({
      reachable: false,
      reason: 'VaultHostNotAllowed',
    });
    expect(vaultStatus(account, 'typo')?.message).toMatch(
      /contoso-kv\.vault\.azure\.nte.*not an Azure Key Vault host/,
    );
    expect(condition(account, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(account, 'Ready')?.message).toMatch(/key vault typo/);
    expect(condition(account, 'Stalled')).toBeUndefined();

    // The other certificates never left Ready: no NotReady event (one could arrive late, so
    // watch for a while), same transition time.
    await expectNoEvent(admin, ns, { reason: 'IntegrationAccountNotReady' }, { quietMs: 1_500 });
    for (const [name, before] of readyBefore) {
      const now = await waitForCondition(admin, ns, name, 'Ready', 'True');
      expect(condition(now, 'Ready')?.lastTransitionTime, name).toBe(
        condition(before, 'Ready')?.lastTransitionTime,
      );
    }
  });

  it('reports the vault fixed on the account and its certificate once the user corrects the host', async () => {
    await admin.patch(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      {
        spec: {
          keyVaults: [
            { name: 'in-cluster', kubernetes: {} },
            { name: 'typo', kubernetes: {} },
          ],
        },
      },
    );
    await waitForCondition(admin, ns, 'typo-user', 'Ready', 'True');
    const account = await eventually(async () => {
      const a = await getAccount('contoso');
      const typo = vaultStatus(a, 'typo');
      return a.status?.observedGeneration === a.metadata.generation && typo?.reachable
        ? a
        : undefined;
    }, 'vault typo reachable');
    expect(condition(account, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(account, 'Ready')?.message).not.toMatch(/key vault typo/);
  });

  it('clears status.keyVaults when the user removes every vault, and then writes nothing', async () => {
    await admin.patch(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      { spec: { keyVaults: null } },
    );
    // the certificates that named a vault are no longer Ready: the account counts them
    for (const name of ['signing', 'typo-user'])
      await waitForCondition(admin, ns, name, 'Ready', 'False');
    const cleared = await eventually(async () => {
      const a = await getAccount('contoso');
      return a.status?.observedGeneration === a.metadata.generation && !a.status?.keyVaults
        ? a
        : undefined;
    }, 'status.keyVaults removed');
    expect(cleared.status?.keyVaults).toBeUndefined();
    // Steady: the status is not patched again and again (each patch is a new resourceVersion).
    const settled = await eventually(async () => {
      const before = (await getAccount('contoso')).metadata.resourceVersion;
      await new Promise((r) => setTimeout(r, 3_000));
      const after = await getAccount('contoso');
      return after.metadata.resourceVersion === before ? after : undefined;
    }, 'the account status settles');
    expect(settled.status?.keyVaults).toBeUndefined();
  });
});
