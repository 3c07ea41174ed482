// Reading a Key Vault certificate as a Certificate's source: the latest enabled version (or a
// pinned one), its CER and the key version that belongs to it. The latest version costs one
// request; only when it cannot be used (disabled: Azure 403, Lowkey Vault 404) are the versions
// listed to find the newest enabled one.
import { Reason } from '../../api/reasons.ts';
import { keyOfKeyId, type CertificateRead } from '../certificate-source.ts';
import { classifyVaultError } from './errors.ts';

export interface CertificateVersion {
  version: string;
  enabled: boolean;
  createdOn: Date | undefined;
  /** Absent in a listing. */
  cer: Uint8Array | undefined;
  keyId: string | undefined;
}

export interface CertificateOperations {
  getCertificate(name: string, version: string | undefined): Promise<CertificateVersion>;
  listCertificateVersions(name: string): Promise<CertificateVersion[]>;
}

export interface ReadInput {
  vaultUrl: string;
  name: string;
  version: string | undefined;
  /** e.g. "the identity <id> of ServiceAccount ns/name"; default the operator's identity. */
  identity?: string | undefined;
}

const newestFirst = (a: CertificateVersion, b: CertificateVersion) =>
  (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0);

function failed(err: unknown, input: ReadInput, what: string): CertificateRead {
  const c = classifyVaultError(err);
  const where = `${what} in ${input.vaultUrl}`;
  if (c.reason === Reason.KeyNotFound || c.reason === Reason.KeyDisabled)
    return {
      ok: false,
      reason: Reason.CertificateSourceNotFound,
      message: `${where} was not found or is disabled (${c.detail}); asked again at the next poll`,
      terminal: true,
    };
  if (c.reason === Reason.AccessDenied)
    return {
      ok: false,
      reason: Reason.AccessDenied,
      message: `grant the certificate permissions 'get' and 'list' on ${where} to ${input.identity ?? "the operator's identity"} (role "Key Vault Certificate User", or an access-policy entry); denied (${c.code})`,
      terminal: true,
    };
  return {
    ok: false,
    reason: c.reason,
    message: `reading ${where} failed: ${c.detail}`,
    terminal: c.terminal,
    retryAfterMs: c.retryAfterMs,
  };
}

function answer(c: CertificateVersion, input: ReadInput): CertificateRead {
  if (!c.cer?.length)
    return {
      ok: false,
      reason: Reason.CertificateSourceNotFound,
      message: `certificate ${input.name} version ${c.version} in ${input.vaultUrl} has no certificate (cer) yet; asked again at the next poll`,
      terminal: true,
    };
  return {
    ok: true,
    certificate: { version: c.version, cer: c.cer, key: keyOfKeyId(c.keyId) },
  };
}

export async function readAzureCertificate(
  ops: CertificateOperations,
  input: ReadInput,
): Promise<CertificateRead> {
  const { name, version } = input;
  if (version) {
    try {
      const c = await ops.getCertificate(name, version);
      if (!c.enabled)
        return {
          ok: false,
          reason: Reason.CertificateSourceNotFound,
          message: `certificate ${name} version ${version} in ${input.vaultUrl} is disabled`,
          terminal: true,
        };
      return answer(c, input);
    } catch (err) {
      return failed(err, input, `certificate ${name} version ${version}`);
    }
  }
  try {
    const latest = await ops.getCertificate(name, undefined);
    if (latest.enabled) return answer(latest, input);
  } catch (err) {
    const c = classifyVaultError(err);
    // A disabled latest version reads as 403 (Azure) or 404 (Lowkey Vault): list to tell.
    if (
      c.reason !== Reason.KeyNotFound &&
      c.reason !== Reason.KeyDisabled &&
      c.reason !== Reason.AccessDenied
    )
      return failed(err, input, `certificate ${name}`);
  }
  let versions: CertificateVersion[];
  try {
    versions = await ops.listCertificateVersions(name);
  } catch (err) {
    return failed(err, input, `certificate ${name}`);
  }
  const newest = versions.filter((v) => v.enabled && v.version).sort(newestFirst)[0];
  if (!newest)
    return {
      ok: false,
      reason: Reason.CertificateSourceNotFound,
      message: `certificate ${name} in ${input.vaultUrl} ${versions.length ? 'has no enabled version' : 'was not found'}; asked again at the next poll`,
      terminal: true,
    };
  try {
    return answer(await ops.getCertificate(name, newest.version), input);
  } catch (err) {
    return failed(err, input, `certificate ${name} version ${newest.version}`);
  }
}
