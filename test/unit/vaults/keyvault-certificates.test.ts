// Reading a Key Vault certificate as a source: the latest enabled version (a disabled latest
// version falls back to the newest enabled one), the key version that belongs to it, and the
// polling economy: one request per certificate name per interval, shared by whoever asks.
import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/reasons.ts';
import {
  keyOfKeyId,
  PollingCertificateReader,
  type CertificateRead,
  type CertificateReadRequest,
} from '../../../src/vaults/certificate-source.ts';
import {
  readAzureCertificate,
  type CertificateOperations,
  type CertificateVersion,
} from '../../../src/vaults/azure/certificates.ts';
import type { VaultConnection } from '../../../src/vaults/verifier.ts';

const VAULT = 'https://contoso-kv.vault.azure.net';
const version = (v: string, enabled: boolean, day: number): CertificateVersion => ({
  version: v,
  enabled,
  createdOn: new Date(Date.UTC(2026, 0, day)),
  cer: Buffer.from(`cer-${v}`),
  keyId: `https://elsewhere.example/keys/signing/key-${v}`,
});

/** A vault of versions; a disabled latest version is refused as Lowkey Vault does (404). */
function vaultOf(versions: CertificateVersion[], calls: string[] = []): CertificateOperations {
  const notFound = (message: string) =>
    Object.assign(new Error(message), { statusCode: 404, code: 'NotFound' });
  return {
    getCertificate: (name, v) => {
      calls.push(`get ${name} ${v ?? 'latest'}`);
      const sorted = [...versions].sort((a, b) => b.createdOn!.getTime() - a.createdOn!.getTime());
      const found = v ? versions.find((x) => x.version === v) : sorted[0];
      if (!found) return Promise.reject(notFound(`Certificate not found: ${name}`));
      if (!found.enabled && !v)
        return Promise.reject(notFound('Operation get is not allowed on a disabled entity.'));
      return Promise.resolve(found);
    },
    listCertificateVersions: (name) => {
      calls.push(`list ${name}`);
      if (!versions.length) return Promise.reject(notFound(`Certificate not found: ${name}`));
      return Promise.resolve(versions.map((x) => ({ ...x, cer: undefined, keyId: undefined })));
    },
  };
}

describe('readAzureCertificate', () => {
  it('reads the latest version with one request: its CER and the key version of that version', async () => {
    const calls: string[] = [];
    const ops = vaultOf([version('v1', true, 1), version('v2', true, 2)], calls);
    const read = await readAzureCertificate(ops, {
      vaultUrl: VAULT,
      name: 'signing',
      version: undefined,
    });
    expect(read).toEqual({
      ok: true,
      certificate: {
        version: 'v2',
        cer: Buffer.from('cer-v2'),
        key: { name: 'signing', version: 'key-v2' },
      },
    });
    expect(calls).toEqual(['get signing latest']);
  });

  it('uses the newest enabled version when the latest is disabled', async () => {
    const calls: string[] = [];
    const ops = vaultOf(
      [version('v1', true, 1), version('v2', true, 2), version('v3', false, 3)],
      calls,
    );
    const read = await readAzureCertificate(ops, {
      vaultUrl: VAULT,
      name: 'signing',
      version: undefined,
    });
    expect(read.ok && read.certificate.version).toBe('v2');
    expect(calls).toEqual(['get signing latest', 'list signing', 'get signing v2']);
  });

  it('says CertificateSourceNotFound for a certificate the vault does not have, or with no enabled version', async () => {
    const none = await readAzureCertificate(vaultOf([]), {
      vaultUrl: VAULT,
      name: 'x',
      version: undefined,
    });
    expect(none).toMatchObject({
      ok: false,
      reason: Reason.CertificateSourceNotFound,
      terminal: true,
    });
    const disabled = await readAzureCertificate(vaultOf([version('v1', false, 1)]), {
      vaultUrl: VAULT,
      name: 'x',
      version: undefined,
    });
    expect(disabled).toMatchObject({ ok: false, reason: Reason.CertificateSourceNotFound });
    expect(!disabled.ok && disabled.message).toMatch(/has no enabled version/);
  });

  it('reads a pinned version, and refuses it when disabled', async () => {
    const ops = vaultOf([version('v1', true, 1), version('v2', false, 2)]);
    const v1 = await readAzureCertificate(ops, { vaultUrl: VAULT, name: 's', version: 'v1' });
    expect(v1.ok && v1.certificate.version).toBe('v1');
    const v2 = await readAzureCertificate(ops, { vaultUrl: VAULT, name: 's', version: 'v2' });
    expect(v2).toMatchObject({ ok: false, reason: Reason.CertificateSourceNotFound });
  });

  it('keeps a vault that does not answer transient (VaultUnavailable, retried)', async () => {
    const ops: CertificateOperations = {
      getCertificate: () => Promise.reject(Object.assign(new Error('boom'), { statusCode: 503 })),
      listCertificateVersions: () => Promise.reject(new Error('not called')),
    };
    const read = await readAzureCertificate(ops, {
      vaultUrl: VAULT,
      name: 's',
      version: undefined,
    });
    expect(read).toMatchObject({ ok: false, reason: Reason.VaultUnavailable, terminal: false });
  });
});

describe('keyOfKeyId', () => {
  it('takes the name and version from the path only', () => {
    expect(keyOfKeyId('https://evil.example/keys/signing/0123abcd')).toEqual({
      name: 'signing',
      version: '0123abcd',
    });
    expect(keyOfKeyId('https://kv/keys/signing')).toBeUndefined();
    expect(keyOfKeyId('https://kv/secrets/signing/v1')).toBeUndefined();
    expect(keyOfKeyId(undefined)).toBeUndefined();
  });
});

describe('PollingCertificateReader', () => {
  const vault: VaultConnection = { name: 'main', kind: 'azure', vaultUrl: VAULT, extraHost: false };
  const request = (namespace: string, name = 'signing'): CertificateReadRequest => ({
    namespace,
    vault,
    name,
  });
  const ok = (v: string): CertificateRead => ({
    ok: true,
    certificate: { version: v, cer: Buffer.from(v), key: undefined },
  });

  it('asks once per name per interval, concurrent reads sharing one request, and again after the interval', async () => {
    let now = 0;
    let requests = 0;
    let current = 'v1';
    const reader = new PollingCertificateReader(
      { read: () => Promise.resolve(ok(current)).finally(() => requests++) },
      300_000,
      () => now,
    );
    const first = await Promise.all([reader.read(request('a')), reader.read(request('a'))]);
    expect(requests).toBe(1);
    expect(first.map((r) => r.ok && r.certificate.version)).toEqual(['v1', 'v1']);
    current = 'v2'; // renewed in the vault
    now = 299_999;
    const cached = await reader.read(request('a'));
    expect(cached.ok && cached.certificate.version).toBe('v1');
    expect(requests).toBe(1);
    now = 300_000;
    const renewed = await reader.read(request('a'));
    expect(renewed.ok && renewed.certificate.version).toBe('v2');
    expect(requests).toBe(2);
    await reader.read(request('a', 'other'));
    await reader.read(request('b')); // another namespace asks with its own identity
    expect(requests).toBe(4);
  });

  it('does not keep a transient failure', async () => {
    let requests = 0;
    const reader = new PollingCertificateReader(
      {
        read: () => {
          requests++;
          return Promise.resolve({
            ok: false,
            reason: Reason.VaultUnavailable,
            message: 'down',
            terminal: false,
          } as CertificateRead);
        },
      },
      300_000,
      () => 0,
    );
    await reader.read(request('a'));
    await reader.read(request('a'));
    expect(requests).toBe(2);
  });
});
