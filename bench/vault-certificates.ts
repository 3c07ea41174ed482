// make bench-vault: N Private certificates whose keys (K of them, shared) are in the Key Vault
// emulator, verified by the operator as a separate process. Prints the time to all Ready, the
// vault requests per distinct key version in the first and in a steady recheck interval, and
// the vault requests in the quiet period between convergence and the first recheck.
//   node bench/vault-certificates.ts [--count 1000] [--keys 10] [--recheck-seconds 300]
// It starts its own test environment, then runs itself again with the emulator's CA trusted
// (Node reads NODE_EXTRA_CA_CERTS at start-up only).
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import { NamespaceType, resourcePath } from '../src/kube/client.ts';
import { buildCertificate, name, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';
import { importKey } from '../test/support/vault-keys.ts';
import { installCrds, pool, readEnv, rerunInVaultTestenv, root } from './support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '10' },
    'recheck-seconds': { type: 'string', default: '300' },
    testenv: { type: 'string' },
  },
});
const N = Number(values.count);
const KEYS = Number(values.keys);
const RECHECK_S = Number(values['recheck-seconds']);
const NS = 'bench-vault';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function vaultRequests(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^b2b_keyvault_requests_total\{([^}]*)\} (\S+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const diff = (later: Map<string, number>, earlier: Map<string, number>) =>
  [...later]
    .map(([k, v]) => [k, v - (earlier.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k.replace(/operation="(\w+)",code="(\w+)"/, '$1 $2')}: ${v}`)
    .join(', ');

/** In the environment the test environment wrote: keys, certificates, operator, figures. */
async function measure(dir: string) {
  const vars = readEnv(dir);
  const admin = await installCrds(vars);
  await admin.create(resourcePath(NamespaceType), { metadata: { name: NS } });
  const vaultUrl = vars.B2B_TEST_VAULT_URL!;
  const keys = new KeyClient(vaultUrl, new ManagedIdentityCredential(), {
    disableChallengeResourceVerification: true,
  });
  const pems: string[] = [];
  for (let k = 0; k < KEYS; k++) {
    await importKey(keys, `bench-key-${k}`, keyPair('rsa2048', k).privateKey);
  }
  // Every certificate is its own (subject and serial), only the keys are shared.
  for (let i = 0; i < N; i++) {
    const pair = keyPair('rsa2048', i % KEYS);
    const serial = Buffer.from((0x100000 + i).toString(16), 'hex'); // DER: no leading zero byte
    pems.push(
      pem(
        buildCertificate({
          subjectKey: pair.publicKey,
          signingKey: pair.privateKey,
          subject: name([[['CN', `partner-${i}.example`]]]),
          serial,
          keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment'],
        }),
      ),
    );
  }

  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    join(root, 'node_modules/.bin/node'),
    [
      join(root, 'src/main.ts'),
      '--kubeconfig',
      vars.B2B_OPERATOR_KUBECONFIG!,
      '--watch-namespace',
      NS,
      `--metrics-bind-address=127.0.0.1:${port}`,
      '--health-probe-bind-address=127.0.0.1:0',
      `--recheck-interval=${RECHECK_S}s`,
      `--allowed-vault-hosts=${new URL(vaultUrl).host}`,
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    for (;;) {
      try {
        await vaultRequests(port);
        break;
      } catch {
        await sleep(100);
      }
    }
    const started = performance.now();
    await admin.create(resourcePath(IntegrationAccountResource, { namespace: NS }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'contoso' },
      spec: {
        keyVaults: [{ name: 'main', azure: { vaultUrl, auth: { managedIdentity: {} } } }],
      },
    });
    await pool(N, 4, (i) =>
      admin.create(resourcePath(CertificateResource, { namespace: NS }), {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name: `partner-${i}` },
        spec: {
          integrationAccount: { name: 'contoso' },
          type: 'Private',
          certificate: { inline: pems[i] },
          key: { vault: 'main', name: `bench-key-${i % KEYS}` },
        },
      }),
    );
    let ready = 0;
    while (ready < N) {
      await sleep(500);
      const list = await admin.list<{ items: Certificate[] }>(
        resourcePath(CertificateResource, { namespace: NS }),
      );
      ready = list.items.filter((c) =>
        c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
      ).length;
    }
    const readySeconds = (performance.now() - started) / 1000;
    const atReady = await vaultRequests(port);
    // Quiet: from all Ready until just before the first recheck can fall due.
    const quietSeconds = Math.max(0, RECHECK_S - readySeconds - 5);
    await sleep(quietSeconds * 1000);
    const afterQuiet = await vaultRequests(port);
    // The first interval (from the first create) and the next one, whole.
    await sleep(Math.max(0, RECHECK_S * 1000 - (performance.now() - started)));
    const firstInterval = await vaultRequests(port);
    await sleep(RECHECK_S * 1000);
    const secondInterval = await vaultRequests(port);

    const rows = [
      ['certificates / distinct keys', `${N} / ${KEYS} (each certificate its own, keys shared)`],
      ['recheck interval', `${RECHECK_S} s`],
      ['all Ready, from the first create', `${readySeconds.toFixed(1)} s`],
      ['vault requests until all Ready', `${total(atReady)} (${diff(atReady, new Map())})`],
      [
        'vault requests per key version, first interval',
        `${(total(firstInterval) / KEYS).toFixed(1)} (${diff(firstInterval, new Map())})`,
      ],
      [
        'vault requests per key version, next interval',
        `${((total(secondInterval) - total(firstInterval)) / KEYS).toFixed(1)} (${diff(secondInterval, firstInterval)})`,
      ],
      [
        `vault requests in the quiet ${quietSeconds.toFixed(0)} s after all Ready`,
        `${total(afterQuiet) - total(atReady)}`,
      ],
      ['machine', `${cpus().length} cores, Node ${process.version}`],
    ];
    console.log(
      `| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`,
    );
  } finally {
    child.kill('SIGTERM');
  }
}

if (values.testenv) {
  await measure(values.testenv);
} else {
  process.exitCode = rerunInVaultTestenv('b2b-bench-vault-');
}
