// The API's resources: generated spec/status shapes (from crds/) plus object metadata.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { ResourceType } from '../kube/client.ts';
import type {
  CertificateSpec,
  CertificateStatus,
  IntegrationAccountSpec,
  IntegrationAccountStatus,
} from './generated.ts';

export type {
  CertificateSpec,
  CertificateStatus,
  IntegrationAccountSpec,
  IntegrationAccountStatus,
};

export const GROUP = 'integration.b2b.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const FINALIZER = `${GROUP}/finalizer`;

export const Labels = {
  integrationAccount: `${GROUP}/integration-account`,
  certificate: `${GROUP}/certificate`,
  type: `${GROUP}/type`,
  /** The uid of the Certificate a store Secret belongs to (also when it has no ownerReference). */
  certificateUid: `${GROUP}/certificate-uid`,
} as const;

export const CertificateResource: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: 'certificates',
  kind: 'Certificate',
};
export const IntegrationAccountResource: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: 'integrationaccounts',
  kind: 'IntegrationAccount',
};

export interface ObjectMeta extends V1ObjectMeta {
  name: string;
  namespace: string;
}

export interface Certificate {
  apiVersion: typeof API_VERSION;
  kind: 'Certificate';
  metadata: ObjectMeta;
  spec: CertificateSpec;
  status?: CertificateStatus;
}

export interface IntegrationAccount {
  apiVersion: typeof API_VERSION;
  kind: 'IntegrationAccount';
  metadata: ObjectMeta;
  spec: IntegrationAccountSpec;
  status?: IntegrationAccountStatus;
}

export type Condition = NonNullable<CertificateStatus['conditions']>[number];

export type Sku = NonNullable<IntegrationAccountSpec['sku']>;
export const skuQuota: Record<Sku, number> = { Free: 25, Basic: 2, Standard: 1000 };
