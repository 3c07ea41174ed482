// Whether a store entry this Certificate did not write (no mark with its uid) may be taken:
// spec.adoption (API.md, "Entries that already exist"). Pure: each store says what the entry
// is marked with and which of its fields differ from what the Certificate would write; this
// module decides, and words the StoreConflict message and the events.
import { createHash } from 'node:crypto';
import type { Certificate } from '../api/types.ts';

export type AdoptionPolicy = NonNullable<Certificate['spec']['adoption']>;

/** The CRD's default; objects the API server has not defaulted yet are read the same way. */
export const DEFAULT_ADOPTION: AdoptionPolicy = 'IfIdentical';

export const adoptionPolicyOf = (certificate: Certificate): AdoptionPolicy =>
  certificate.spec.adoption ?? DEFAULT_ADOPTION;

export interface AdoptionInput {
  policy: AdoptionPolicy;
  /** This Certificate as the mark names it: `namespace/name`. */
  certificate: string;
  /**
   * Whose the entry says it is (undefined: nobody marked it). `uid` may be missing, as on a
   * Secret a Retain Certificate let go of.
   */
  mark: { certificate: string; uid: string | undefined } | undefined;
  /** Held by someone who must never lose it (another controller, an incompatible type). */
  heldBy: string | undefined;
  /** The fields that matter to B2B that differ from what the Certificate would write. */
  differs: readonly string[];
}

export type AdoptionDecision =
  | { action: 'adopt'; because: 'sameCertificate'; previousUid: string | undefined }
  | { action: 'adopt'; because: 'identical' }
  | { action: 'overwrite'; differs: readonly string[] }
  | { action: 'conflict'; because: 'heldBy'; heldBy: string }
  | { action: 'conflict'; because: 'otherCertificate'; owner: string }
  | { action: 'conflict'; because: 'sameCertificateNever'; previousUid: string | undefined }
  | { action: 'conflict'; because: 'unmarkedNever' }
  | { action: 'conflict'; because: 'differs'; differs: readonly string[] };

/** For an entry that does not carry this Certificate's uid. First match wins. */
export function decideAdoption(input: AdoptionInput): AdoptionDecision {
  const { policy, mark, differs } = input;
  if (input.heldBy) return { action: 'conflict', because: 'heldBy', heldBy: input.heldBy };
  if (mark && mark.certificate !== input.certificate)
    // Two live Certificates would take it from each other forever.
    return { action: 'conflict', because: 'otherCertificate', owner: mark.certificate };
  if (mark)
    return policy === 'Never'
      ? { action: 'conflict', because: 'sameCertificateNever', previousUid: mark.uid }
      : { action: 'adopt', because: 'sameCertificate', previousUid: mark.uid };
  if (policy === 'Never') return { action: 'conflict', because: 'unmarkedNever' };
  if (differs.length === 0) return { action: 'adopt', because: 'identical' };
  return policy === 'Always'
    ? { action: 'overwrite', differs }
    : { action: 'conflict', because: 'differs', differs };
}

export interface EntryWords {
  /** e.g. `Secret x-b2bcert`, `the Azure integration account certificate y in z`. */
  entry: string;
  /** What else the user can do, e.g. `delete or rename it, or rename the Certificate`. */
  otherwise: string;
}

/** The StoreConflict message: what the entry is, why it is left alone, how to go on. */
export function conflictMessage(
  decision: Extract<AdoptionDecision, { action: 'conflict' }>,
  words: EntryWords,
): string {
  const untouched = `it is left untouched`;
  switch (decision.because) {
    case 'heldBy':
      return `${words.entry} already exists and belongs to ${decision.heldBy}; the operator never takes it, whatever spec.adoption says, so ${untouched}. To sync this Certificate, ${words.otherwise}`;
    case 'otherCertificate':
      return `${words.entry} already exists and was written for Certificate ${decision.owner}; the operator never takes an entry of another Certificate, so ${untouched}. To sync this Certificate, ${words.otherwise}`;
    case 'sameCertificateNever':
      return `${words.entry} already exists and was written for an earlier Certificate of this name (uid ${decision.previousUid ?? 'removed'}); spec.adoption is Never, so ${untouched}. Set spec.adoption: IfIdentical or Always to take it over, or ${words.otherwise}`;
    case 'unmarkedNever':
      return `${words.entry} already exists and was not written by this operator for this Certificate; spec.adoption is Never, so ${untouched}. Set spec.adoption: IfIdentical (adopt it if it already holds this certificate) or Always (overwrite it), or ${words.otherwise}`;
    case 'differs':
      return `${words.entry} already exists, was not written by this operator for this Certificate, and differs from it (${decision.differs.join(', ')}); ${untouched}. Set spec.adoption: Always to overwrite it, or ${words.otherwise}`;
  }
}

/**
 * What adopting wrote: the mark only (a Secret's labels), nothing (azure store: the entry already
 * held everything the Certificate would write; the status records the adoption), or the whole
 * entry (azure store: its metadata, or the letter case of its key reference, differed).
 */
export type AdoptionWrite = 'mark' | 'none' | 'entry';

/** The Normal Adopted event's message. */
export function adoptedMessage(
  decision: Extract<AdoptionDecision, { action: 'adopt' }>,
  entry: string,
  uid: string,
  write: AdoptionWrite = 'mark',
): string {
  const noWrite =
    "so no write was needed (status.store.adopted records it; the operator's marker is added with the next write)";
  if (decision.because === 'sameCertificate')
    return `took over ${entry}, written for an earlier Certificate of this name (uid ${decision.previousUid ?? 'removed'}); it now belongs to this one (uid ${uid})${
      write === 'none' ? `; it already held what this Certificate would write, ${noWrite}` : ''
    }`;
  const start = `adopted ${entry}: not written by this operator`;
  switch (write) {
    case 'none':
      return `${start}, it already held everything this Certificate would write, ${noWrite}`;
    case 'entry':
      return `${start}, it already held this certificate and key; written once with the operator's marker and spec.metadata (what differed does not change B2B traffic)`;
    case 'mark':
      return `${start}, it already held this certificate; only the operator's mark was added`;
  }
}

/** The Warning Overwritten event's message. */
export function overwrittenMessage(
  decision: Extract<AdoptionDecision, { action: 'overwrite' }>,
  entry: string,
  previousThumbprint: string | undefined,
): string {
  return `overwrote ${entry}, which this operator had not written and which held ${
    previousThumbprint ? `the certificate with thumbprint ${previousThumbprint}` : 'no certificate'
  } (differed: ${decision.differs.join(', ')}), as spec.adoption: Always says`;
}

/** SHA-1 of DER bytes, upper-case hex: how Azure and status.thumbprint show a certificate. */
export const thumbprintOf = (der: Buffer): string =>
  createHash('sha1').update(der).digest('hex').toUpperCase();

/** The DER of the first certificate of a PEM text; undefined when it holds none. */
export function firstCertificateDer(pem: string): Buffer | undefined {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) return undefined;
  const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  return der.length ? der : undefined;
}
