// The Azure integration-account certificate the store wants, and how it relates to what Azure
// holds: ours or foreign (the marker in metadata, or the status's record of an adoption without
// a write), different or not, changed behind our back (drift), and whether an entry we did not
// write may be taken (spec.adoption). Pure.
import { createHash } from 'node:crypto';
import type { Certificate } from '../../api/types.ts';
import {
  adoptedMessage,
  adoptionPolicyOf,
  conflictMessage,
  decideAdoption,
  overwrittenMessage,
  thumbprintOf,
  type EntryWords,
} from '../adoption.ts';
import { sameArmId } from './arm-ids.ts';

/** The marker key in properties.metadata. */
export const MARKER = 'b2bOperator';

export interface Marker {
  certificate: string;
  uid: string;
  /** Hash of the content we wrote: a different hash of what Azure holds means drift. */
  contentHash: string;
}

export interface KeyReference {
  keyVault: { id: string };
  keyName: string;
  keyVersion?: string;
}

/** The body we PUT: request shape of IntegrationAccountCertificate (api-version 2019-05-01). */
export interface CertificateBody {
  properties: {
    publicCertificate: string;
    metadata: Record<string, unknown>;
    key?: KeyReference;
  };
}

/** What ARM answers (only the parts we read). */
export interface CertificateResource {
  id?: string;
  properties?: {
    publicCertificate?: string;
    metadata?: unknown;
    key?: { keyVault?: { id?: string }; keyName?: string; keyVersion?: string };
  };
}

export interface DesiredContent {
  derBase64: string;
  metadata: Record<string, string>;
  key?: { vaultResourceId: string; name: string; version: string } | undefined;
}

const userMetadata = (metadata: unknown): Record<string, unknown> => {
  if (typeof metadata !== 'object' || metadata === null) return {};
  return Object.fromEntries(
    Object.entries(metadata as Record<string, unknown>).filter(([k]) => k !== MARKER),
  );
};

/** A stable hash of the content that matters (IDs lower-cased, key order sorted). */
function contentHash(resource: CertificateResource | CertificateBody): string {
  const p = resource.properties ?? {};
  const metadata = userMetadata(p.metadata);
  const sorted = Object.fromEntries(
    Object.keys(metadata)
      .sort()
      .map((k) => [k, metadata[k]]),
  );
  const key = p.key
    ? [p.key.keyVault?.id?.toLowerCase() ?? '', p.key.keyName ?? '', p.key.keyVersion ?? '']
    : null;
  return createHash('sha256')
    .update(JSON.stringify([p.publicCertificate ?? '', sorted, key]))
    .digest('hex')
    .slice(0, 32);
}

export function desiredBody(certificate: Certificate, content: DesiredContent): CertificateBody {
  const properties: CertificateBody['properties'] = {
    publicCertificate: content.derBase64,
    metadata: { ...content.metadata },
  };
  if (content.key)
    properties.key = {
      keyVault: { id: content.key.vaultResourceId },
      keyName: content.key.name,
      keyVersion: content.key.version,
    };
  const marker: Marker = {
    certificate: `${certificate.metadata.namespace}/${certificate.metadata.name}`,
    uid: certificate.metadata.uid ?? '',
    contentHash: contentHash({ properties }),
  };
  properties.metadata[MARKER] = marker;
  return { properties };
}

export function markerOf(resource: CertificateResource): Marker | undefined {
  const metadata = resource.properties?.metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const marker = (metadata as Record<string, unknown>)[MARKER];
  if (typeof marker !== 'object' || marker === null) return undefined;
  const m = marker as Partial<Marker>;
  return typeof m.uid === 'string' && typeof m.certificate === 'string'
    ? { certificate: m.certificate, uid: m.uid, contentHash: String(m.contentHash ?? '') }
    : undefined;
}

export function ownedBy(resource: CertificateResource, certificate: Certificate): boolean {
  return markerOf(resource)?.uid === certificate.metadata.uid;
}

/** Azure holds exactly what we want (marker included); key vault IDs compared ignoring case. */
export function sameContent(current: CertificateResource, desired: CertificateBody): boolean {
  const c = current.properties ?? {};
  const d = desired.properties;
  const cm = markerOf(current);
  const dm = desired.properties.metadata[MARKER] as Marker;
  const keysEqual =
    (!c.key && !d.key) ||
    (!!c.key &&
      !!d.key &&
      sameArmId(c.key.keyVault?.id, d.key.keyVault.id) &&
      c.key.keyName === d.key.keyName &&
      (c.key.keyVersion ?? '') === (d.key.keyVersion ?? ''));
  return (
    keysEqual &&
    c.publicCertificate === d.publicCertificate &&
    cm?.uid === dm.uid &&
    cm.certificate === dm.certificate &&
    cm.contentHash === dm.contentHash &&
    contentHash(current) === dm.contentHash
  );
}

/** Ours, but its content is no longer what we wrote: someone changed it in Azure. */
export function drifted(current: CertificateResource): boolean {
  const marker = markerOf(current);
  return marker !== undefined && marker.contentHash !== contentHash(current);
}

/** What changed, for the StoreRestored event (names of fields, never their values). */
export function driftDescription(current: CertificateResource, desired: CertificateBody): string[] {
  const c = current.properties ?? {};
  const d = desired.properties;
  const changed: string[] = [];
  if (c.publicCertificate !== d.publicCertificate) changed.push('publicCertificate');
  if (JSON.stringify(userMetadata(c.metadata)) !== JSON.stringify(userMetadata(d.metadata)))
    changed.push('metadata');
  const ck = c.key;
  const dk = d.key;
  if (
    !!ck !== !!dk ||
    (ck &&
      dk &&
      (!sameArmId(ck.keyVault?.id, dk.keyVault.id) ||
        ck.keyName !== dk.keyName ||
        (ck.keyVersion ?? '') !== (dk.keyVersion ?? '')))
  )
    changed.push('key');
  return changed.length ? changed : ['content'];
}

const sameText = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

const derOf = (base64: string | undefined): Buffer => Buffer.from(base64 ?? '', 'base64');

/**
 * The fields that matter to B2B in which an entry differs from the desired one: the
 * certificate (as DER) and, for Private, the key reference (compared ignoring case, as Key
 * Vault and ARM do). Metadata is not among them: it changes nothing in B2B traffic.
 */
export function contentDifferences(
  current: CertificateResource,
  desired: CertificateBody,
): string[] {
  const c = current.properties ?? {};
  const d = desired.properties;
  const found: string[] = [];
  const held = derOf(c.publicCertificate);
  if (held.length === 0 || !held.equals(derOf(d.publicCertificate)))
    found.push('properties.publicCertificate');
  if (!c.key !== !d.key) found.push('properties.key');
  else if (c.key && d.key) {
    if (!sameArmId(c.key.keyVault?.id, d.key.keyVault.id)) found.push('properties.key.keyVault.id');
    if (!sameText(c.key.keyName, d.key.keyName)) found.push('properties.key.keyName');
    if (!sameText(c.key.keyVersion, d.key.keyVersion)) found.push('properties.key.keyVersion');
  }
  return found;
}

/** The user metadata of both, compared whatever the order of their keys. */
function sameUserMetadata(current: CertificateResource, desired: CertificateBody): boolean {
  const sorted = (metadata: unknown) => {
    const m = userMetadata(metadata);
    return JSON.stringify(
      Object.keys(m)
        .sort()
        .map((k) => [k, m[k]]),
    );
  };
  return sorted(current.properties?.metadata) === sorted(desired.properties.metadata);
}

/**
 * The entry already holds everything the Certificate would write but the marker: the same
 * certificate (DER), key reference (ignoring case) and user metadata. Such an entry is adopted,
 * and kept while adopted, without a write.
 */
export const matchesWithoutMarker = (
  current: CertificateResource,
  desired: CertificateBody,
): boolean =>
  contentDifferences(current, desired).length === 0 && sameUserMetadata(current, desired);

/**
 * status.store.adopted: an entry taken without a write records what it held then, so that a
 * later change in Azure is told from a change of the Certificate.
 */
export interface AdoptionRecord {
  contentHash: string;
}

/** What an entry holds now, as an adoption record. */
export const adoptionRecordOf = (current: CertificateResource): AdoptionRecord => ({
  contentHash: contentHash(current),
});

/**
 * Ours without our uid: the status records that this Certificate adopted the entry at `ref`
 * without writing it (status.store.adopted), spec.adoption still allows adopting, and the
 * entry carries no marker of anyone else (none, or this namespace/name with an earlier uid).
 */
export function adoptedByRecord(
  current: CertificateResource,
  certificate: Certificate,
  ref: string,
): AdoptionRecord | undefined {
  const recorded = certificate.status?.store;
  if (!recorded?.adopted || !sameArmId(recorded.ref, ref)) return undefined;
  if (adoptionPolicyOf(certificate) === 'Never') return undefined;
  const marker = markerOf(current);
  const { namespace, name } = certificate.metadata;
  if (marker && marker.certificate !== `${namespace}/${name}`) return undefined;
  return recorded.adopted;
}

/** The entry still holds what it held when it was adopted (a removal must not take more). */
export const unchangedSinceAdoption = (
  current: CertificateResource,
  record: AdoptionRecord,
): boolean => contentHash(current) === record.contentHash;

/** The thumbprint of the certificate an entry holds (none when it holds nothing). */
export function heldThumbprint(current: CertificateResource): string | undefined {
  const der = derOf(current.properties?.publicCertificate);
  return der.length ? thumbprintOf(der) : undefined;
}

export type AzureTakeOver =
  | {
      taken: true;
      event: 'Adopted' | 'Overwritten';
      message: string;
      /** What to PUT; none when the entry already holds everything (adopted without a write). */
      body: CertificateBody | undefined;
      /** Adopted without a write: what status.store.adopted records. */
      record?: AdoptionRecord;
    }
  | { taken: false; message: string };

/** An entry without this Certificate's uid: whether spec.adoption lets us take it, and how. */
export function azureTakeOver(
  current: CertificateResource,
  certificate: Certificate,
  desired: CertificateBody,
  words: EntryWords,
): AzureTakeOver {
  const { namespace, name, uid = '' } = certificate.metadata;
  const marker = markerOf(current);
  const decision = decideAdoption({
    policy: adoptionPolicyOf(certificate),
    certificate: `${namespace}/${name}`,
    mark: marker && { certificate: marker.certificate, uid: marker.uid },
    heldBy: undefined,
    differs: contentDifferences(current, desired),
  });
  switch (decision.action) {
    case 'adopt': {
      // ARM has no partial update: the marker alone would cost a PUT of the same content. An
      // entry that holds everything is adopted on the status's record (no write); the marker
      // comes with the next write needed anyway. Otherwise one PUT of what the Certificate
      // says (only metadata or letter case can differ here, or it was this name's before).
      const unchanged = matchesWithoutMarker(current, desired);
      return {
        taken: true,
        event: 'Adopted',
        message: adoptedMessage(decision, words.entry, uid, unchanged ? 'none' : 'entry'),
        body: unchanged ? undefined : desired,
        ...(unchanged ? { record: adoptionRecordOf(current) } : {}),
      };
    }
    case 'overwrite':
      return {
        taken: true,
        event: 'Overwritten',
        message: overwrittenMessage(decision, words.entry, heldThumbprint(current)),
        body: desired,
      };
    case 'conflict':
      return { taken: false, message: conflictMessage(decision, words) };
  }
}
