// What the kubernetes store writes for one certificate, and how a Secret read back differs
// from it. Pure: the store does the I/O.
import { createHash } from 'node:crypto';
import { GROUP, Labels, type Certificate } from '../api/types.ts';
import type { StoreEntry } from './store.ts';
import { labelValueFor, secretNameFor } from './store-names.ts';

/** A hash of the data and labels last written, to tell a hand edit from an outdated entry. */
export const CONTENT_HASH_ANNOTATION = `${GROUP}/content-hash`;

export interface OwnerReference {
  uid: string;
  kind: string;
  name: string;
  apiVersion: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface SecretMetadata {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
}

/** A Secret as the API server returns it (base64 data). */
export interface StoredSecret extends SecretMetadata {
  data?: Record<string, string>;
}

export interface DesiredSecret {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /**
   * Always undefined: a store Secret carries no ownerReference (see desiredSecret). Kept as a
   * field so that patches drop the one an earlier version wrote.
   */
  owner: OwnerReference | undefined;
  /** base64, as the API server returns it. */
  data: Record<string, string>;
  hash: string;
}

/**
 * Store Secrets carry no ownerReference, whatever the policy (as cert-manager's): deleting the
 * Certificate CRD deletes every Certificate, and the garbage collector would then delete every
 * Secret, operator or not. Deletion goes through our finalizer instead, which can tell an
 * uninstall from the deletion of one Certificate. The uid label says whose a Secret is.
 */
export function desiredSecret(entry: StoreEntry): DesiredSecret {
  const { certificate } = entry;
  const { name, uid = '' } = certificate.metadata;
  const account = certificate.spec.integrationAccount.name;
  const plain: Record<string, string> = {
    'tls.crt': entry.pem,
    'metadata.json': JSON.stringify(entry.metadata),
  };
  if (entry.key) plain['key.json'] = JSON.stringify(entry.key);
  const labels = {
    [Labels.integrationAccount]: labelValueFor(account),
    [Labels.certificate]: labelValueFor(name),
    [Labels.type]: certificate.spec.type,
    [Labels.certificateUid]: uid,
  };
  const hash = createHash('sha256')
    .update(JSON.stringify({ data: plain, labels }))
    .digest('hex');
  return {
    name: secretNameFor(name),
    labels,
    // Label values are shortened for long names: the annotations of the same keys hold them whole.
    annotations: {
      [CONTENT_HASH_ANNOTATION]: hash,
      [Labels.integrationAccount]: account,
      [Labels.certificate]: name,
    },
    owner: undefined,
    data: Object.fromEntries(
      Object.entries(plain).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    hash,
  };
}

const isOwnerRef = (o: OwnerReference, certificate: Certificate): boolean =>
  o.uid === certificate.metadata.uid;

/** Owned through an ownerReference (the garbage collector removes it when orphaning). */
export function ownerReferenceTo(secret: SecretMetadata, certificate: Certificate): boolean {
  return secret.metadata?.ownerReferences?.some((o) => isOwnerRef(o, certificate)) === true;
}

/** Ours: an ownerReference to the Certificate, or (Retain) the Certificate's uid label. */
export function ownedBy(secret: SecretMetadata | undefined, certificate: Certificate): boolean {
  const meta = secret?.metadata;
  if (!meta || !certificate.metadata.uid) return false;
  return (
    meta.ownerReferences?.some((o) => isOwnerRef(o, certificate)) === true ||
    meta.labels?.[Labels.certificateUid] === certificate.metadata.uid
  );
}

/** Owner references to write: everyone else's, plus ours when wanted. */
export function ownerReferences(
  current: SecretMetadata | undefined,
  certificate: Certificate,
  owner: OwnerReference | undefined,
): OwnerReference[] {
  const others = (current?.metadata?.ownerReferences ?? []).filter(
    (o) => !isOwnerRef(o, certificate),
  );
  return owner ? [...others, owner] : others;
}

/**
 * What differs between the desired entry and a Secret read back, e.g. `data tls.crt`,
 * `label integration.b2b.dev/type`. Labels and annotations of other keys are not ours.
 */
export function differences(
  desired: DesiredSecret,
  actual: StoredSecret,
  certificate: Certificate,
): string[] {
  const found: string[] = [];
  const data = actual.data ?? {};
  for (const key of new Set([...Object.keys(desired.data), ...Object.keys(data)]))
    if (desired.data[key] !== data[key]) found.push(`data ${key}`);
  const meta = actual.metadata ?? {};
  for (const [key, value] of Object.entries(desired.labels))
    if (meta.labels?.[key] !== value) found.push(`label ${key}`);
  for (const [key, value] of Object.entries(desired.annotations))
    if (meta.annotations?.[key] !== value) found.push(`annotation ${key}`);
  // Our ownerReference (written by an earlier version) is dropped, but it is no one's edit.
  if (desired.owner && ownerReferenceDiffers(desired, actual, certificate))
    found.push('ownerReference');
  return found;
}

/**
 * Our ownerReference missing or changed, or there while unwanted (an earlier version wrote one
 * on every Delete Secret: it goes with the next reconcile, one write). Not in the content
 * hash: the metadata cache shows it, so a policy change is seen without reading the Secret.
 */
export function ownerReferenceDiffers(
  desired: DesiredSecret,
  actual: SecretMetadata,
  certificate: Certificate,
): boolean {
  const ours = actual.metadata?.ownerReferences?.find((o) => isOwnerRef(o, certificate));
  const { owner } = desired;
  return owner
    ? !ours || ours.controller !== owner.controller || ours.name !== owner.name
    : ours !== undefined;
}

/** A hand edit: the Secret says it holds the desired content (its hash), yet differs. */
export function isHandEdit(desired: DesiredSecret, actual: SecretMetadata): boolean {
  return actual.metadata?.annotations?.[CONTENT_HASH_ANNOTATION] === desired.hash;
}

/**
 * A merge patch turning the Secret into the desired one. Data keys not desired go as null:
 * `dataKeys` are the keys the Secret has (when read), else the ones we may have written.
 */
export function patchFor(
  desired: DesiredSecret,
  current: SecretMetadata,
  certificate: Certificate,
  dataKeys: readonly string[] = ['key.json'],
): Record<string, unknown> {
  const owners = ownerReferences(current, certificate, desired.owner);
  const data: Record<string, string | null> = {};
  for (const key of dataKeys) data[key] = null;
  Object.assign(data, desired.data);
  return {
    metadata: {
      labels: desired.labels,
      annotations: desired.annotations,
      ownerReferences: owners.length ? owners : null,
      resourceVersion: current.metadata?.resourceVersion,
    },
    data,
  };
}

/** The Secret to create when none exists. */
export function newSecret(desired: DesiredSecret, namespace: string): Record<string, unknown> {
  return {
    metadata: {
      name: desired.name,
      namespace,
      labels: desired.labels,
      annotations: desired.annotations,
      ...(desired.owner ? { ownerReferences: [desired.owner] } : {}),
    },
    type: 'Opaque',
    data: desired.data,
  };
}
