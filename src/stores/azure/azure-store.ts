// The azure store: each Ready certificate as a certificate of an Azure Logic Apps integration
// account (Microsoft.Logic/integrationAccounts/certificates, api-version 2019-05-01, through
// @azure/arm-logic). Prerequisites first; then GET, and a PUT only when Azure holds something
// else. An entry without our marker is taken only as spec.adoption allows (entry.ts): one that
// already holds everything is adopted without a write, on the record of status.store.adopted,
// and gets the marker with the next write needed anyway. Our entry changed in Azure is
// restored (drift). The marker is in properties.metadata: namespace/name and uid.
import { Reason } from '../../api/reasons.ts';
import type { Certificate, IntegrationAccount } from '../../api/types.ts';
import { checkIdentityAllowed, type IdentityPolicy } from '../../identity/policy.ts';
import { IdentityError, type ServiceAccountIdentities } from '../../identity/service-account.ts';
import { resolveServiceAccount } from '../../vaults/azure/auth.ts';
import type { Logger } from '../../operator/log.ts';
import {
  CertificateInUseError,
  IGNORE_USAGE_ANNOTATION,
  StoreConflictError,
  StorePrerequisiteError,
  type AzureEntryAccess,
  type StoreEntry,
  type SyncResult,
} from '../store.ts';
import {
  certificateId,
  integrationAccountId,
  parseCertificateId,
  type AzureStoreSpec,
} from './arm-ids.ts';
import { DEFAULT_AZURE_TIMEOUT_MS } from '../../vaults/azure/deadline.ts';
import { ArmError, ArmRequests } from './arm-requests.ts';
import type { AzureClients, EndpointOverrides } from './clients.ts';
import {
  adoptedByRecord,
  adoptionRecordOf,
  azureTakeOver,
  desiredBody,
  drifted,
  driftDescription,
  matchesWithoutMarker,
  ownedBy,
  sameContent,
  unchangedSinceAdoption,
  type CertificateResource,
} from './entry.ts';
import { authorizationFailed, Prerequisites, type AzureAccountInfo } from './prerequisites.ts';
import { AgreementUsage, describeUses, usesOf } from './agreements.ts';
import { errorMessage } from '../../operator/log.ts';

/** A Delete entry that agreements use is asked about again this often (or each recheck). */
const IN_USE_RECHECK_MS = 60_000;

export interface AzureStoreOptions {
  log: Logger;
  recheckIntervalMs: number;
  endpoints: EndpointOverrides;
  /** One key of a Secret in the account's namespace (a service principal's client secret). */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** Each ARM, Microsoft Graph and token request ends by then (--azure-request-timeout). */
  timeoutMs?: number;
  /** Aborts when the operator cancels its reconciles (drain deadline, leadership lost). */
  signal?: () => AbortSignal | undefined;
  requests?: ArmRequests;
  /** --azure-identity-policy: whose identity an account may use (none: every method). */
  identityPolicy?: IdentityPolicy | undefined;
  /** A workloadIdentity with serviceAccountName: the ServiceAccount's token and annotations. */
  serviceAccounts?: ServiceAccountIdentities | undefined;
}

export const azureNameOf = (certificate: Certificate): string =>
  certificate.spec.azureName ?? certificate.metadata.name;

/** ARM's limit for an integration account certificate's name (spec.azureName's maxLength). */
const AZURE_NAME_MAX = 80;

/** A Kubernetes name may be longer than ARM allows: only an azure store has to refuse it. */
function checkAzureName(certificate: Certificate): string {
  const name = azureNameOf(certificate);
  if (name.length > AZURE_NAME_MAX)
    throw new StorePrerequisiteError(
      Reason.AzureNameTooLong,
      `the Certificate's name has ${name.length} characters and ARM allows ${AZURE_NAME_MAX} for an integration account certificate: set spec.azureName to a shorter name`,
      true,
    );
  return name;
}

/** The DER of a PEM certificate, base64: what ARM's publicCertificate holds. */
export function derBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

interface Connection {
  clients: AzureClients;
  /** The account's settings these clients were made for (and the prerequisites' cache key). */
  key: string;
  usedAt: number;
}

export class AzureStore {
  readonly type = 'azure';
  private readonly options: AzureStoreOptions;
  private readonly requests: ArmRequests;
  private readonly prerequisites: Prerequisites;
  private readonly agreements: AgreementUsage;
  private readonly timeoutMs: number;
  /** Per IntegrationAccount (namespace/name): one set of SDK clients, for its current spec. */
  private readonly connections = new Map<string, Connection>();
  private lastSweep = Date.now();

  constructor(options: AzureStoreOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AZURE_TIMEOUT_MS;
    this.requests =
      options.requests ??
      new ArmRequests({
        log: options.log,
        timeoutMs: this.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    this.prerequisites = new Prerequisites(this.requests, options.recheckIntervalMs);
    this.agreements = new AgreementUsage(this.requests, options.recheckIntervalMs);
  }

  /** Connections and cached prerequisites held (tests). */
  get cacheSizes(): { connections: number; prerequisites: number } {
    return { connections: this.connections.size, prerequisites: this.prerequisites.size };
  }

  /** The IntegrationAccount is gone: drop its clients and what was learnt through them. */
  forgetAccount(namespace: string, name: string): void {
    const id = `${namespace}/${name}`;
    const connection = this.connections.get(id);
    if (!connection) return;
    this.connections.delete(id);
    this.forgetConnection(connection.key);
  }

  private forgetConnection(key: string): void {
    this.prerequisites.forget(key);
    this.agreements.forget(key);
  }

  refFor(account: IntegrationAccount, certificate: Certificate): string {
    return certificateId(specOf(account), azureNameOf(certificate));
  }

  /** The Azure integration account as ARM reports it (for the account's status). */
  async accountInfo(account: IntegrationAccount): Promise<AzureAccountInfo> {
    const connection = await this.connection(account);
    return this.prerequisites.account(connection.clients, connection.key);
  }

  /** Writes the entry as needed, then says which agreements use it (status.azure). */
  async sync(account: IntegrationAccount, entry: StoreEntry): Promise<SyncResult> {
    const name = checkAzureName(entry.certificate);
    const connection = await this.connection(account);
    const result = await this.write(account, entry, name, connection);
    const { clients, key } = connection;
    try {
      const index = await this.agreements.usage(clients, key);
      return { ...result, usage: { uses: usesOf(index, name) } };
    } catch (err) {
      // The certificate is synced all the same; only who uses it is not known this time.
      const why =
        err instanceof ArmError && err.status === 403
          ? `the identity the account signs in with may not read its agreements (${err.message}); grant it Microsoft.Logic/integrationAccounts/agreements/read`
          : errorMessage(err);
      this.options.log.warn('agreements not read', { account: clients.spec.name, error: why });
      return { ...result, usage: { unknown: why } };
    }
  }

  private async write(
    account: IntegrationAccount,
    entry: StoreEntry,
    name: string,
    { clients, key }: Connection,
  ): Promise<SyncResult> {
    const { certificate } = entry;
    const spec = clients.spec;
    const ref = certificateId(spec, name);
    const location = `Azure integration account certificate ${ref}`;
    await this.prerequisites.account(clients, key);
    const vaultResourceId = entry.key
      ? account.spec.keyVaults?.find((v) => v.name === entry.key?.vault)?.azure?.resourceId
      : undefined;
    if (entry.key && !vaultResourceId)
      throw new StorePrerequisiteError(
        Reason.VaultNotConfigured,
        `key vault ${entry.key.vault} has no azure.resourceId: the integration account references the key by the vault's ARM resource ID`,
        true,
      );
    const current = await this.read(clients, name);
    const desired = desiredBody(certificate, {
      derBase64: derBase64(entry.pem),
      metadata: entry.metadata,
      key:
        entry.key && vaultResourceId
          ? { vaultResourceId, name: entry.key.name, version: entry.key.version }
          : undefined,
    });
    const azure = this.accessOf(account);
    // Adopted earlier without a write (status.store.adopted): ours, though not marked.
    const adopted =
      current && !ownedBy(current, certificate)
        ? adoptedByRecord(current, certificate, ref)
        : undefined;
    // Not carrying our uid (no marker b2bOperator with it): spec.adoption decides.
    const takeOver =
      current && !ownedBy(current, certificate) && !adopted
        ? azureTakeOver(current, certificate, desired, {
            entry: `the certificate ${name} of the Azure integration account ${spec.name}`,
            otherwise: 'delete it in Azure, or set spec.azureName to another name',
          })
        : undefined;
    if (takeOver && !takeOver.taken) throw new StoreConflictError(takeOver.message);
    if (entry.key && vaultResourceId)
      await this.prerequisites.keyUsableByLogicApps(clients, key, {
        vaultResourceId,
        name: entry.key.name,
      });
    if (current && !takeOver && !adopted && sameContent(current, desired))
      return { ref, written: false, location, recheck: true, azure };
    // The marker's absence alone is no reason to write: it comes with the next write needed.
    if (current && adopted && matchesWithoutMarker(current, desired))
      return {
        ref,
        written: false,
        location,
        recheck: true,
        azure,
        adopted: adoptionRecordOf(current),
      };
    if (takeOver?.taken && !takeOver.body)
      return {
        ref,
        written: false,
        location,
        recheck: true,
        azure,
        adopted: takeOver.record,
        taken: { event: takeOver.event, message: takeOver.message },
      };
    // Changed in Azure since we wrote it (our marker's hash) or adopted it (the status's record).
    const restored =
      current &&
      !takeOver &&
      (adopted ? !unchangedSinceAdoption(current, adopted) : drifted(current))
        ? driftDescription(current, desired)
        : undefined;
    const body = takeOver?.taken && takeOver.body ? takeOver.body : desired;
    try {
      await this.requests.run(
        spec.subscriptionId,
        'integrationAccountCertificates.createOrUpdate',
        (abortSignal) =>
          clients.logic.integrationAccountCertificates.createOrUpdate(
            spec.resourceGroup,
            spec.name,
            name,
            body.properties,
            { abortSignal },
          ),
      );
    } catch (err) {
      // The account's check is cached for an interval: a 404 here means the account went away
      // since. Ask again, so that the certificate says so (AzureAccountNotFound).
      if (err instanceof ArmError && err.status === 404) {
        this.prerequisites.forget(key);
        await this.prerequisites.account(clients, key);
      }
      throw this.writeFailure(err, name);
    }
    return {
      ref,
      written: true,
      location,
      recheck: true,
      azure,
      ...(restored ? { restored } : {}),
      ...(takeOver?.taken ? { taken: { event: takeOver.event, message: takeOver.message } } : {}),
    };
  }

  /** How the account's entries are reached, recorded in status.store.azure. */
  accessOf(account: IntegrationAccount): AzureEntryAccess {
    const { cloud, auth } = specOf(account);
    return cloud ? { cloud, auth } : { auth };
  }

  /**
   * deletionPolicy Delete: remove the Azure certificate `ref` (status.store.ref: where it was
   * written, whatever the account says now), reached as `access` says, only if it carries our
   * marker, or the status records its adoption without a write and it still holds what it held.
   */
  async remove(
    ref: string,
    access: AzureEntryAccess,
    certificate: Certificate,
    checkUsage = false,
  ): Promise<void> {
    const target = parseCertificateId(ref);
    if (!target)
      throw new StorePrerequisiteError(
        Reason.StoreWriteFailed,
        `status.store.ref ${ref} is not the ARM ID of an integration account certificate`,
        true,
      );
    // A slot of its own: the account may point elsewhere now, and sharing its slot would swap
    // the account's clients out and back for every removal (idle slots are swept).
    const connection = await this.connection(
      accountAt(target, access, certificate),
      `entry:${certificate.metadata.namespace}:${target.subscriptionId}/${target.resourceGroup}/${target.account}`,
    );
    const { clients, key } = connection;
    const spec = clients.spec;
    const { name } = target;
    const current = await this.read(clients, name);
    if (!current) return;
    // Ours: our marker, or adopted without a write and still holding what it held then.
    const adopted = ownedBy(current, certificate)
      ? undefined
      : adoptedByRecord(current, certificate, ref);
    if (!ownedBy(current, certificate) && !(adopted && unchangedSinceAdoption(current, adopted)))
      return;
    if (checkUsage && certificate.metadata.annotations?.[IGNORE_USAGE_ANNOTATION] !== 'true')
      await this.checkUnused(clients, key, name, spec.name);
    try {
      await this.requests.run(
        spec.subscriptionId,
        'integrationAccountCertificates.delete',
        (abortSignal) =>
          clients.logic.integrationAccountCertificates.delete(spec.resourceGroup, spec.name, name, {
            abortSignal,
          }),
      );
    } catch (err) {
      throw this.writeFailure(err, name);
    }
  }

  /**
   * In-use protection: the account's agreements, listed again now, name no certificate `name`.
   * Unreadable agreements make the delete wait: it never goes ahead blind.
   */
  private async checkUnused(
    clients: AzureClients,
    key: string,
    name: string,
    account: string,
  ): Promise<void> {
    const recheckMs = Math.min(IN_USE_RECHECK_MS, this.options.recheckIntervalMs);
    let uses;
    try {
      uses = usesOf(await this.agreements.usage(clients, key, true), name);
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      const grant =
        err.status === 403
          ? '; grant the identity the account signs in with Microsoft.Logic/integrationAccounts/agreements/read'
          : '';
      throw new StorePrerequisiteError(
        Reason.CertificateUsageUnknown,
        `the Azure certificate ${name} is not deleted while the agreements of the integration account ${account} cannot be read (an agreement may use it): ${err.message}${grant}, or set the annotation ${IGNORE_USAGE_ANNOTATION}=true to delete it anyway`,
        false,
        err.failure.retryAfterMs ?? recheckMs,
      );
    }
    if (!uses.length) return;
    throw new CertificateInUseError(
      `the Azure certificate ${name} is used by ${uses.length === 1 ? 'the agreement' : `${uses.length} uses in agreements`} ${describeUses(uses)} of the integration account ${account}: it is kept until no agreement uses it (rechecked every ${Math.round(recheckMs / 1000)}s); change those agreements, or set the annotation ${IGNORE_USAGE_ANNOTATION}=true to delete it anyway`,
      uses,
      recheckMs,
    );
  }

  private async read(
    clients: AzureClients,
    name: string,
  ): Promise<CertificateResource | undefined> {
    const spec = clients.spec;
    let body: CertificateResource | undefined;
    try {
      await this.requests.run(
        spec.subscriptionId,
        'integrationAccountCertificates.get',
        (abortSignal) =>
          clients.logic.integrationAccountCertificates.get(spec.resourceGroup, spec.name, name, {
            abortSignal,
            // ARM's own answer (properties.*) is what we compare, not the SDK's flattened model.
            onResponse: (raw) => {
              body = JSON.parse(raw.bodyAsText ?? '{}') as CertificateResource;
            },
          }),
      );
      return body;
    } catch (err) {
      if (err instanceof ArmError && err.status === 404) return undefined;
      throw this.writeFailure(err, name);
    }
  }

  private writeFailure(err: unknown, name: string): Error {
    if (!(err instanceof ArmError)) return err as Error;
    if (err.status === 403) return authorizationFailed(err, `certificate ${name}`);
    return new StorePrerequisiteError(
      Reason.StoreWriteFailed,
      `writing the Azure certificate ${name} failed: ${err.message}`,
      !err.transient && err.status !== 409,
      err.failure.retryAfterMs,
    );
  }

  private async connection(
    account: IntegrationAccount,
    id = `${account.metadata.namespace}/${account.metadata.name}`,
  ): Promise<Connection> {
    const spec = specOf(account);
    const { namespace } = account.metadata;
    // Before any credential: a refused identity costs no token request.
    const allowed = checkIdentityAllowed(spec.auth, namespace, this.options.identityPolicy);
    if (!allowed.ok) throw new StorePrerequisiteError(allowed.reason, allowed.message, true);
    // A ServiceAccount is read at every use: deleting it stops the identity's use, and new
    // annotations (another client ID) make new clients.
    let identity;
    try {
      identity = await resolveServiceAccount(namespace, spec.auth, this.options.serviceAccounts);
    } catch (err) {
      if (err instanceof IdentityError)
        throw new StorePrerequisiteError(err.reason, err.message, false);
      throw err;
    }
    const key = `${connectionKeyOf(spec, namespace)}${
      identity ? `|${identity.uid}|${identity.clientId}|${identity.tenantId}` : ''
    }`;
    this.sweepIdle();
    let connection = this.connections.get(id);
    if (connection && connection.key !== key) {
      // The account's spec changed: its clients and what was learnt through them are stale.
      this.forgetConnection(connection.key);
      connection = undefined;
    }
    if (!connection) {
      const sp = spec.auth.servicePrincipal;
      const secret = sp
        ? await this.options.readSecret(
            account.metadata.namespace,
            sp.clientSecretRef.name,
            sp.clientSecretRef.key,
          )
        : undefined;
      if (sp && !secret)
        throw new StorePrerequisiteError(
          Reason.AzureAuthorizationFailed,
          `Secret ${sp.clientSecretRef.name} key ${sp.clientSecretRef.key} (the service principal's client secret) not found in namespace ${account.metadata.namespace}`,
          false,
        );
      // The Azure SDKs (~45 MiB) are loaded when the first azure store is used.
      const { AzureClients } = await import('./clients.ts');
      connection = {
        clients: new AzureClients(spec, this.options.endpoints, secret, this.timeoutMs, identity),
        key,
        usedAt: 0,
      };
      this.connections.set(id, connection);
    }
    connection.usedAt = Date.now();
    return connection;
  }

  /**
   * Every account in use is asked about at least once an interval (its recheck): clients
   * nobody used for two are of an account this process no longer sees (another shard, a
   * missed delete).
   */
  private sweepIdle(): void {
    const now = Date.now();
    const idleMs = 2 * this.options.recheckIntervalMs;
    if (now - this.lastSweep < idleMs) return;
    this.lastSweep = now;
    for (const [id, connection] of this.connections)
      if (now - connection.usedAt >= idleMs) {
        this.connections.delete(id);
        this.forgetConnection(connection.key);
      }
  }
}

/**
 * The account an entry was written through, as far as reaching it goes: its ARM ID and the
 * recorded access, in the certificate's namespace (where a service principal's Secret is).
 */
function accountAt(
  target: NonNullable<ReturnType<typeof parseCertificateId>>,
  access: AzureEntryAccess,
  certificate: Certificate,
): IntegrationAccount {
  const { subscriptionId, resourceGroup, account: name } = target;
  return {
    apiVersion: certificate.apiVersion,
    kind: 'IntegrationAccount',
    metadata: {
      name: certificate.spec.integrationAccount.name,
      namespace: certificate.metadata.namespace,
    },
    spec: {
      store: {
        azure: {
          subscriptionId,
          resourceGroup,
          name,
          auth: access.auth ?? {},
          ...(access.cloud ? { cloud: access.cloud } : {}),
        },
      },
    },
  };
}

function specOf(account: IntegrationAccount): AzureStoreSpec {
  const spec = account.spec.store?.azure;
  if (!spec) throw new Error(`IntegrationAccount ${account.metadata.name} has no azure store`);
  return spec;
}

/** Clients are kept per account settings; a change of them (auth, cloud) makes new ones. */
function connectionKeyOf(spec: AzureStoreSpec, namespace: string): string {
  return `${integrationAccountId(spec).toLowerCase()}|${namespace}|${JSON.stringify(spec)}`;
}
