// `b2b inspect`: what the operator would put in status for a certificate source, and its
// verdict as a Public and as a Private certificate, from the controller's own functions.
import {
  expiryStatus,
  verifyCertificateSource,
  type CertificateType,
} from '../certificates/checks.ts';
import { inspectionFields } from '../controllers/certificate/status.ts';

export interface TypeVerdict {
  ok: boolean;
  reason: string;
  message: string;
}

export interface InspectReport {
  format: 'PEM' | 'DER' | 'base64 DER';
  /** Certificates in a PEM bundle after the first, which the operator ignores. */
  ignoredCertificates: number;
  status: ReturnType<typeof inspectionFields> | undefined;
  verdicts: Record<CertificateType, TypeVerdict>;
}

const DEFAULT_WARNING_MS = 720 * 3_600_000;

export function inspectSource(data: string | Uint8Array, now: Date): InspectReport {
  const text = typeof data === 'string' ? data : undefined;
  const format =
    typeof data !== 'string' && data[0] === 0x30
      ? 'DER'
      : (text ?? Buffer.from(data).toString('utf8')).includes('-----BEGIN ')
        ? 'PEM'
        : 'base64 DER';
  const verdictAs = (type: CertificateType): TypeVerdict => {
    const verdict = verifyCertificateSource(data, type, now);
    if (!verdict.ok)
      return { ok: false, reason: verdict.failure.reason, message: verdict.failure.message };
    const expiry = expiryStatus(verdict.certificate, now, DEFAULT_WARNING_MS);
    const later =
      type === 'Private' ? '; the vault key and its grants are verified at apply time' : '';
    return {
      ok: true,
      reason: expiry.expiring ? 'ExpiresSoon' : 'Valid',
      message: expiry.message + later,
    };
  };
  const publicVerdict = verifyCertificateSource(data, 'Public', now);
  const info = publicVerdict.certificate;
  return {
    format,
    ignoredCertificates: publicVerdict.ok ? publicVerdict.ignoredCertificates : 0,
    status: info && inspectionFields(info),
    verdicts: { Public: verdictAs('Public'), Private: verdictAs('Private') },
  };
}

export function humanInspection(report: InspectReport): string {
  const s = report.status;
  const lines: string[] = [];
  if (s) {
    const rows: [string, string][] = [
      [
        'format',
        report.format +
          (report.ignoredCertificates
            ? ` bundle (the first certificate is used; ${report.ignoredCertificates} more ignored)`
            : ''),
      ],
      ['subject', s.subject],
      ['issuer', s.issuer],
      ['serialNumber', s.serialNumber],
      ['notBefore', s.notBefore],
      ['notAfter', s.notAfter],
      ['thumbprint', s.thumbprint],
      ['sha256Fingerprint', s.sha256Fingerprint],
      ['keyUsage', s.keyUsage.join(', ') || '(none)'],
      ['extendedKeyUsage', s.extendedKeyUsage.join(', ') || '(none)'],
      ['publicKey', `${s.publicKey.algorithm} ${s.publicKey.size}`],
    ];
    for (const [k, v] of rows) lines.push(`${`${k}:`.padEnd(19)}${v}`);
  }
  for (const type of ['Public', 'Private'] as const) {
    const v = report.verdicts[type];
    lines.push(`${`as ${type}:`.padEnd(19)}${v.ok ? 'OK' : 'FAIL'} ${v.reason}: ${v.message}`);
  }
  return lines.join('\n') + '\n';
}
