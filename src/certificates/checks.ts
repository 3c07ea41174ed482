// The certificate rows of API.md's checks table as a chain of small pure functions: each takes
// the facts and returns a failure or nothing; the first failure wins (cert-manager's policy
// chain). The clock is an input, so time-based verdicts are tested without sleeping.
import { Reason } from '../api/reasons.ts';
import type { CertificateInfo } from './inspect.ts';
import { parseCertificateSource } from './parse.ts';

export type CertificateType = 'Public' | 'Private';

export interface CheckFailure {
  reason: Reason;
  message: string;
  /** Terminal: only a change by the user fixes it (Stalled). Otherwise it is waited for. */
  terminal: boolean;
}

export interface CertificateFacts {
  type: CertificateType;
  certificate: CertificateInfo;
  now: Date;
}

export type Check<T> = (facts: T) => CheckFailure | undefined;

/** Runs checks in order; the first failure wins. */
export function firstFailure<T>(checks: readonly Check<T>[], facts: T): CheckFailure | undefined {
  for (const check of checks) {
    const failure = check(facts);
    if (failure) return failure;
  }
  return undefined;
}

export const withinValidityWindow: Check<CertificateFacts> = ({ certificate, now }) => {
  if (now < certificate.notBefore) {
    return {
      reason: Reason.CertificateNotYetValid,
      message: `the certificate is not valid before ${iso(certificate.notBefore)}; it becomes usable then`,
      // Time fixes it, not the user: never Stalled (kstatus and Flux would give up on it).
      terminal: false,
    };
  }
  if (now >= certificate.notAfter) {
    return {
      reason: Reason.CertificateExpired,
      message: `the certificate expired at ${iso(certificate.notAfter)}; renew it and update the certificate source`,
      terminal: true,
    };
  }
  return undefined;
};

/** Key Vault's smallest RSA key; RSA-OAEP-256 (the decrypt probe) needs more than 528 bits. */
export const MIN_PRIVATE_RSA_BITS = 2048;

export const rsaKeyForPrivate: Check<CertificateFacts> = ({ type, certificate }) => {
  if (type !== 'Private') return undefined;
  const { algorithm, size } = certificate.publicKey;
  if (algorithm === 'RSA' && size >= MIN_PRIVATE_RSA_BITS) return undefined;
  if (algorithm === 'RSA') {
    return {
      reason: Reason.UnsupportedKeyAlgorithm,
      message: `a Private certificate needs an RSA key of at least ${MIN_PRIVATE_RSA_BITS} bits (Azure Key Vault holds RSA keys of 2048, 3072 and 4096 bits, and RSA-OAEP-256 does not fit in a smaller one); this certificate has a RSA ${size}-bit key; reissue it with a larger key`,
      terminal: true,
    };
  }
  const why =
    algorithm === 'RSA-PSS'
      ? ' (id-RSASSA-PSS: the key is restricted to PSS signatures and cannot decrypt with RSA-OAEP); reissue it with an rsaEncryption key'
      : '';
  return {
    reason: Reason.UnsupportedKeyAlgorithm,
    message: `a Private certificate needs an RSA key (B2B messages are signed and decrypted with RSA in the vault); this certificate has a ${algorithm} ${size}-bit key${why}`,
    terminal: true,
  };
};

export const dataEnciphermentForPrivate: Check<CertificateFacts> = ({ type, certificate }) => {
  if (type !== 'Private' || certificate.keyUsage?.includes('dataEncipherment')) return undefined;
  const has = certificate.keyUsage
    ? `its Key Usage is ${certificate.keyUsage.join(', ') || 'empty'}`
    : 'it has no Key Usage extension';
  return {
    reason: Reason.MissingDataEncipherment,
    message: `a Private certificate's Key Usage must include Data Encipherment for B2B encryption, but ${has}; reissue the certificate with dataEncipherment`,
    terminal: true,
  };
};

/** The certificate rows after parsing, in the order of API.md's table. */
export const certificateChecks: readonly Check<CertificateFacts>[] = [
  withinValidityWindow,
  rsaKeyForPrivate,
  dataEnciphermentForPrivate,
];

export type CertificateVerdict =
  | { ok: true; certificate: CertificateInfo; ignoredCertificates: number }
  | { ok: false; failure: CheckFailure; certificate?: CertificateInfo };

/** Parses a certificate source and runs the certificate checks on it. */
export function verifyCertificateSource(
  source: string | Uint8Array,
  type: CertificateType,
  now: Date,
): CertificateVerdict {
  const parsed = parseCertificateSource(source);
  if (!parsed.ok) {
    return {
      ok: false,
      failure: { reason: parsed.reason, message: parsed.message, terminal: true },
    };
  }
  const failure = firstFailure(certificateChecks, { type, certificate: parsed.certificate, now });
  if (failure) return { ok: false, failure, certificate: parsed.certificate };
  return parsed;
}

export interface ExpiryStatus {
  expiring: boolean;
  /** Past notAfter: CertificateExpired says so, and Expiring is False (nothing left to warn of). */
  expired?: boolean;
  message: string;
  /** When Expiring or CertificateValid next changes on its own: the controller requeues then. */
  nextTransition: Date | undefined;
}

/** The expiry-warning window: Expiring=True within `warningMs` of notAfter. */
export function expiryStatus(
  certificate: CertificateInfo,
  now: Date,
  warningMs: number,
): ExpiryStatus {
  const warnAt = new Date(certificate.notAfter.getTime() - warningMs);
  // Before notBefore nothing is in use yet, so nothing expires: the next change is notBefore,
  // even when a short-lived certificate's warning window opened already.
  if (now < certificate.notBefore) {
    return {
      expiring: false,
      message: `the certificate is not valid before ${iso(certificate.notBefore)}; it expires at ${iso(certificate.notAfter)}`,
      nextTransition: certificate.notBefore,
    };
  }
  if (now >= certificate.notAfter) {
    return {
      expiring: false,
      expired: true,
      message: `the certificate expired at ${iso(certificate.notAfter)}`,
      nextTransition: undefined,
    };
  }
  if (now >= warnAt) {
    return {
      expiring: true,
      message: `the certificate expires at ${iso(certificate.notAfter)}; renew it before then`,
      nextTransition: certificate.notAfter,
    };
  }
  return {
    expiring: false,
    message: `the certificate expires at ${iso(certificate.notAfter)}`,
    nextTransition: warnAt,
  };
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}
