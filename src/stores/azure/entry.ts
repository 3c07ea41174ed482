// The Azure integration-account certificate the store wants, and how it relates to what Azure
// holds: ours or foreign (the marker in metadata), different or not, changed behind our back
// (drift). Pure.
import { createHash } from 'node:crypto';
import type { Certificate } from '../../api/types.ts';
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
