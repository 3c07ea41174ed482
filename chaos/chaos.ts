// The chaos run: declares the workload of workload.ts on a control plane of hack/testenv.sh,
// breaks the operator, the API server, etcd and the vault while it converges, then checks what
// the cluster holds against what the workload deserves. `make chaos` runs it in full
// (chaos/run.ts), test/integration/chaos.test.ts in a short form.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import {
  EventType,
  KubeClient,
  NamespaceType,
  SecretType,
  isNotFound,
  resourcePath,
} from '../src/kube/client.ts';
import { pool } from '../bench/support.ts';
import { caBundle } from '../test/support/operator-process.ts';
import { KeyVaultErrors, VaultFaultProxy } from '../test/support/vault-proxy.ts';
import { importKey } from '../test/support/vault-keys.ts';
import { controlPlane, Fleet } from './fleet.ts';
import {
  checkDeletions,
  checkForeign,
  checkNoSecrets,
  checkQuiet,
  checkStore,
  checkVerdicts,
  secretNeedles,
  verdictOf,
  type Check,
  type Snapshot,
  type StoreSecret,
} from './checks.ts';
import {
  AZURE_VAULT,
  K8S_VAULT,
  MAIN_ACCOUNT,
  NAMESPACE,
  QUOTA_ACCOUNT,
  countBy,
  planWorkload,
  type PlannedCertificate,
} from './workload.ts';

export interface ChaosOptions {
  count: number;
  /** At least this many SIGKILLs of operator processes. */
  kills: number;
  /** Mean time between SIGKILLs while the faults last (uniform in 0.25..1.75 of it). */
  killIntervalSeconds: number;
  /** The share of random SIGKILLs that hit the leader (one more always does, at the outage). */
  leaderKillShare: number;
  apiserverRestarts: number;
  etcdRestarts: number;
  /** How long each control-plane component stays down. */
  downSeconds: number;
  vaultOutageSeconds: number;
  throttleSeconds: number;
  /** Watched after convergence: no object may be written meanwhile. */
  quietSeconds: number;
  convergeTimeoutSeconds: number;
  /** A control plane started by `hack/testenv.sh up` in this folder. */
  testenvDir: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
  vaultUrl: string;
  vaultCaFile: string;
  tokenAuthority: string;
  seed: number;
  log: (line: string) => void;
}

export interface FaultRecord {
  at: number;
  what: string;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  seconds: number;
  workload: Record<string, number>;
  faults: Record<string, number>;
  timeline: FaultRecord[];
  checks: Check[];
  passed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded PRNG (mulberry32): the same seed, the same fault moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Retries a request while the API server (or etcd behind it) is down. */
async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${String(err)}`);
      await sleep(500);
    }
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const at = () => Math.round((Date.now() - started) / 100) / 10;
  const timeline: FaultRecord[] = [];
  const faults: Record<string, number> = {};
  /** A step in the timeline. */
  const note = (what: string) => {
    timeline.push({ at: at(), what });
    o.log(`[${at().toFixed(1)} s] ${what}`);
  };
  /** A fault, counted by kind. */
  const record = (kind: string, what: string) => {
    faults[kind] = (faults[kind] ?? 0) + 1;
    note(what);
  };
  const rand = random(o.seed);
  const admin = KubeClient.load(o.adminKubeconfig);
  const workload = planWorkload(o.count);
  const certs = workload.certificates;
  const ns = NAMESPACE;
  const logDir = join(o.testenvDir, 'chaos-logs');
  mkdirSync(logDir, { recursive: true });
  o.log(`workload: ${JSON.stringify(countBy(certs, (c) => c.kind))}`);

  // The vault, behind a proxy that can make it unreachable or throttle it.
  const proxy = new VaultFaultProxy(o.vaultUrl, o.vaultCaFile);
  await proxy.start();
  const keys = new KeyClient(o.vaultUrl, new ManagedIdentityCredential(), {
    disableChallengeResourceVerification: true,
  });
  for (const [name, key] of workload.azureKeys) await importKey(keys, name, key);

  // Namespace, accounts, key and source Secrets, foreign Secrets.
  await admin.create(resourcePath(NamespaceType), { metadata: { name: ns } });
  const secrets = resourcePath(SecretType, { namespace: ns });
  const keySecrets = new Map(certs.flatMap((c) => c.keySecrets).map((k) => [k.name, k.keyPem]));
  for (const [name, keyPem] of keySecrets)
    await admin.create(secrets, { metadata: { name }, data: { 'tls.key': b64(keyPem) } });
  await pool(certs.filter((c) => c.sourceSecret).length, 4, async (i) => {
    const s = certs.filter((c) => c.sourceSecret)[i]!.sourceSecret!;
    await admin.create(secrets, { metadata: { name: s.name }, data: { 'tls.crt': b64(s.pem) } });
  });
  for (const f of workload.foreignSecrets)
    await admin.create(secrets, {
      metadata: { name: f.name, labels: f.labels },
      data: Object.fromEntries(Object.entries(f.data).map(([k, v]) => [k, b64(v)])),
    });
  const foreignBefore = await snapshotForeign(
    admin,
    workload.foreignSecrets.map((f) => f.name),
  );
  const accounts = resourcePath(IntegrationAccountResource, { namespace: ns });
  await admin.create(accounts, {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name: MAIN_ACCOUNT },
    spec: {
      sku: 'Standard',
      keyVaults: [
        { name: K8S_VAULT, kubernetes: {} },
        { name: AZURE_VAULT, azure: { vaultUrl: proxy.url, auth: { managedIdentity: {} } } },
      ],
    },
  });
  await admin.create(accounts, {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name: QUOTA_ACCOUNT },
    spec: { sku: 'Basic' },
  });

  // Two replicas with leader election, supervised.
  const fleet = new Fleet({
    replicas: 2,
    kubeconfig: o.operatorKubeconfig,
    namespace: ns,
    logDir,
    env: {
      NODE_EXTRA_CA_CERTS: caBundle([proxy.caFile, o.vaultCaFile]),
      AZURE_POD_IDENTITY_AUTHORITY_HOST: o.tokenAuthority,
    },
    args: [
      '--leader-elect',
      '--leader-election-namespace=b2b-system',
      `--leader-election-id=b2b-chaos-${randomBytes(3).toString('hex')}`,
      `--allowed-vault-hosts=${new URL(proxy.url).host}`,
      '--graceful-shutdown-timeout=5s',
      '--log-level=info',
    ],
    onEvent: (what) => record('operator exits (by itself)', what),
  });
  fleet.start();

  // SIGKILLs at random moments until the faults end, the leader about half the time.
  let killing = true;
  const kill = (leaderOnly = false) => {
    const leader = fleet.leader();
    const slot =
      leader !== undefined && (leaderOnly || rand() < o.leaderKillShare)
        ? leader
        : leader !== undefined
          ? 1 - leader
          : Math.floor(rand() * 2);
    const restartMs = Math.round(rand() * 2_000);
    if (fleet.kill(slot, restartMs)) {
      const role = slot === leader ? 'leader' : 'standby';
      record(
        `SIGKILL ${role}`,
        `SIGKILL operator ${slot} (${role}), restarted after ${restartMs} ms`,
      );
    }
  };
  const kills = () => (faults['SIGKILL leader'] ?? 0) + (faults['SIGKILL standby'] ?? 0);
  const killer = (async () => {
    while (killing) {
      const until = Date.now() + o.killIntervalSeconds * 1000 * (0.25 + rand() * 1.5);
      while (killing && Date.now() < until) await sleep(250);
      // Never while nobody leads, nor before a new leader led for a while: each failover
      // completes, and some work gets done between them.
      while (killing && fleet.leadingFor() < o.killIntervalSeconds * 1000) await sleep(500);
      if (killing) kill();
    }
  })();

  const restart = async (component: 'etcd' | 'kube-apiserver') => {
    record(component, `${component} stopped`);
    await controlPlane(o.testenvDir, 'stop', component);
    await sleep(o.downSeconds * 1000);
    await controlPlane(o.testenvDir, 'start', component);
    note(`${component} started again`);
  };

  // 1. Create, with the first API server restart in the middle.
  const certificates = resourcePath(CertificateResource, { namespace: ns });
  const body = (c: PlannedCertificate, spec: Record<string, unknown>) => ({
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: c.name },
    spec,
  });
  const create = (c: PlannedCertificate) =>
    retrying(`create ${c.name}`, async () => {
      try {
        await admin.create(certificates, body(c, c.spec));
      } catch (err) {
        if (!(err instanceof Error && /already exists|AlreadyExists/.test(err.message))) throw err;
      }
    });
  const first = certs.filter((c) => c.kind !== 'created-in-outage');
  const late = certs.filter((c) => c.kind === 'created-in-outage');
  let restarts: Promise<void> = Promise.resolve();
  await pool(first.length, 4, async (i) => {
    if (i === Math.floor(first.length / 2) && o.apiserverRestarts > 0)
      restarts = restart('kube-apiserver');
    await create(first[i]!);
  });
  await restarts;
  note(`${first.length} certificates created`);
  const beforeEdits = new Map(
    first.map((c) => [
      c.name,
      c.edit || c.deleted ? 'Ready' : c.kind === 'quota' ? '*' : c.verdict,
    ]),
  );
  await converge(admin, o, beforeEdits, note, 'created');

  // 2. Edits and deletions, with etcd and the API server stopped meanwhile.
  const edited = certs.filter((c) => c.edit);
  const deleted = certs.filter((c) => c.deleted);
  let outages: Promise<void> = Promise.resolve();
  await pool(edited.length, 4, async (i) => {
    if (i === Math.floor(edited.length / 2) && o.etcdRestarts > 0) outages = restart('etcd');
    const c = edited[i]!;
    await retrying(`edit ${c.name}`, () =>
      c.sourceSecret?.editedPem
        ? admin.patch(resourcePath(SecretType, { namespace: ns, name: c.sourceSecret.name }), {
            data: { 'tls.crt': b64(c.sourceSecret.editedPem) },
          })
        : admin.patch(resourcePath(CertificateResource, { namespace: ns, name: c.name }), {
            spec: c.editedSpec,
          }),
    );
  });
  await retrying('sku switch', () =>
    admin.patch(resourcePath(IntegrationAccountResource, { namespace: ns, name: QUOTA_ACCOUNT }), {
      spec: { sku: 'Standard' },
    }),
  );
  record('account sku switched', `account ${QUOTA_ACCOUNT}: sku Basic -> Standard`);
  await outages;
  await pool(deleted.length, 4, async (i) => {
    if (i === Math.floor(deleted.length / 2) && o.apiserverRestarts > 1)
      outages = restart('kube-apiserver');
    const c = deleted[i]!;
    await retrying(`delete ${c.name}`, async () => {
      try {
        await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: c.name }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  });
  await outages;
  note(
    `${edited.length} edited (${JSON.stringify(countBy(edited, (c) => c.edit!))}), ${deleted.length} deleted (${JSON.stringify(countBy(deleted, (c) => c.deletionPolicy))})`,
  );
  const finalVerdicts = new Map(certs.map((c) => [c.name, c.deleted ? 'gone' : c.verdict]));
  await converge(
    admin,
    o,
    new Map(first.map((c) => [c.name, finalVerdicts.get(c.name)!])),
    note,
    'edited',
  );

  // 3. The vault unreachable, then throttling; the store keeps the last good entries.
  const guarded = certs.filter((c) => !c.deleted && c.storeKey?.vault === AZURE_VAULT);
  const guardedBefore = await storeEntries(admin, guarded);
  let outageSamples = 0;
  const outageViolations: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      await sleep(2_000);
      try {
        const now = await storeEntries(admin, guarded);
        outageSamples++;
        for (const [name, entry] of guardedBefore)
          if (now.get(name) !== entry) outageViolations.push(`${name} at ${at()} s`);
      } catch {
        // the API server itself is not down in this phase; a failed sample is just skipped
      }
    }
  })();
  record(
    'vault unreachable',
    `vault unreachable (connections reset) for ${o.vaultOutageSeconds} s`,
  );
  const resetBefore = proxy.requests.filter((r) => r.status === 'reset').length;
  proxy.fault = () => ({ reset: true });
  // Certificates for a new key need the vault now; a third into the outage the leader is
  // killed: its successor has no verdicts cached and asks the vault again.
  for (const c of late) await create(c);
  note(`${late.length} Private certificates created for a key no verdict is cached for`);
  await sleep((o.vaultOutageSeconds * 1000) / 3);
  kill(true);
  await sleep((o.vaultOutageSeconds * 1000 * 2) / 3);
  const resets = proxy.requests.filter((r) => r.status === 'reset').length - resetBefore;
  record(
    '429 storm',
    `vault answers 429 (Retry-After: 1) to 80% of requests for ${o.throttleSeconds} s`,
  );
  proxy.fault = () => (rand() < 0.8 ? KeyVaultErrors.throttled(1) : undefined);
  await sleep(o.throttleSeconds * 1000);
  proxy.fault = () => undefined;
  const throttled = proxy.requests.filter((r) => r.status === 429).length;
  note(`vault healthy again (${resets} requests reset, ${throttled} answered 429)`);
  watching = false;
  await watcher;

  // 4. The remaining kills, then an end to the faults.
  while (kills() < o.kills) {
    kill();
    await sleep(1_000 + rand() * 2_000);
  }
  killing = false;
  await killer;
  note('faults end');
  const converged = await converge(admin, o, finalVerdicts, note, 'final');
  // Give restarted standbys time to settle before watching for writes.
  await sleep(3_000);
  const quietBefore = await snapshot(admin);
  await sleep(o.quietSeconds * 1000);
  const quietAfter = await snapshot(admin);

  // 5. The checks.
  const list = await admin.list<{ items: Certificate[] }>(certificates);
  const storeSecrets = await admin.list<{ items: StoreSecret[] }>(secrets, {
    labelSelector: 'integration.b2b.dev/certificate',
  });
  const events = await admin.list<{ items: unknown[] }>(resourcePath(EventType, { namespace: ns }));
  const accountList = await admin.list<{ items: { status?: unknown }[] }>(accounts);
  const foreignAfter = await snapshotForeign(
    admin,
    workload.foreignSecrets.map((f) => f.name),
  );
  await fleet.stop();
  await proxy.stop();
  const needles = secretNeedles(workload.privateKeys, [
    readFileSync(join(o.testenvDir, 'pki/operator.key'), 'utf8'),
    readFileSync(join(o.testenvDir, 'pki/admin.key'), 'utf8'),
  ]);
  const token = await emulatorToken(o.tokenAuthority);
  if (token) needles.push({ what: 'the managed-identity access token', text: token });
  const ghostNames = new Set(workload.foreignSecrets.map((f) => f.name));
  const ownStore = storeSecrets.items.filter((s) => !ghostNames.has(s.metadata.name));
  const checks: Check[] = [
    checkVerdicts(certs, list.items, converged),
    ...checkStore(certs, ownStore),
    checkDeletions(certs, list.items),
    checkForeign(foreignBefore, foreignAfter),
    checkQuiet(quietBefore, quietAfter, o.quietSeconds),
    {
      name: 'last good store entry survived every vault outage',
      pass:
        outageViolations.length === 0 && outageSamples > 0 && guardedBefore.size > 0 && resets > 0,
      detail: `${resets} vault requests failed during the outage; ${guardedBefore.size} entries of Private certificates in the Key Vault watched in ${outageSamples} samples over ${o.vaultOutageSeconds + o.throttleSeconds} s: ${outageViolations.length} missing or changed${outageViolations.length ? ` (${outageViolations.slice(0, 5).join(', ')})` : ''}`,
    },
    checkNoSecrets(needles, [
      ...fleet.logFiles.map((f) => ({ where: `log ${f}`, text: readFileSync(f, 'utf8') })),
      { where: 'events', text: JSON.stringify(events.items) },
      { where: 'certificate statuses', text: JSON.stringify(list.items.map((c) => c.status)) },
      { where: 'account statuses', text: JSON.stringify(accountList.items.map((a) => a.status)) },
      {
        where: 'store entries',
        text: JSON.stringify(
          ownStore.map((s) => ({
            metadata: s.metadata,
            data: Object.fromEntries(
              Object.entries(s.data ?? {}).map(([k, v]) => [
                k,
                Buffer.from(v, 'base64').toString(),
              ]),
            ),
          })),
        ),
      },
    ]),
  ];
  faults['vault requests reset'] = resets;
  faults['vault requests answered 429'] = throttled;
  faults['operator processes started'] = fleet.logFiles.length;
  return {
    options: { ...o, log: undefined } as Omit<ChaosOptions, 'log'>,
    seconds: Math.round((Date.now() - started) / 1000),
    workload: {
      certificates: certs.length,
      ...countBy(certs, (c) => c.kind),
      edited: edited.length,
      ...Object.fromEntries(
        Object.entries(countBy(edited, (c) => c.edit!)).map(([k, v]) => [`edit ${k}`, v]),
      ),
      'deleted (Delete)': deleted.filter((c) => !c.retained).length,
      'deleted (Retain)': deleted.filter((c) => c.retained).length,
      'foreign Secrets planted': workload.foreignSecrets.length,
    },
    faults,
    timeline,
    checks,
    passed: checks.every((c) => c.pass),
  };
}

/** Each guarded certificate's store entry (tls.crt and key.json), by certificate name. */
async function storeEntries(
  admin: KubeClient,
  guarded: PlannedCertificate[],
): Promise<Map<string, string>> {
  const list = await admin.list<{ items: StoreSecret[] }>(
    resourcePath(SecretType, { namespace: NAMESPACE }),
    { labelSelector: 'integration.b2b.dev/certificate' },
  );
  const byName = new Map(list.items.map((s) => [s.metadata.name, s]));
  const out = new Map<string, string>();
  for (const c of guarded) {
    const s = byName.get(`${c.name}-b2bcert`);
    if (s) out.set(c.name, `${s.data?.['tls.crt']}|${s.data?.['key.json']}`);
  }
  return out;
}

async function snapshotForeign(admin: KubeClient, names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of names) {
    const s = await retrying(`read ${name}`, async () => {
      try {
        return await admin.get<StoreSecret>(
          resourcePath(SecretType, { namespace: NAMESPACE, name }),
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    out.set(
      name,
      s
        ? JSON.stringify({
            resourceVersion: s.metadata.resourceVersion,
            labels: s.metadata.labels,
            annotations: s.metadata.annotations ?? {},
            ownerReferences: s.metadata.ownerReferences ?? [],
            data: s.data,
          })
        : 'deleted',
    );
  }
  return out;
}

/** resourceVersions of every object the operator writes, in the chaos namespace. */
async function snapshot(admin: KubeClient): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const [kind, path] of [
    ['Certificate', resourcePath(CertificateResource, { namespace: NAMESPACE })],
    ['IntegrationAccount', resourcePath(IntegrationAccountResource, { namespace: NAMESPACE })],
    ['Secret', resourcePath(SecretType, { namespace: NAMESPACE })],
    ['Event', resourcePath(EventType, { namespace: NAMESPACE })],
  ] as const) {
    const list = await retrying(`list ${kind}`, () =>
      admin.list<{ items: { metadata: { name: string; resourceVersion?: string } }[] }>(path),
    );
    for (const item of list.items)
      out.set(`${kind}/${item.metadata.name}`, item.metadata.resourceVersion ?? '');
  }
  return out;
}

/**
 * Polls until every certificate shows its expected Ready reason at its current generation
 * ('gone': deleted; '*': anything). Returns whether it got there within the timeout.
 */
async function converge(
  admin: KubeClient,
  o: ChaosOptions,
  expected: Map<string, string>,
  say: (what: string) => void,
  phase: string,
): Promise<boolean> {
  const deadline = Date.now() + o.convergeTimeoutSeconds * 1000;
  let missing: string[] = [];
  while (Date.now() < deadline) {
    try {
      const list = await admin.list<{ items: Certificate[] }>(
        resourcePath(CertificateResource, { namespace: NAMESPACE }),
      );
      const seen = new Map(list.items.map((c) => [c.metadata.name, c]));
      missing = [];
      for (const [name, want] of expected) {
        const c = seen.get(name);
        if (want === 'gone') {
          if (c) missing.push(`${name}: still there`);
          continue;
        }
        if (want === '*') continue;
        const got = verdictOf(c);
        if (got !== want) missing.push(`${name}: ${got} (want ${want})`);
      }
      if (missing.length === 0) {
        say(`converged (${phase})`);
        return true;
      }
    } catch {
      // the API server may be down
    }
    await sleep(2_000);
  }
  say(
    `NOT converged (${phase}) after ${o.convergeTimeoutSeconds} s: ${missing.length} left, e.g. ${missing.slice(0, 5).join('; ')}`,
  );
  return false;
}

/** The token the emulator's managed-identity endpoint hands out (it must appear nowhere). */
async function emulatorToken(authority: string): Promise<string | undefined> {
  try {
    const r = await fetch(
      `${authority}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://vault.azure.net')}`,
      { headers: { Metadata: 'true' } },
    );
    const body = (await r.json()) as { access_token?: string };
    return body.access_token;
  } catch {
    return undefined;
  }
}
