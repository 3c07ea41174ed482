// One table of certificate cases, read by the operator's integration tests and by the tests of
// `b2b validate`: each case says what the operator reports (Ready's reason) and what the CLI
// says without a cluster, so the two cannot drift apart unnoticed.
import type { CertificateSpec, IntegrationAccountSpec } from '../../src/api/types.ts';
import { privateUsable, selfSigned } from './certs.ts';
import { keyPair } from './keys.ts';

const day = 86_400_000;

/** The certificate material of the cases (also used on its own by certificate-public.test.ts). */
export const material = {
  /** A partner's RSA certificate with Key Usage digitalSignature: a valid Public certificate. */
  partner: selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }),
  notACertificate: 'this is not a certificate',
  /** A private key (PKCS#8 PEM) as users paste it next to a certificate. */
  pastedKeyPem: keyPair('rsa2048', 7).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  expired: selfSigned('ec256', {
    notBefore: new Date(Date.now() - 10 * day),
    notAfter: new Date(Date.now() - day),
  }),
  notYetValid: selfSigned('ec256', {
    notBefore: new Date(Date.now() + 10 * day),
    notAfter: new Date(Date.now() + 20 * day),
  }),
  expiringSoon: selfSigned('rsa2048', {
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 10 * day),
  }),
  privateUsable: privateUsable(),
  privateWithoutDataEncipherment: selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }),
  privateEc: selfSigned('ec256', { keyUsage: ['digitalSignature', 'dataEncipherment'] }),
};

/** The accounts the cases belong to (created in the cluster, and part of the CLI's input). */
export const caseAccounts: Record<string, IntegrationAccountSpec> = {
  contoso: {
    keyVaults: [
      {
        name: 'main',
        azure: { vaultUrl: 'https://contoso-kv.vault.azure.net', auth: { workloadIdentity: {} } },
      },
      { name: 'in-cluster', kubernetes: {} },
    ],
  },
  small: { sku: 'Basic' },
  evil: {
    keyVaults: [
      {
        name: 'main',
        azure: { vaultUrl: 'https://attacker.example.com', auth: { managedIdentity: {} } },
      },
    ],
  },
};

export interface CertificateCase {
  name: string;
  spec: Partial<CertificateSpec> & Pick<CertificateSpec, 'certificate'>;
  /** Secrets and ConfigMaps the case needs (namespace filled in by the test). */
  objects?: Record<string, unknown>[];
  /** The reason of the operator's Ready condition. */
  operator: string;
  /** What `b2b validate` says: fail and warn carry the operator's reason or ExpiresSoon. */
  cli: { level: 'pass' | 'warn' | 'fail' | 'pending'; reason: string };
}

const inline = (pem: string) => ({ certificate: { inline: pem } });
const privateKey = (vault: string, name = 'k') => ({
  type: 'Private' as const,
  key: { vault, name },
});

export const certificateCases: CertificateCase[] = [
  {
    name: 'valid-inline',
    spec: inline(material.partner.pem),
    operator: 'Ready',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    name: 'valid-secret',
    spec: { certificate: { secretRef: { name: 'partner-tls' } } },
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'partner-tls' },
        type: 'Opaque',
        stringData: { 'tls.crt': material.partner.pem },
      },
    ],
    operator: 'Ready',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    name: 'valid-configmap-der',
    spec: { certificate: { configMapRef: { name: 'partner-certs', key: 'partner.cer' } } },
    objects: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'partner-certs' },
        data: { 'partner.pem': material.partner.pem },
        binaryData: { 'partner.cer': material.partner.der.toString('base64') },
      },
    ],
    operator: 'Ready',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    name: 'valid-configmap-pem',
    spec: { certificate: { configMapRef: { name: 'partner-certs', key: 'partner.pem' } } },
    operator: 'Ready',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    name: 'configmap-missing-key',
    spec: { certificate: { configMapRef: { name: 'partner-certs', key: 'nope.pem' } } },
    operator: 'CertificateSourceNotFound',
    cli: { level: 'pending', reason: 'CertificateSourceNotFound' },
  },
  {
    name: 'secret-elsewhere',
    spec: { certificate: { secretRef: { name: 'not-in-this-repository' } } },
    operator: 'CertificateSourceNotFound',
    cli: { level: 'pending', reason: 'ResolvedAtApplyTime' },
  },
  {
    name: 'not-a-certificate',
    spec: inline(material.notACertificate),
    operator: 'InvalidCertificate',
    cli: { level: 'fail', reason: 'InvalidCertificate' },
  },
  {
    name: 'private-key-pasted',
    spec: inline(material.partner.pem + material.pastedKeyPem),
    operator: 'PrivateKeyInCertificate',
    cli: { level: 'fail', reason: 'PrivateKeyInCertificate' },
  },
  {
    name: 'expired',
    spec: inline(material.expired.pem),
    operator: 'CertificateExpired',
    cli: { level: 'fail', reason: 'CertificateExpired' },
  },
  {
    name: 'not-yet-valid',
    spec: inline(material.notYetValid.pem),
    operator: 'CertificateNotYetValid',
    cli: { level: 'pending', reason: 'CertificateNotYetValid' },
  },
  {
    name: 'expiring-soon',
    spec: inline(material.expiringSoon.pem),
    operator: 'Ready',
    cli: { level: 'warn', reason: 'ExpiresSoon' },
  },
  {
    // The account is not in the input: the certificate's own checks run, the account waits.
    name: 'account-elsewhere',
    spec: { ...inline(material.partner.pem), integrationAccount: { name: 'northwind' } },
    operator: 'IntegrationAccountNotFound',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    // One vault's problem stays with the certificates that use it (API.md).
    name: 'account-with-refused-vault',
    spec: { ...inline(material.partner.pem), integrationAccount: { name: 'evil' } },
    operator: 'Ready',
    cli: { level: 'pass', reason: 'Valid' },
  },
  {
    name: 'private-refused-vault',
    spec: {
      ...inline(material.privateUsable.pem),
      ...privateKey('main'),
      integrationAccount: { name: 'evil' },
    },
    operator: 'VaultHostNotAllowed',
    cli: { level: 'fail', reason: 'VaultHostNotAllowed' },
  },
  {
    name: 'private-no-data-encipherment',
    spec: { ...inline(material.privateWithoutDataEncipherment.pem), ...privateKey('main') },
    operator: 'MissingDataEncipherment',
    cli: { level: 'fail', reason: 'MissingDataEncipherment' },
  },
  {
    name: 'private-ec',
    spec: { ...inline(material.privateEc.pem), ...privateKey('main') },
    operator: 'UnsupportedKeyAlgorithm',
    cli: { level: 'fail', reason: 'UnsupportedKeyAlgorithm' },
  },
  {
    name: 'private-vault-not-configured',
    spec: { ...inline(material.privateUsable.pem), ...privateKey('other') },
    operator: 'VaultNotConfigured',
    cli: { level: 'fail', reason: 'VaultNotConfigured' },
  },
  {
    // The vault key is only checked at apply time, by using it.
    name: 'private-key-absent',
    spec: { ...inline(material.privateUsable.pem), ...privateKey('in-cluster', 'absent-key') },
    operator: 'KeyNotFound',
    cli: { level: 'pass', reason: 'Valid' },
  },
  ...['quota-1', 'quota-2'].map((name) => ({
    name,
    spec: { ...inline(material.partner.pem), integrationAccount: { name: 'small' } },
    operator: 'Ready',
    cli: { level: 'pass' as const, reason: 'Valid' },
  })),
  {
    name: 'quota-3',
    spec: { ...inline(material.partner.pem), integrationAccount: { name: 'small' } },
    operator: 'QuotaExceeded',
    cli: { level: 'fail', reason: 'QuotaExceeded' },
  },
];

/** The manifests of the accounts, objects and certificates of the table, in one namespace. */
export function caseManifests(namespace: string): Record<string, unknown>[] {
  const meta = (name: string) => ({ name, namespace });
  return [
    ...Object.entries(caseAccounts).map(([name, spec]) => ({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: meta(name),
      spec,
    })),
    ...certificateCases.flatMap((c) =>
      (c.objects ?? []).map((o) => ({ ...o, metadata: { ...(o.metadata as object), namespace } })),
    ),
    ...certificateCases.map((c) => ({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: meta(c.name),
      spec: { integrationAccount: { name: 'contoso' }, type: 'Public', ...c.spec },
    })),
  ];
}
