// make bench-keyvault-polling: the cost of following Key Vault certificate renewals. N
// Certificates name M Key Vault certificates (N/M each) in the emulator; once all are Ready, the
// vault requests of W poll intervals are counted and printed per certificate per hour, at the
// poll interval of the run and scaled to the default 5m.
//   node bench/keyvault-polling.ts [--count 100] [--names 10] [--poll-seconds 10] [--intervals 6]
// It starts its own test environment, then runs itself again with the emulator's CA trusted.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import { NamespaceType, resourcePath } from '../src/kube/client.ts';
import { buildCertificate, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';
import { installCrds, pool, readEnv, rerunInVaultTestenv, root } from './support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100' },
    names: { type: 'string', default: '10' },
    'poll-seconds': { type: 'string', default: '10' },
    intervals: { type: 'string', default: '6' },
    testenv: { type: 'string' },
  },
});
const N = Number(values.count);
const NAMES = Number(values.names);
const POLL_S = Number(values['poll-seconds']);
const INTERVALS = Number(values.intervals);
const NS = 'bench-kv-polling';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function certificateRequests(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^b2b_keyvault_requests_total\{([^}]*)\} (\S+)$/gm))
    if (/operation="(getCertificate|listCertificateVersions)"/.test(m[1]!)) sum += Number(m[2]);
  return sum;
}

async function measure(dir: string) {
  const vars = readEnv(dir);
  const admin = await installCrds(vars);
  await admin.create(resourcePath(NamespaceType), { metadata: { name: NS } });
  const vaultUrl = vars.B2B_TEST_VAULT_URL!;
  const certificates = new CertificateClient(vaultUrl, new ManagedIdentityCredential(), {
    disableChallengeResourceVerification: true,
  });
  for (let k = 0; k < NAMES; k++) {
    const pair = keyPair('rsa2048', k);
    const cert = pem(
      buildCertificate({
        subjectKey: pair.publicKey,
        signingKey: pair.privateKey,
        keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment'],
      }),
    );
    const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
    // Lowkey Vault base64-decodes `value` whatever the content type.
    const value = Buffer.from(`${String(key)}${cert}`).toString('base64');
    await certificates.importCertificate(`bench-cert-${k}`, Buffer.from(value), {
      policy: { contentType: 'application/x-pem-file', issuerName: 'Self', subject: 'CN=x' },
    });
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
      `--keyvault-poll-interval=${POLL_S}s`,
      `--allowed-vault-hosts=${new URL(vaultUrl).host}`,
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    for (;;) {
      try {
        await certificateRequests(port);
        break;
      } catch {
        await sleep(100);
      }
    }
    await admin.create(resourcePath(IntegrationAccountResource, { namespace: NS }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'contoso' },
      spec: { keyVaults: [{ name: 'main', azure: { vaultUrl, auth: { managedIdentity: {} } } }] },
    });
    await pool(N, 4, (i) =>
      admin.create(resourcePath(CertificateResource, { namespace: NS }), {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name: `partner-${i}` },
        spec: {
          integrationAccount: { name: 'contoso' },
          type: 'Private',
          certificate: { keyVault: { vault: 'main', name: `bench-cert-${i % NAMES}` } },
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
    const before = await certificateRequests(port);
    await sleep(INTERVALS * POLL_S * 1000);
    const requests = (await certificateRequests(port)) - before;
    const perCertificateHour = (requests / N) * (3600 / (INTERVALS * POLL_S));
    const rows = [
      ['Certificates / Key Vault certificate names', `${N} / ${NAMES}`],
      ['poll interval', `${POLL_S} s`],
      ['measured', `${INTERVALS} intervals after all Ready: ${requests} certificate requests`],
      ['requests per name per interval', (requests / NAMES / INTERVALS).toFixed(2)],
      ['requests per certificate per hour, this interval', perCertificateHour.toFixed(2)],
      [
        'requests per certificate per hour, at the default 5m',
        (perCertificateHour * (POLL_S / 300)).toFixed(3),
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
  process.exitCode = rerunInVaultTestenv('b2b-bench-kv-polling-');
}
