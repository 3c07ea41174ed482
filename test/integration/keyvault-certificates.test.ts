// A Key Vault certificate as a Certificate's source, against the Lowkey Vault emulator and
// driven as users do: objects applied with kubectl, the operator as its own process. The tests
// have a vault of their own in the emulator (its clock is moved by the time-shift API, which
// performs the AutoRenew renewals Key Vault would have made), reached through a TCP proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import type { Certificate } from '../../src/api/types.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { waitForEvent } from '../support/events.ts';
import { keyPair } from '../support/keys.ts';
import { kstatus, kubectl, succeeded } from '../support/kubectl.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { condition, getCertificate, kubectlApply, waitForCondition } from '../support/resources.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { NO_EMULATOR } from '../support/vault.ts';

const { vaultUrl: emulatorUrl, vaultCaFile } = testenv();
const WAIT_MS = 60_000;
const POLL_S = 2;
const DAY_S = 86_400;

const keyVaultCertificate = (name: string, source: string, type = 'Private') => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name },
  spec: {
    integrationAccount: { name: 'contoso' },
    type,
    certificate: { keyVault: { vault: 'main', name: source, version: '' } },
  },
});

/** A policy Key Vault renews by itself: 1 month, AutoRenew 27 days before expiry (~day 4). */
const renewingPolicy = (keyUsage: CertificatePolicy['keyUsage']): CertificatePolicy => ({
  issuerName: 'Self',
  subject: 'CN=fabrikam-signing',
  contentType: 'application/x-pkcs12', // Lowkey Vault requires secret_props
  keyType: 'RSA',
  keySize: 2048,
  reuseKey: false,
  keyUsage,
  validityInMonths: 1,
  lifetimeActions: [{ action: 'AutoRenew', daysBeforeExpiry: 27 }],
});

/** A PEM certificate's base64 body: the same DER whatever the line breaks. */
const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
const keyVersionOf = (kid: string | undefined) => kid?.split('/').pop();

describe.skipIf(!emulatorUrl)(
  `Key Vault certificates as the source (emulator)${emulatorUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let admin: KubeClient;
    let ns: string;
    let proxy: TcpProxy;
    let vaultUrl: string;
    let certificates: CertificateClient;
    let operator: OperatorProcess;
    const origin = new URL(emulatorUrl ?? 'https://localhost:1').origin;

    const management = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${origin}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      expect(res.status, `${method} ${path}: ${await res.text()}`).toBeLessThan(300);
    };
    /** Time passes in this vault only: the renewals that fell due are made. */
    const timeShift = (seconds: number) =>
      management(
        'PUT',
        `/management/vault/time?baseUri=${encodeURIComponent(vaultUrl)}&seconds=${seconds}`,
      );
    const storedKey = async (name: string) => {
      const s = await admin.get<{ data: Record<string, string> }>(
        resourcePath(SecretType, { namespace: ns, name: `${name}-b2bcert` }),
      );
      return {
        key: JSON.parse(Buffer.from(s.data['key.json']!, 'base64').toString()) as {
          name: string;
          version: string;
        },
        pem: Buffer.from(s.data['tls.crt']!, 'base64').toString(),
      };
    };
    const importPem = async (name: string, slot: number, keyUsage?: string[]) => {
      const cert = privateUsable(keyUsage ? { keyUsage } : {}, slot).pem;
      const key = keyPair('rsa2048', slot).privateKey.export({ type: 'pkcs8', format: 'pem' });
      // Lowkey Vault base64-decodes `value` whatever the content type (Azure takes PEM text).
      const value = Buffer.from(`${String(key)}${cert}`).toString('base64');
      const imported = await certificates.importCertificate(name, Buffer.from(value), {
        policy: { contentType: 'application/x-pem-file', issuerName: 'Self', subject: 'CN=x' },
      });
      return Object.assign(imported, { pem: cert });
    };
    const waitForVersion = (name: string, version: string): Promise<Certificate> =>
      eventually(
        async () => {
          const c = await getCertificate(admin, ns, name);
          return c?.status?.keyVaultCertificate?.version === version ? c : undefined;
        },
        `Certificate ${name} at Key Vault certificate version ${version}`,
        WAIT_MS,
      );

    beforeAll(async () => {
      admin = adminClient();
      ns = await createNamespace(admin, 'kv-certs');
      proxy = new TcpProxy('127.0.0.1', Number(new URL(emulatorUrl!).port));
      vaultUrl = `https://localhost:${await proxy.start()}`;
      await management('POST', '/management/vault', {
        baseUri: vaultUrl,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      });
      certificates = new CertificateClient(vaultUrl, new ManagedIdentityCredential(), {
        disableChallengeResourceVerification: true,
      });
      await kubectlApply(ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'IntegrationAccount',
        metadata: { name: 'contoso' },
        spec: {
          keyVaults: [{ name: 'main', azure: { vaultUrl, auth: { managedIdentity: {} } } }],
        },
      });
      operator = await startOperatorProcess(ns, {
        B2B_ALLOWED_VAULT_HOSTS: 'localhost',
        B2B_KEYVAULT_POLL_INTERVAL: `${POLL_S}s`,
        NODE_EXTRA_CA_CERTS: vaultCaFile!,
      });
    });
    afterAll(async () => {
      await operator?.stop();
      await proxy?.stop();
    });

    // First, while no other Certificate polls: the request count is this name's alone.
    it('Certificates naming the same Key Vault certificate (a Public one too) share one request per poll interval', async () => {
      const shared = await importPem('shared', 70);
      await kubectlApply(ns, keyVaultCertificate('shared-private', 'shared'));
      await kubectlApply(ns, keyVaultCertificate('shared-public', 'shared', 'Public'));
      for (const name of ['shared-private', 'shared-public']) {
        const c = await waitForCondition(admin, ns, name, 'Ready', 'True', undefined, WAIT_MS);
        expect(c.status?.keyVaultCertificate?.version).toBe(shared.properties.version);
      }
      const before = await operator.keyVaultRequests('getCertificate');
      const intervals = 5;
      await new Promise((resolve) => setTimeout(resolve, intervals * POLL_S * 1000));
      const requests = (await operator.keyVaultRequests('getCertificate')) - before;
      // Each Certificate comes back every interval; the second finds the first one's answer.
      expect(requests).toBeGreaterThanOrEqual(intervals - 2);
      expect(requests).toBeLessThanOrEqual(intervals + 1);
      const pub = await getCertificate(admin, ns, 'shared-public');
      expect(pub?.status?.key).toBeUndefined();
      expect((await storedKey('shared-private')).key.version).toBe(keyVersionOf(shared.keyId));
    });

    it('an imported PEM certificate is Ready with its own key, the key version of that certificate version', async () => {
      const imported = await importPem('imported', 71);
      await kubectlApply(ns, keyVaultCertificate('imported', 'imported'));
      const c = await waitForCondition(admin, ns, 'imported', 'Ready', 'True', undefined, WAIT_MS);
      const keyVersion = keyVersionOf(imported.keyId);
      expect(c.status?.key).toMatchObject({
        vaultUrl,
        name: 'imported',
        version: keyVersion,
        grants: ['list', 'get', 'decrypt', 'sign'],
      });
      expect(c.status?.keyVaultCertificate).toEqual({
        vault: 'main',
        name: 'imported',
        version: imported.properties.version,
      });
      expect(condition(c, 'RenewalReady')).toMatchObject({
        status: 'True',
        reason: 'LatestVersionSynced',
      });
      const stored = await storedKey('imported');
      expect(stored.key).toMatchObject({ vault: 'main', name: 'imported', version: keyVersion });
      expect(der(stored.pem)).toBe(der(imported.pem));
      expect(await operator.keyVaultRequests('getCertificate')).toBeGreaterThan(0);
    });

    it('an AutoRenew renewal (time shift) is synced with its new key version; a renewal without dataEncipherment is rejected and the last good version kept', async () => {
      const poller = await certificates
        .beginCreateCertificate(
          'auto',
          renewingPolicy(['digitalSignature', 'keyEncipherment', 'dataEncipherment']),
        )
        .catch((err: { response?: { bodyAsText?: string; body?: unknown }; details?: unknown }) => {
          throw new Error(
            `create: ${err.response?.bodyAsText ?? JSON.stringify(err.details ?? err.response?.body ?? null)}`,
          );
        });
      const v1 = await poller.pollUntilDone();
      await kubectlApply(ns, keyVaultCertificate('auto', 'auto'));
      const first = await waitForVersion('auto', v1.properties.version!);
      expect(first.status?.key?.version).toBe(keyVersionOf(v1.keyId));

      await timeShift(5 * DAY_S); // the renewal ~4 days after creation falls due
      const v2 = await certificates.getCertificate('auto');
      expect(v2.properties.version).not.toBe(v1.properties.version);
      expect(keyVersionOf(v2.keyId)).not.toBe(keyVersionOf(v1.keyId));
      const renewed = await waitForVersion('auto', v2.properties.version!);
      expect(renewed.status?.key?.version).toBe(keyVersionOf(v2.keyId));
      expect(condition(renewed, 'Ready')?.status).toBe('True');
      expect((await storedKey('auto')).key.version).toBe(keyVersionOf(v2.keyId));
      const event = await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'auto',
        reason: 'Renewed',
        type: 'Normal',
      });
      expect(event.message).toContain(`replaced version ${v1.properties.version!}`);

      // The policy loses Data Encipherment: the next renewal is made without it.
      await certificates.updateCertificatePolicy(
        'auto',
        renewingPolicy(['digitalSignature', 'keyEncipherment']),
      );
      await timeShift(5 * DAY_S);
      const v3 = await certificates.getCertificate('auto');
      expect(v3.properties.version).not.toBe(v2.properties.version);
      const rejected = await waitForCondition(
        admin,
        ns,
        'auto',
        'RenewalReady',
        'False',
        'MissingDataEncipherment',
        WAIT_MS,
      );
      expect(condition(rejected, 'RenewalReady')?.message).toContain(v3.properties.version!);
      expect(condition(rejected, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
      expect(kstatus(rejected)).toBe('Current'); // kstatus (Flux) reads Ready, Reconciling, Stalled
      expect(rejected.status?.keyVaultCertificate?.version).toBe(v2.properties.version);
      expect(rejected.status?.key?.version).toBe(keyVersionOf(v2.keyId));
      expect((await storedKey('auto')).key.version).toBe(keyVersionOf(v2.keyId));
      const warning = await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'auto',
        reason: 'RenewalRejected',
        type: 'Warning',
      });
      expect(warning.message).toMatch(/dataEncipherment|Data Encipherment/);
    });

    it('a disabled latest version is skipped: the previous enabled version is used', async () => {
      const v1 = await importPem('rolling', 72);
      await kubectlApply(ns, keyVaultCertificate('rolling', 'rolling'));
      await waitForVersion('rolling', v1.properties.version!);
      const v2 = await importPem('rolling', 73);
      await waitForVersion('rolling', v2.properties.version!);
      expect((await storedKey('rolling')).key.version).toBe(keyVersionOf(v2.keyId));

      await certificates.updateCertificateProperties('rolling', v2.properties.version!, {
        enabled: false,
      });
      const back = await waitForVersion('rolling', v1.properties.version!);
      expect(condition(back, 'Ready')?.status).toBe('True');
      expect(back.status?.key?.version).toBe(keyVersionOf(v1.keyId));
      const stored = await storedKey('rolling');
      expect(stored.key.version).toBe(keyVersionOf(v1.keyId));
      expect(der(stored.pem)).toBe(der(v1.pem));
    });

    it('a renewal to an EC key (a CA-issued version imported) is rejected: the last good RSA version stays', async () => {
      const v1 = await importPem('to-ec', 76);
      await kubectlApply(ns, keyVaultCertificate('to-ec', 'to-ec'));
      await waitForVersion('to-ec', v1.properties.version!);

      // An EC certificate's usages (the emulator derives an EC key's operations from them and
      // refuses encryption ones).
      const ecCert = selfSigned(
        'ec256',
        { keyUsage: ['digitalSignature', 'keyAgreement'] },
        77,
      ).pem;
      const ecKey = keyPair('ec256', 77).privateKey.export({ type: 'pkcs8', format: 'pem' });
      const v2 = await certificates.importCertificate(
        'to-ec',
        Buffer.from(Buffer.from(`${String(ecKey)}${ecCert}`).toString('base64')),
        {
          policy: {
            contentType: 'application/x-pem-file',
            issuerName: 'Self',
            subject: 'CN=x',
            keyType: 'EC',
            keyCurveName: 'P-256',
          },
        },
      );
      expect(v2.properties.version).not.toBe(v1.properties.version);
      const rejected = await waitForCondition(
        admin,
        ns,
        'to-ec',
        'RenewalReady',
        'False',
        'UnsupportedKeyAlgorithm',
        WAIT_MS,
      );
      expect(condition(rejected, 'RenewalReady')?.message).toContain(v2.properties.version!);
      expect(condition(rejected, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
      expect(rejected.status?.keyVaultCertificate?.version).toBe(v1.properties.version);
      const stored = await storedKey('to-ec');
      expect(stored.key.version).toBe(keyVersionOf(v1.keyId));
      expect(der(stored.pem)).toBe(der(v1.pem));
      await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'to-ec',
        reason: 'RenewalRejected',
        type: 'Warning',
      });
    });

    it('spec.rollover.delay: a valid new version is pending (status.pending, RolloverScheduled), then switched at its time; rollover-now switches at once', async () => {
      const staged = (name: string, delay: string) => ({
        ...keyVaultCertificate(name, 'staged'),
        spec: { ...keyVaultCertificate(name, 'staged').spec, rollover: { delay } },
      });
      const v1 = await importPem('staged', 74);
      await kubectlApply(ns, staged('staged-short', '8s'));
      await kubectlApply(ns, staged('staged-long', '1h'));
      await waitForVersion('staged-short', v1.properties.version!);
      await waitForVersion('staged-long', v1.properties.version!);

      const v2 = await importPem('staged', 75);
      const importedAt = Date.now();
      const pending = await eventually(
        async () => {
          const c = await getCertificate(admin, ns, 'staged-short');
          return c?.status?.pending?.version === v2.properties.version ? c : undefined;
        },
        'staged-short pending v2',
        WAIT_MS,
      );
      expect(condition(pending, 'Ready')?.status).toBe('True');
      expect(condition(pending, 'RenewalReady')).toMatchObject({
        status: 'False',
        reason: 'RolloverScheduled',
      });
      expect(pending.status?.pending?.thumbprint).toMatch(/^[0-9A-F]{40}$/);
      expect(
        Date.parse(pending.status!.pending!.switchTime!) -
          Date.parse(pending.status!.pending!.seenTime!),
      ).toBe(8000);
      expect((await storedKey('staged-short')).key.version).toBe(keyVersionOf(v1.keyId));
      await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'staged-short',
        reason: 'RolloverScheduled',
        type: 'Normal',
      });

      const switched = await waitForVersion('staged-short', v2.properties.version!);
      expect(Date.now() - importedAt).toBeGreaterThanOrEqual(8000);
      expect(switched.status?.pending).toBeUndefined();
      expect((await storedKey('staged-short')).key.version).toBe(keyVersionOf(v2.keyId));

      const long = await getCertificate(admin, ns, 'staged-long');
      expect(long?.status?.pending?.version).toBe(v2.properties.version);
      const series = `b2b_certificate_rollover_timestamp_seconds{namespace="${ns}",name="staged-long"} ${Date.parse(long!.status!.pending!.switchTime!) / 1000}`;
      expect(await operator.metrics()).toContain(series);
      expect((await storedKey('staged-long')).key.version).toBe(keyVersionOf(v1.keyId));
      succeeded(
        await kubectl([
          '-n',
          ns,
          'annotate',
          'b2bcert',
          'staged-long',
          'integration.b2b.dev/rollover-now=yes',
        ]),
      );
      const now = await waitForVersion('staged-long', v2.properties.version!);
      expect(now.status?.pending).toBeUndefined();
      expect(await operator.metrics()).not.toContain(
        `b2b_certificate_rollover_timestamp_seconds{namespace="${ns}",name="staged-long"}`,
      );
      expect((await storedKey('staged-long')).key.version).toBe(keyVersionOf(v2.keyId));
    });

    // Last: its time shift renews every AutoRenew certificate of this vault.
    it('the vault down during a renewal: the store keeps the last good version, and the renewal is caught up when the vault is back', async () => {
      const v1 = await (
        await certificates.beginCreateCertificate(
          'outage',
          renewingPolicy(['digitalSignature', 'keyEncipherment', 'dataEncipherment']),
        )
      ).pollUntilDone();
      await kubectlApply(ns, keyVaultCertificate('outage', 'outage'));
      await waitForVersion('outage', v1.properties.version!);

      proxy.outage(); // the operator cannot reach the vault; the management API still can
      await timeShift(5 * DAY_S);
      const down = await waitForCondition(
        admin,
        ns,
        'outage',
        'Ready',
        'False',
        'VaultUnavailable',
        WAIT_MS,
      );
      expect(condition(down, 'Reconciling')?.status).toBe('True');
      expect(down.status?.keyVaultCertificate?.version).toBe(v1.properties.version);
      expect((await storedKey('outage')).key.version).toBe(keyVersionOf(v1.keyId));

      proxy.restore();
      const v2 = await certificates.getCertificate('outage');
      expect(v2.properties.version).not.toBe(v1.properties.version);
      const back = await waitForVersion('outage', v2.properties.version!);
      await waitForCondition(admin, ns, 'outage', 'Ready', 'True', undefined, WAIT_MS);
      expect(back.status?.key?.version).toBe(keyVersionOf(v2.keyId));
      expect((await storedKey('outage')).key.version).toBe(keyVersionOf(v2.keyId));
    });
  },
);
