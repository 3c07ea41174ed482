// The kubernetes store's side of spec.adoption: what a Secret of the store name that does not
// carry this Certificate's uid is marked with, who else holds it, and whether it already holds
// this certificate. Pure: adoption.ts decides, kubernetes-store.ts writes.
import { GROUP, Labels, type Certificate } from '../api/types.ts';
import {
  adoptedMessage,
  adoptionPolicyOf,
  conflictMessage,
  decideAdoption,
  firstCertificateDer,
  overwrittenMessage,
  thumbprintOf,
  type AdoptionInput,
} from './adoption.ts';
import type { OwnerReference, StoredSecret } from './secret-content.ts';
import { labelValueFor } from './store-names.ts';

/** A Secret as read, with its type (absent means Opaque, the API server's default). */
export type ReadSecret = StoredSecret & { type?: string };

export type SecretTakeOver =
  | { taken: true; event: 'Adopted' | 'Overwritten'; message: string }
  | { taken: false; message: string };

/** A reference to a Certificate of this API (ours; any uid, any name). */
const isCertificateRef = (o: OwnerReference): boolean =>
  o.kind === 'Certificate' && o.apiVersion.split('/')[0] === GROUP;

/** The `namespace/name` and uid the Secret's labels, annotations and ownerReference name. */
function markOf(secret: ReadSecret, certificate: Certificate): AdoptionInput['mark'] {
  const meta = secret.metadata ?? {};
  const { namespace, name } = certificate.metadata;
  const ref = meta.ownerReferences?.find(isCertificateRef);
  const label = meta.labels?.[Labels.certificate];
  const markedName =
    meta.annotations?.[Labels.certificate] ??
    // A label holds a long name shortened: its own shortened form is this name.
    (label !== undefined && label === labelValueFor(name) ? name : label) ??
    ref?.name;
  const uid = meta.labels?.[Labels.certificateUid] ?? ref?.uid;
  if (markedName === undefined && uid === undefined) return undefined;
  return { certificate: `${namespace}/${markedName ?? `(unnamed, uid ${uid})`}`, uid };
}

/**
 * Never taken: a Secret another object controls (Kubernetes allows one controller, and it
 * would fight us), or of another type (immutable; e.g. someone's kubernetes.io/tls).
 */
function heldByOf(secret: ReadSecret): string | undefined {
  const controller = secret.metadata?.ownerReferences?.find(
    (o) => o.controller === true && !isCertificateRef(o),
  );
  if (controller) return `${controller.kind} ${controller.name} (${controller.apiVersion})`;
  if (secret.type !== undefined && secret.type !== 'Opaque')
    return `its users (type ${secret.type}, the store writes Opaque Secrets)`;
  return undefined;
}

const tlsCrtDer = (data: Record<string, string> | undefined): Buffer | undefined =>
  firstCertificateDer(Buffer.from(data?.['tls.crt'] ?? '', 'base64').toString('utf8'));

/**
 * Whether the Secret may be taken for this Certificate, and the event or StoreConflict message.
 * `desiredData` is the store's data (base64), of which only tls.crt counts: it is what B2B uses.
 */
export function secretTakeOver(
  secret: ReadSecret,
  certificate: Certificate,
  desiredData: Record<string, string>,
): SecretTakeOver {
  const { namespace, name, uid = '' } = certificate.metadata;
  const entry = `Secret ${secret.metadata?.name ?? ''}`;
  const held = tlsCrtDer(secret.data);
  const wanted = tlsCrtDer(desiredData);
  const decision = decideAdoption({
    policy: adoptionPolicyOf(certificate),
    certificate: `${namespace}/${name}`,
    mark: markOf(secret, certificate),
    heldBy: heldByOf(secret),
    differs: held && wanted && held.equals(wanted) ? [] : ['data tls.crt'],
  });
  switch (decision.action) {
    case 'adopt':
      return { taken: true, event: 'Adopted', message: adoptedMessage(decision, entry, uid) };
    case 'overwrite':
      return {
        taken: true,
        event: 'Overwritten',
        message: overwrittenMessage(decision, entry, held && thumbprintOf(held)),
      };
    case 'conflict':
      return {
        taken: false,
        message: conflictMessage(decision, {
          entry,
          otherwise: 'delete or rename it, or rename the Certificate',
        }),
      };
  }
}

/** The Secret without ownerReferences to earlier Certificates of this name (one controller). */
export function withoutEarlierOwners(secret: ReadSecret, certificate: Certificate): ReadSecret {
  const refs = secret.metadata?.ownerReferences;
  if (!refs) return secret;
  return {
    ...secret,
    metadata: {
      ...secret.metadata,
      ownerReferences: refs.filter(
        (o) => !isCertificateRef(o) || o.uid === certificate.metadata.uid,
      ),
    },
  };
}
