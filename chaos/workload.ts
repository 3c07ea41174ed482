// What the chaos run declares, and what each object deserves in the end: a pure model. Every
// certificate is its own (subject, serial); keys are shared by a few. The expected verdict and
// store entry follow from the content alone, so the checks need no knowledge of the faults.
import type { KeyObject } from 'node:crypto';
import { buildCertificate, name, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';

export const NAMESPACE = 'chaos';
export const MAIN_ACCOUNT = 'contoso';
/** Starts on sku Basic (quota 2) and is switched to Standard during the edits. */
export const QUOTA_ACCOUNT = 'fabrikam';
export const K8S_VAULT = 'in-cluster';
export const AZURE_VAULT = 'azure';

const DAY = 86_400_000;
const USABLE = ['digitalSignature', 'keyEncipherment', 'dataEncipherment'];

export type Kind =
  | 'public-inline'
  | 'public-secret'
  | 'private-kubernetes'
  | 'private-azure'
  | 'expired'
  | 'azure-key-missing'
  | 'key-mismatch'
  | 'no-data-encipherment'
  | 'store-conflict'
  | 'quota'
  | 'created-in-outage';

export type Edit = 'new-certificate' | 'new-key' | 'source-rewritten' | 'expired-edit';

/** The reason of Ready the certificate must end with ('Ready' when it is Ready=True). */
export type Verdict =
  | 'Ready'
  | 'CertificateExpired'
  | 'KeyNotFound'
  | 'KeyMismatch'
  | 'MissingDataEncipherment'
  | 'StoreConflict';

export interface PlannedCertificate {
  name: string;
  account: string;
  kind: Kind;
  deletionPolicy: 'Delete' | 'Retain';
  /** Spec at creation and after the edit (undefined: not edited). */
  spec: Record<string, unknown>;
  editedSpec?: Record<string, unknown>;
  edit?: Edit;
  /** A source Secret (public-secret): its tls.crt before and after the edit. */
  sourceSecret?: { name: string; pem: string; editedPem?: string };
  /** A kubernetes-vault key Secret to create before the certificate (and one for the edit). */
  keySecrets: { name: string; keyPem: string }[];
  deleted: boolean;
  verdict: Verdict;
  /** The DER the store must hold in the end; undefined = no entry (or none after deletion). */
  storeDer?: Buffer;
  /** The store entry remains after deletion, no longer the operator's (Retain). */
  retained: boolean;
  /** For Private: the key the store entry names (key.json). */
  storeKey?: { vault: string; name: string };
}

export interface ForeignSecret {
  name: string;
  labels: Record<string, string>;
  data: Record<string, string>;
}

export interface Workload {
  certificates: PlannedCertificate[];
  /** Key pairs imported into the Key Vault emulator, by key name. */
  azureKeys: Map<string, KeyObject>;
  /** Every private key the run used: none may appear outside its vault. */
  privateKeys: KeyObject[];
  foreignSecrets: ForeignSecret[];
}

const azureKeyName = (slot: number) => `chaos-key-${slot}`;
const k8sKeySecret = (slot: number) => `chaos-tls-key-${slot}`;
// Slots of keyPair(): azure keys, kubernetes-vault keys, and the keys edits switch to.
const AZURE_SLOT = 300;
const K8S_SLOT = 320;
const NEW_KEY_OFFSET = 10;
const STRANGER_SLOT = 340;
/** The azure key only the certificates created during the vault outage use. */
const OUTAGE_KEY = 19;

function serialOf(n: number): Buffer {
  return Buffer.from((0x100000 + n).toString(16), 'hex'); // DER: no leading zero byte
}

function certificate(
  serial: number,
  cn: string,
  subjectKey: KeyObject,
  options: { keyUsage?: string[]; expired?: boolean } = {},
): { pem: string; der: Buffer } {
  const now = Date.now();
  const der = buildCertificate({
    subjectKey,
    signingKey: keyPair('rsa2048', STRANGER_SLOT).privateKey,
    issuer: name([[['CN', 'Chaos Test CA']]]),
    subject: name([[['CN', cn]]]),
    serial: serialOf(serial),
    keyUsage: options.keyUsage ?? USABLE,
    ...(options.expired
      ? { notBefore: new Date(now - 3 * DAY), notAfter: new Date(now - DAY) }
      : {}),
  });
  return { pem: pem(der), der };
}

const keyPem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** The kinds in their proportions (a cycle of 20). */
const CYCLE: Kind[] = [
  'public-inline',
  'public-inline',
  'public-inline',
  'public-inline',
  'public-secret',
  'public-secret',
  'public-secret',
  'private-kubernetes',
  'private-kubernetes',
  'private-kubernetes',
  'private-azure',
  'private-azure',
  'private-azure',
  'private-azure',
  'expired',
  'azure-key-missing',
  'key-mismatch',
  'no-data-encipherment',
  'store-conflict',
  'public-inline',
];

/**
 * `count` certificates: 3% (at least 4) in the quota account, the rest cycling through the
 * kinds above in the main account. About a third of the healthy ones are edited, a seventh of
 * the others deleted (alternately Delete and Retain).
 */
export function planWorkload(count: number): Workload {
  const azureKeys = new Map<string, KeyObject>();
  const privateKeys: KeyObject[] = [];
  const azurePair = (slot: number) => {
    const pair = keyPair('rsa2048', AZURE_SLOT + slot);
    if (!azureKeys.has(azureKeyName(slot))) {
      azureKeys.set(azureKeyName(slot), pair.privateKey);
      privateKeys.push(pair.privateKey);
    }
    return pair;
  };
  const k8sPair = (slot: number) => {
    const pair = keyPair('rsa2048', K8S_SLOT + slot);
    if (!privateKeys.includes(pair.privateKey)) privateKeys.push(pair.privateKey);
    return pair;
  };
  // Keys are shared; a small run makes fewer (RSA key generation is slow on a busy machine).
  const keysPerVault = count < 200 ? 2 : 4;
  const quotaCount = Math.max(4, Math.round(count * 0.03));
  // Created while the vault is unreachable, for a key no verdict is cached for: the vault
  // must be asked during the outage.
  const outageCount = Math.max(2, Math.round(count * 0.02));
  const certificates: PlannedCertificate[] = [];
  let serial = 0;
  let deletions = 0;
  const stranger = keyPair('rsa2048', STRANGER_SLOT);
  for (let i = 0; i < count; i++) {
    const quota = i >= count - quotaCount;
    const late = !quota && i >= count - quotaCount - outageCount;
    const kind: Kind = quota ? 'quota' : late ? 'created-in-outage' : CYCLE[i % CYCLE.length]!;
    const certName = `${kind}-${i}`;
    const cn = `${certName}.chaos.example`;
    const c: PlannedCertificate = {
      name: certName,
      account: quota ? QUOTA_ACCOUNT : MAIN_ACCOUNT,
      kind,
      deletionPolicy: 'Delete',
      spec: {},
      keySecrets: [],
      deleted: false,
      verdict: 'Ready',
      retained: false,
    };
    const base = (type: 'Public' | 'Private') => ({
      integrationAccount: { name: c.account },
      type,
      metadata: { partner: certName },
    });
    // Edits: a third of the healthy kinds, by position in the cycle; deletions: a seventh of
    // the unedited healthy ones.
    const editable = Math.floor(i / CYCLE.length) % 3 === 0;
    const slot = i % keysPerVault;
    switch (kind) {
      case 'public-inline':
      case 'quota': {
        const cert = certificate(serial++, cn, stranger.publicKey, {
          keyUsage: ['digitalSignature'],
        });
        c.spec = { ...base('Public'), certificate: { inline: cert.pem } };
        c.storeDer = cert.der;
        if (editable && kind === 'public-inline') {
          if (i % 2 === 0) {
            const next = certificate(serial++, cn, stranger.publicKey);
            c.edit = 'new-certificate';
            c.editedSpec = { ...c.spec, certificate: { inline: next.pem } };
            c.storeDer = next.der;
          } else {
            // A broken edit: the last good version stays in the store.
            const next = certificate(serial++, cn, stranger.publicKey, { expired: true });
            c.edit = 'expired-edit';
            c.editedSpec = { ...c.spec, certificate: { inline: next.pem } };
            c.verdict = 'CertificateExpired';
          }
        }
        break;
      }
      case 'public-secret': {
        const cert = certificate(serial++, cn, stranger.publicKey);
        const secretName = `${certName}-source`;
        c.sourceSecret = { name: secretName, pem: cert.pem };
        c.spec = { ...base('Public'), certificate: { secretRef: { name: secretName } } };
        c.storeDer = cert.der;
        if (editable) {
          const next = certificate(serial++, cn, stranger.publicKey);
          c.edit = 'source-rewritten';
          c.sourceSecret.editedPem = next.pem;
          c.storeDer = next.der;
        }
        break;
      }
      case 'private-kubernetes': {
        const pair = k8sPair(slot);
        const cert = certificate(serial++, cn, pair.publicKey);
        c.keySecrets.push({ name: k8sKeySecret(slot), keyPem: keyPem(pair.privateKey) });
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: K8S_VAULT, name: k8sKeySecret(slot) },
        };
        c.storeDer = cert.der;
        c.storeKey = { vault: K8S_VAULT, name: k8sKeySecret(slot) };
        if (editable) {
          const nextSlot = slot + NEW_KEY_OFFSET;
          const next = k8sPair(nextSlot);
          const nextCert = certificate(serial++, cn, next.publicKey);
          c.keySecrets.push({ name: k8sKeySecret(nextSlot), keyPem: keyPem(next.privateKey) });
          c.edit = 'new-key';
          c.editedSpec = {
            ...c.spec,
            certificate: { inline: nextCert.pem },
            key: { vault: K8S_VAULT, name: k8sKeySecret(nextSlot) },
          };
          c.storeDer = nextCert.der;
          c.storeKey = { vault: K8S_VAULT, name: k8sKeySecret(nextSlot) };
        }
        break;
      }
      case 'private-azure': {
        const pair = azurePair(slot);
        const cert = certificate(serial++, cn, pair.publicKey);
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: AZURE_VAULT, name: azureKeyName(slot) },
        };
        c.storeDer = cert.der;
        c.storeKey = { vault: AZURE_VAULT, name: azureKeyName(slot) };
        if (editable) {
          const nextSlot = slot + NEW_KEY_OFFSET;
          const next = azurePair(nextSlot);
          const nextCert = certificate(serial++, cn, next.publicKey);
          c.edit = 'new-key';
          c.editedSpec = {
            ...c.spec,
            certificate: { inline: nextCert.pem },
            key: { vault: AZURE_VAULT, name: azureKeyName(nextSlot) },
          };
          c.storeDer = nextCert.der;
          c.storeKey = { vault: AZURE_VAULT, name: azureKeyName(nextSlot) };
        }
        break;
      }
      case 'created-in-outage': {
        const pair = azurePair(OUTAGE_KEY);
        const cert = certificate(serial++, cn, pair.publicKey);
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: AZURE_VAULT, name: azureKeyName(OUTAGE_KEY) },
        };
        c.storeDer = cert.der;
        c.storeKey = { vault: AZURE_VAULT, name: azureKeyName(OUTAGE_KEY) };
        break;
      }
      case 'expired': {
        const cert = certificate(serial++, cn, stranger.publicKey, { expired: true });
        c.spec = { ...base('Public'), certificate: { inline: cert.pem } };
        c.verdict = 'CertificateExpired';
        break;
      }
      case 'azure-key-missing': {
        const cert = certificate(serial++, cn, azurePair(slot).publicKey);
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: AZURE_VAULT, name: `chaos-no-such-key-${i}` },
        };
        c.verdict = 'KeyNotFound';
        break;
      }
      case 'key-mismatch': {
        // The certificate is for the stranger's key; the vault's key is another.
        const cert = certificate(serial++, cn, stranger.publicKey);
        const pair = k8sPair(slot);
        c.keySecrets.push({ name: k8sKeySecret(slot), keyPem: keyPem(pair.privateKey) });
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: K8S_VAULT, name: k8sKeySecret(slot) },
        };
        c.verdict = 'KeyMismatch';
        break;
      }
      case 'no-data-encipherment': {
        const pair = k8sPair(slot);
        const cert = certificate(serial++, cn, pair.publicKey, { keyUsage: ['digitalSignature'] });
        c.keySecrets.push({ name: k8sKeySecret(slot), keyPem: keyPem(pair.privateKey) });
        c.spec = {
          ...base('Private'),
          certificate: { inline: cert.pem },
          key: { vault: K8S_VAULT, name: k8sKeySecret(slot) },
        };
        c.verdict = 'MissingDataEncipherment';
        break;
      }
      case 'store-conflict': {
        const cert = certificate(serial++, cn, stranger.publicKey);
        c.spec = { ...base('Public'), certificate: { inline: cert.pem } };
        c.verdict = 'StoreConflict';
        break;
      }
    }
    const healthy = c.verdict === 'Ready' && !c.edit && kind !== 'quota' && !late;
    if (healthy && Math.floor(i / CYCLE.length) % 3 === 1 && i % 7 < 3) {
      c.deleted = true;
      c.deletionPolicy = deletions++ % 2 === 0 ? 'Delete' : 'Retain';
      c.retained = c.deletionPolicy === 'Retain';
      if (!c.retained) delete c.storeDer;
    } else if (c.verdict === 'Ready' && i % 5 === 0) {
      c.deletionPolicy = 'Retain'; // Retain that is never used: the entry is the operator's
    }
    c.spec.deletionPolicy = c.deletionPolicy;
    if (c.editedSpec) c.editedSpec.deletionPolicy = c.deletionPolicy;
    certificates.push(c);
  }
  privateKeys.push(stranger.privateKey);
  return { certificates, azureKeys, privateKeys, foreignSecrets: foreignSecrets(certificates) };
}

/**
 * Secrets nobody asked the operator to manage, with store-like names: one at the store name of
 * each store-conflict certificate, and ghosts that carry the store's labels for certificates
 * that do not exist. The operator must leave every one of them as it is.
 */
function foreignSecrets(certificates: PlannedCertificate[]): ForeignSecret[] {
  const out: ForeignSecret[] = [];
  for (const c of certificates.filter((x) => x.kind === 'store-conflict'))
    out.push({
      name: `${c.name}-b2bcert`,
      labels: { app: 'someone-else' },
      data: { 'tls.crt': "not the operator's", owner: 'someone else' },
    });
  const ghosts = Math.max(2, Math.round(certificates.length / 100));
  for (let i = 0; i < ghosts; i++)
    out.push({
      name: `ghost-${i}-b2bcert`,
      labels: {
        'integration.b2b.dev/integration-account': MAIN_ACCOUNT,
        'integration.b2b.dev/certificate': `ghost-${i}`,
        'integration.b2b.dev/type': 'Public',
        'integration.b2b.dev/certificate-uid': `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      },
      data: { 'tls.crt': `ghost ${i}` },
    });
  return out;
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
