// Hostile input at scale, against the real API server and the operator as a process: every
// hostile source of test/support/hostile-cases.ts and the manifests at the schema's limits get
// their reason (or the API server's refusal), while 1,000 certificates share one Secret that
// changes every second; a healthy certificate applied meanwhile is Ready within 2 s.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/conditions.ts';
import { CertificateResource, type Certificate } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { hostileSources, needsSecret, type HostileSource } from '../support/hostile-cases.ts';
import { killAll, spawnOperator, waitForLog, type OperatorProcess } from '../support/process.ts';
import { createAccount, createCertificate } from '../support/resources.ts';

const SHARED = 1_000;
const HEALTHY_WITHIN_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pem = selfSigned('ec256').pem;
const long = (n: number, c = 'a') => c.repeat(n);

/** Objects at the schema's limits that the API server must refuse, and the words it uses. */
const refused: {
  what: string;
  kind: 'Certificate' | 'Secret';
  body: Record<string, unknown>;
  message: RegExp;
}[] = [
  {
    what: 'an inline certificate over 64 KiB',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: `${pem}${long(65_536, ' ')}` } } },
    message: /spec\.certificate\.inline: Too long: may not be (longer|more) than 65536/,
  },
  {
    what: 'a source Secret over 1 MiB',
    kind: 'Secret',
    body: { data: { 'tls.crt': Buffer.alloc(1024 * 1024 + 1, 0x41).toString('base64') } },
    message: /data: Too long: may not be more than 1048576 bytes/,
  },
  {
    what: 'a Certificate name of 254 characters',
    kind: 'Certificate',
    body: { metadata: { name: long(254) }, spec: { certificate: { inline: pem } } },
    message: /must be no more than 253 characters/,
  },
  {
    what: '65 metadata entries',
    kind: 'Certificate',
    body: {
      spec: {
        certificate: { inline: pem },
        metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
      },
    },
    message: /spec\.metadata: Too many: 65: must have at most 64 items/,
  },
  {
    what: 'a metadata value of 4,097 characters',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: pem }, metadata: { partner: long(4097) } } },
    message: /spec\.metadata\.partner: Too long/,
  },
  {
    what: 'a key name with a slash',
    kind: 'Certificate',
    body: {
      spec: {
        type: 'Private',
        certificate: { inline: pem },
        key: { vault: 'in-cluster', name: '../kube-system/x' },
      },
    },
    message: /spec\.key\.name: Invalid value/,
  },
  {
    what: 'a key version of 65 characters',
    kind: 'Certificate',
    body: {
      spec: {
        type: 'Private',
        certificate: { inline: pem },
        key: { vault: 'in-cluster', name: 'k', version: long(65) },
      },
    },
    message: /spec\.key\.version: Too long/,
  },
  {
    what: 'an expiryWarning that is no duration',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: pem }, expiryWarning: 'forever' } },
    message: /spec\.expiryWarning: Invalid value/,
  },
  {
    what: 'a type outside the enum',
    kind: 'Certificate',
    body: { spec: { type: 'Secret', certificate: { inline: pem } } },
    message: /spec\.type: Unsupported value: "Secret"/,
  },
  {
    what: 'a secretRef name of 254 characters',
    kind: 'Certificate',
    body: { spec: { certificate: { secretRef: { name: long(254) } } } },
    message: /spec\.certificate\.secretRef\.name: Too long/,
  },
  {
    what: 'an azureName of 81 characters',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: pem }, azureName: long(81) } },
    message: /spec\.azureName: Too long/,
  },
  {
    what: 'a Public certificate with a key',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: pem }, key: { vault: 'in-cluster', name: 'k' } } },
    message: /key must not be set when type is Public/,
  },
  {
    what: 'two certificate sources',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: pem, secretRef: { name: 's' } } } },
    message: /certificate must set exactly one of inline, secretRef, configMapRef or keyVault/,
  },
  {
    what: 'an empty inline certificate',
    kind: 'Certificate',
    body: { spec: { certificate: { inline: '' } } },
    message:
      /spec\.certificate\.inline: Invalid value: "": spec\.certificate\.inline in body should be at least 1 chars long/,
  },
];

/** Accepted manifests at the limits, and the reason each must get. */
const atLimits: { name: string; what: string; spec: Record<string, unknown>; reason: string }[] = [
  { name: long(253, 'n'), what: 'a Certificate name of 253 characters', spec: {}, reason: 'Ready' },
  {
    name: 'metadata-full',
    what: '64 metadata entries of 4,096 characters',
    spec: {
      metadata: Object.fromEntries(
        Array.from({ length: 64 }, (_, i) => [`k${i}`, long(4096, 'm')]),
      ),
    },
    reason: 'Ready',
  },
  {
    name: 'account-name-253',
    what: 'an account name of 253 characters',
    spec: { integrationAccount: { name: long(253, 'c') } },
    reason: 'Ready',
  },
  {
    name: 'secret-key-253',
    what: 'a secretRef key of 253 characters that the Secret lacks',
    spec: { certificate: { secretRef: { name: 'shared-source', key: long(253, 'k') } } },
    reason: 'CertificateSourceNotFound',
  },
  {
    name: 'expiry-warning-huge',
    what: 'an expiryWarning of 10^12 hours',
    spec: { expiryWarning: '1000000000000h' },
    reason: 'Ready',
  },
];

describe('hostile input at scale', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;
  const secrets = () => resourcePath(SecretType, { namespace: ns });
  const certificates = () => resourcePath(CertificateResource, { namespace: ns });
  const readyReason = (c: Certificate | undefined) =>
    c && c.status?.observedGeneration === c.metadata.generation
      ? findCondition(c.status?.conditions, 'Ready')?.reason
      : undefined;
  const list = async () => (await admin.get<{ items: Certificate[] }>(certificates())).items;
  /** Creates in batches of `parallel`. */
  const createAll = async (items: (() => Promise<unknown>)[], parallel = 16) => {
    for (let i = 0; i < items.length; i += parallel)
      await Promise.all(items.slice(i, i + parallel).map((f) => f()));
  };

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'hostile');
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    });
    await createAccount(admin, ns, long(253, 'c'));
    // Its own account: a Standard account's quota is 1,000 certificates.
    await createAccount(admin, ns, 'shared');
  });
  afterAll(() => killAll(op ? [op] : []));

  /** The case's source (inline, or a Secret when binary or large), key Secret and Certificate. */
  const createHostile = async (c: HostileSource) => {
    if (c.key)
      await admin
        .create(secrets(), {
          metadata: { name: c.key.name },
          stringData: { 'tls.key': c.key.keyPem },
        })
        .catch((err: Error) => {
          if (!/AlreadyExists/.test(err.message)) throw err;
        });
    if (needsSecret(c))
      await admin.create(secrets(), {
        metadata: { name: `source-${c.name}` },
        data: { 'tls.crt': Buffer.from(c.source).toString('base64') },
      });
    await createCertificate(admin, ns, c.name, {
      certificate: needsSecret(c)
        ? { secretRef: { name: `source-${c.name}` } }
        : { inline: c.source as string },
      ...(c.key
        ? { type: 'Private' as const, key: { vault: 'in-cluster', name: c.key.name } }
        : {}),
    });
  };

  it.each(refused.map((r) => [r.what, r] as const))('the API server refuses %s', async (_, r) => {
    const body =
      r.kind === 'Secret'
        ? { metadata: { name: 'too-large' }, ...r.body }
        : {
            apiVersion: 'integration.b2b.dev/v1alpha1',
            kind: 'Certificate',
            ...r.body,
            metadata: { name: 'refused', ...(r.body.metadata as object) },
            spec: {
              integrationAccount: { name: 'contoso' },
              type: 'Public',
              ...(r.body.spec as object),
            },
          };
    const path = r.kind === 'Secret' ? secrets() : certificates();
    await expect(admin.create(path, body)).rejects.toThrow(r.message);
  });

  it(`gives each of ${hostileSources.length + atLimits.length} hostile certificates its reason while ${SHARED} share a Secret that changes every second; a healthy one applied meanwhile is Ready within 2 s`, async () => {
    // The shared Secret rotates between three certificates, every second, throughout.
    const rotation = [0, 1, 2].map((slot) => selfSigned('ec256', {}, slot).pem);
    await admin.create(secrets(), {
      metadata: { name: 'shared-source' },
      stringData: { 'tls.crt': rotation[0] },
    });
    let rotating = true;
    let rotations = 0;
    const rotator = (async () => {
      while (rotating) {
        await sleep(1_000);
        await admin.patch(resourcePath(SecretType, { namespace: ns, name: 'shared-source' }), {
          stringData: { 'tls.crt': rotation[++rotations % 3] },
        });
      }
    })();
    const healthy = async (name: string, slot: number) => {
      const applied = Date.now();
      await createCertificate(admin, ns, name, {
        certificate: { inline: selfSigned('rsa2048', {}, slot).pem },
      });
      await eventually(
        async () => {
          const c = await admin.get<Certificate>(
            resourcePath(CertificateResource, { namespace: ns, name }),
          );
          return readyReason(c) === 'Ready' ? c : undefined;
        },
        `${name} to be Ready`,
        60_000,
        50,
      );
      return Date.now() - applied;
    };
    try {
      await createAll(hostileSources.map((c) => () => createHostile(c)));
      await createAll(
        atLimits.map(
          (c) => () =>
            createCertificate(admin, ns, c.name, { certificate: { inline: pem }, ...c.spec }),
        ),
      );
      // Named to come last in the operator's first list, after the hostile ones.
      await createAll(
        Array.from(
          { length: SHARED },
          (_, i) => () =>
            createCertificate(admin, ns, `zz-shared-${i}`, {
              integrationAccount: { name: 'shared' },
              certificate: { secretRef: { name: 'shared-source' } },
            }),
        ),
        32,
      );

      // The operator starts with all of them waiting, the Secret still changing.
      op = await spawnOperator({ namespace: ns });
      await waitForLog(op, 'reconciled', 60_000);
      const started = Date.now();
      const firstHealthyMs = await healthy('healthy-at-start', 7);

      const expected = new Map<string, string>([
        ...hostileSources.map((c) => [c.name, c.reason] as const),
        ...atLimits.map((c) => [c.name, c.reason] as const),
      ]);
      const mismatches = async () =>
        (await list())
          .filter((c) => expected.has(c.metadata.name))
          .filter((c) => readyReason(c) !== expected.get(c.metadata.name))
          .map(
            (c) =>
              `${c.metadata.name.slice(0, 40)}: ${readyReason(c) ?? 'none yet'} (want ${expected.get(c.metadata.name)}): ${findCondition(c.status?.conditions, 'Ready')?.message ?? ''}`,
          );
      const wrong = await eventually(
        async () => ((await mismatches()).length === 0 ? [] : undefined),
        'every hostile certificate to get its reason',
        120_000,
        1_000,
      ).catch(async (err: Error) => {
        const wrongOnes = await mismatches();
        const names = wrongOnes.map((w) => w.split(':')[0]!);
        const related = op!
          .logs()
          .filter((l) => names.some((n) => JSON.stringify(l).includes(n)))
          .slice(-10)
          .map((l) => JSON.stringify(l).slice(0, 400));
        return [err.message, ...wrongOnes, ...related];
      });
      expect(wrong).toEqual([]);
      const settledMs = Date.now() - started;

      const secondHealthyMs = await healthy('healthy-later', 8);
      const sharedReady = (await list()).filter(
        (c) => c.metadata.name.startsWith('zz-shared-') && readyReason(c) === 'Ready',
      ).length;
      // Peak resident memory of the operator process (the Helm chart's limit is 1 GiB).
      const peakKiB = Number(
        /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${op.pid}/status`, 'utf8'))?.[1],
      );
      console.log(
        JSON.stringify({
          hostile: expected.size,
          shared: SHARED,
          sharedReady,
          rotations,
          settledMs,
          firstHealthyMs,
          secondHealthyMs,
          peakMiB: Math.round(peakKiB / 1024),
        }),
      );
      expect(firstHealthyMs).toBeLessThan(HEALTHY_WITHIN_MS);
      expect(secondHealthyMs).toBeLessThan(HEALTHY_WITHIN_MS);
      expect(peakKiB).toBeLessThan(1024 * 1024);
      expect(op.child.exitCode).toBeNull();
      expect(op.logs().filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      rotating = false;
      await rotator;
    }
  }, 300_000);
});
