// `b2b import azure`, the pure part: an Azure Logic Apps integration account and its
// certificates as ARM returns them, mapped to the Certificate and IntegrationAccount manifests
// that make the operator adopt them, then checked with `b2b validate`'s own checks. No I/O.
import { createHash } from 'node:crypto';
import { API_VERSION, type Certificate, type IntegrationAccount } from '../api/types.ts';
import { parseCertificateSource } from '../certificates/parse.ts';
import { toPem } from '../certificates/inspect.ts';
import { parseVaultId, type AzureCloud } from '../stores/azure/arm-ids.ts';
import { MARKER, markerOf, type CertificateResource } from '../stores/azure/entry.ts';
import type { CustomResourceDefinition } from './crd-schema.ts';
import { validateObjects } from './validate.ts';

/** The integration account as read from ARM. */
export interface AzureAccount {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string | undefined;
  sku?: string | undefined;
}

/** One certificate entry as ARM lists it. */
export type AzureEntry = CertificateResource & { name?: string };

export type AuthMethod = 'workloadIdentity' | 'managedIdentity';

export interface ImportOptions {
  /** Namespace of the manifests (entries the operator marked keep the marker's). */
  namespace: string;
  cloud: AzureCloud;
  auth: AuthMethod;
  deletionPolicy: 'Delete' | 'Retain';
  /** Vault URLs read from ARM, by the vault's resource ID in lower case. */
  vaultUrls: ReadonlyMap<string, string>;
}

export interface ImportedCertificate {
  namespace: string;
  name: string;
  azureName: string;
  type: 'Public' | 'Private';
  thumbprint: string;
  notAfter: Date;
  /** The entry carried the operator's marker: namespace/name come from it. */
  marked: boolean;
  manifest: Certificate;
}

export interface SkippedEntry {
  azureName: string;
  reason: string;
  message: string;
}

export interface ImportPlan {
  accounts: IntegrationAccount[];
  certificates: ImportedCertificate[];
  skipped: SkippedEntry[];
  /** Things the user should know before committing (one line each). */
  notes: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);

/**
 * A valid Kubernetes object name (DNS-1123 subdomain) for an Azure name, the same every time.
 * ARM names are case-insensitive, so lower-casing alone loses nothing; a name that needs more
 * (`_`, `(`, `)`, edges that are not alphanumeric) gets a hash of the Azure name appended, so
 * that `a_b` and `a-b`, both valid in Azure, never meet.
 */
export function kubernetesName(azureName: string): string {
  const lower = azureName.toLowerCase();
  if (lower.length <= 253 && DNS_SUBDOMAIN.test(lower)) return lower;
  const cleaned = lower
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((part) => part.replace(/-+/g, '-').replace(/^-+|-+$/g, ''))
    .filter(Boolean)
    .join('.')
    .slice(0, 200)
    .replace(/[.-]+$/, '');
  return `${cleaned || 'certificate'}-${shortHash(lower)}`;
}

/** A DNS-1123 label (no dots, 63 at most), for names in spec.keyVaults. */
export function kubernetesLabel(azureName: string): string {
  const lower = azureName.toLowerCase();
  if (lower.length <= 63 && DNS_LABEL.test(lower)) return lower;
  const cleaned = lower
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 55)
    .replace(/-+$/, '');
  return `${cleaned || 'vault'}-${shortHash(lower)}`;
}

const vaultHostSuffix: Record<AzureCloud, string> = {
  AzurePublic: '.vault.azure.net',
  AzureChina: '.vault.azure.cn',
  AzureUSGovernment: '.vault.usgovcloudapi.net',
};

/**
 * A vault's URL from its resource ID: vault names are unique per cloud, the host follows. A
 * Managed HSM is no vault an azure store can use (parseVaultId refuses it).
 */
export function vaultUrlFromId(vaultId: string, cloud: AzureCloud): string | undefined {
  const parts = parseVaultId(vaultId);
  if (!parts) return undefined;
  return `https://${parts.name.toLowerCase()}${vaultHostSuffix[cloud]}/`;
}

/** ARM entry metadata, without the operator's marker, as the string map spec.metadata is. */
function userMetadata(
  entry: AzureEntry,
  azureName: string,
  notes: string[],
): Record<string, string> | undefined {
  const metadata = entry.properties?.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
    if (key === MARKER) continue;
    if (typeof value === 'string') out[key] = value;
    else {
      out[key] = JSON.stringify(value);
      notes.push(
        `certificate ${azureName}: metadata ${key} is not a string in Azure; spec.metadata holds it as the JSON text ${JSON.stringify(out[key])}, which the operator writes back as a string`,
      );
    }
  }
  return Object.keys(out).length ? out : undefined;
}

interface VaultEntry {
  name: string;
  resourceId: string;
  url: string;
}

/** The manifests for one integration account and its entries (not yet validated). */
export function planImport(
  account: AzureAccount,
  entries: readonly AzureEntry[],
  options: ImportOptions,
): ImportPlan {
  const plan: ImportPlan = { accounts: [], certificates: [], skipped: [], notes: [] };
  const accountName = kubernetesName(account.name);
  const vaults = new Map<string, VaultEntry>();
  const taken = new Set<string>();
  const sorted = [...entries].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));

  for (const entry of sorted) {
    const azureName = nameOf(entry);
    const skip = (reason: string, message: string) =>
      plan.skipped.push({ azureName, reason, message });
    const der = Buffer.from(entry.properties?.publicCertificate ?? '', 'base64');
    const parsed = parseCertificateSource(der);
    if (!parsed.ok) {
      skip(parsed.reason, parsed.message);
      continue;
    }
    let key: Certificate['spec']['key'];
    const armKey = entry.properties?.key;
    if (armKey) {
      const vaultId = armKey.keyVault?.id ?? '';
      if (!parseVaultId(vaultId) || !armKey.keyName) {
        skip(
          'InvalidKeyReference',
          `its key reference names no key vault resource ID and key name (keyVault.id ${JSON.stringify(vaultId)}, keyName ${JSON.stringify(armKey.keyName ?? '')})`,
        );
        continue;
      }
      const vault = vaultFor(vaultId, vaults, options, plan.notes);
      key = {
        vault: vault.name,
        name: armKey.keyName,
        // Pinned: adopting without a write needs the same key version as the entry.
        ...(armKey.keyVersion ? { version: armKey.keyVersion } : {}),
      };
      if (!armKey.keyVersion)
        plan.notes.push(
          `certificate ${azureName}: its key reference has no keyVersion, and the operator writes the version it verifies, so spec.adoption IfIdentical will not adopt it (StoreConflict); set spec.adoption: Always on it, or pin the key version in Azure first`,
        );
    }
    const { namespace, name, marked } = identityOf(entry, azureName, options.namespace, plan.notes);
    if (taken.has(`${namespace}/${name}`)) {
      skip(
        'DuplicateName',
        `${namespace}/${name} is already the name of another imported entry; import it by hand with another name and spec.azureName ${azureName}`,
      );
      continue;
    }
    taken.add(`${namespace}/${name}`);
    const metadata = userMetadata(entry, azureName, plan.notes);
    const manifest: Certificate = {
      apiVersion: API_VERSION,
      kind: 'Certificate',
      metadata: { name, namespace },
      spec: {
        integrationAccount: { name: accountName },
        type: key ? 'Private' : 'Public',
        certificate: { inline: toPem(der) },
        ...(key ? { key } : {}),
        ...(metadata ? { metadata } : {}),
        ...(azureName !== name ? { azureName } : {}),
        deletionPolicy: options.deletionPolicy,
      },
    };
    plan.certificates.push({
      namespace,
      name,
      azureName,
      type: key ? 'Private' : 'Public',
      thumbprint: parsed.certificate.thumbprint,
      notAfter: parsed.certificate.notAfter,
      marked,
      manifest,
    });
  }

  const namespaces = [...new Set(plan.certificates.map((c) => c.namespace))].sort();
  for (const namespace of namespaces.length ? namespaces : [options.namespace])
    plan.accounts.push(
      accountManifest(account, accountName, namespace, [...vaults.values()], options),
    );
  plan.certificates.sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  return plan;
}

const nameOf = (entry: AzureEntry): string => entry.name ?? entry.id?.split('/').pop() ?? '';

/** The marker's namespace/name when the operator wrote the entry, else derived from its name. */
function identityOf(
  entry: AzureEntry,
  azureName: string,
  namespace: string,
  notes: string[],
): { namespace: string; name: string; marked: boolean } {
  const marker = markerOf(entry);
  if (marker) {
    const [markedNamespace = '', markedName = '', ...rest] = marker.certificate.split('/');
    if (
      rest.length === 0 &&
      markedNamespace.length <= 63 &&
      DNS_LABEL.test(markedNamespace) &&
      markedName.length <= 253 &&
      DNS_SUBDOMAIN.test(markedName)
    )
      return { namespace: markedNamespace, name: markedName, marked: true };
    notes.push(
      `certificate ${azureName}: its b2bOperator marker names ${JSON.stringify(marker.certificate)}, not a namespace/name; imported into ${namespace}`,
    );
  }
  return { namespace, name: kubernetesName(azureName), marked: false };
}

function vaultFor(
  vaultId: string,
  vaults: Map<string, VaultEntry>,
  options: ImportOptions,
  notes: string[],
): VaultEntry {
  const id = vaultId.toLowerCase().replace(/\/$/, '');
  const known = vaults.get(id);
  if (known) return known;
  const base = kubernetesLabel(parseVaultId(vaultId)!.name);
  const used = new Set([...vaults.values()].map((v) => v.name));
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base.slice(0, 58)}-${i}`;
  let url = options.vaultUrls.get(id);
  if (!url) {
    url = vaultUrlFromId(vaultId, options.cloud)!;
    notes.push(
      `key vault ${name}: its URL was not readable through ARM; ${url} follows from its name and the cloud, check it`,
    );
  }
  const entry = { name, resourceId: vaultId, url };
  vaults.set(id, entry);
  return entry;
}

const SKUS = ['Free', 'Basic', 'Standard'];

function accountManifest(
  account: AzureAccount,
  name: string,
  namespace: string,
  vaults: readonly VaultEntry[],
  options: ImportOptions,
): IntegrationAccount {
  const auth = { [options.auth]: {} };
  return {
    apiVersion: API_VERSION,
    kind: 'IntegrationAccount',
    metadata: { name, namespace },
    spec: {
      ...(account.sku && SKUS.includes(account.sku)
        ? { sku: account.sku as 'Free' | 'Basic' | 'Standard' }
        : {}),
      ...(account.location ? { location: account.location } : {}),
      store: {
        azure: {
          subscriptionId: account.subscriptionId,
          resourceGroup: account.resourceGroup,
          name: account.name,
          cloud: options.cloud,
          auth,
        },
      },
      ...(vaults.length
        ? {
            keyVaults: vaults.map((v) => ({
              name: v.name,
              azure: { vaultUrl: v.url, resourceId: v.resourceId, auth },
            })),
          }
        : {}),
    },
  };
}

/**
 * The plan checked as `b2b validate` checks it: a certificate the API server or the operator
 * would refuse (expired, no Data Encipherment for Private, ...) is left out and listed as
 * skipped with the operator's reason; an account that fails is a bug of the mapping.
 */
export function validatePlan(
  plan: ImportPlan,
  crds: readonly CustomResourceDefinition[],
  now: Date,
  allowedVaultHosts: readonly string[] = [],
): ImportPlan {
  const objects = [...plan.accounts, ...plan.certificates.map((c) => c.manifest)];
  const results = validateObjects(
    objects.map((object) => ({
      file: 'import',
      line: 1,
      object: object as unknown as Record<string, unknown>,
    })),
    crds,
    {
      now,
      warnExpiringMs: undefined,
      allowedVaultHosts,
      namespace: plan.accounts[0]!.metadata.namespace,
    },
  );
  const verdict = (kind: string, namespace: string, name: string) =>
    results.find((r) => r.kind === kind && r.namespace === namespace && r.name === name);
  for (const account of plan.accounts) {
    const r = verdict('IntegrationAccount', account.metadata.namespace, account.metadata.name);
    if (r?.level === 'fail')
      throw new Error(
        `the IntegrationAccount ${account.metadata.namespace}/${account.metadata.name} made from the Azure account does not validate: ${r.reason}: ${r.message}`,
      );
  }
  const kept: ImportedCertificate[] = [];
  const skipped = [...plan.skipped];
  const notes = [...plan.notes];
  for (const c of plan.certificates) {
    const r = verdict('Certificate', c.namespace, c.name);
    if (r?.level === 'fail') {
      skipped.push({ azureName: c.azureName, reason: r.reason, message: r.message });
      continue;
    }
    if (r?.level === 'warn')
      notes.push(
        `certificate ${c.azureName} (${c.namespace}/${c.name}): ${r.reason}: ${r.message}`,
      );
    kept.push(c);
  }
  return { ...plan, certificates: kept, skipped, notes };
}
