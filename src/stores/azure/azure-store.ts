// The azure store: each Ready certificate as a certificate of an Azure Logic Apps integration
// account (Microsoft.Logic/integrationAccounts/certificates, api-version 2019-05-01, through
// @azure/arm-logic). Prerequisites first; then GET, and a PUT only when Azure holds something
// else. An entry without our marker is taken only as spec.adoption allows (entry.ts); our
// entry changed in Azure is restored (drift). The marker is in properties.metadata:
// namespace/name and uid.
import { Reason } from '../../api/reasons.ts';
import type { Certificate, IntegrationAccount } from '../../api/types.ts';
import type { Logger } from '../../operator/log.ts';
import {
  StoreConflictError,
  StorePrerequisiteError,
  type StoreEntry,
  type SyncResult,
} from '../store.ts';
import { certificateId, integrationAccountId, type AzureStoreSpec } from './arm-ids.ts';
import { ArmError, ArmRequests } from './arm-requests.ts';
import type { AzureClients, EndpointOverrides } from './clients.ts';
import {
  azureTakeOver,
  desiredBody,
  drifted,
  driftDescription,
  ownedBy,
  sameContent,
  type CertificateResource,
} from './entry.ts';
import { authorizationFailed, Prerequisites, type AzureAccountInfo } from './prerequisites.ts';

export interface AzureStoreOptions {
  log: Logger;
  recheckIntervalMs: number;
  endpoints: EndpointOverrides;
  /** One key of a Secret in the account's namespace (a service principal's client secret). */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  requests?: ArmRequests;
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
  key: string;
}

export class AzureStore {
  readonly type = 'azure';
  private readonly options: AzureStoreOptions;
  private readonly requests: ArmRequests;
  private readonly prerequisites: Prerequisites;
  private readonly connections = new Map<string, Connection>();

  constructor(options: AzureStoreOptions) {
    this.options = options;
    this.requests = options.requests ?? new ArmRequests({ log: options.log });
    this.prerequisites = new Prerequisites(this.requests, options.recheckIntervalMs);
  }

  refFor(account: IntegrationAccount, certificate: Certificate): string {
    return certificateId(specOf(account), azureNameOf(certificate));
  }

  /** The Azure integration account as ARM reports it (for the account's status). */
  async accountInfo(account: IntegrationAccount): Promise<AzureAccountInfo> {
    const connection = await this.connection(account);
    return this.prerequisites.account(connection.clients, connection.key);
  }

  async sync(account: IntegrationAccount, entry: StoreEntry): Promise<SyncResult> {
    const { certificate } = entry;
    const name = checkAzureName(certificate);
    const { clients, key } = await this.connection(account);
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
    // Not carrying our uid (no marker b2bOperator with it): spec.adoption decides.
    const takeOver =
      current && !ownedBy(current, certificate)
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
    if (current && !takeOver && sameContent(current, desired))
      return { ref, written: false, location, recheck: true };
    const restored =
      current && !takeOver && drifted(current) ? driftDescription(current, desired) : undefined;
    const body = takeOver?.taken ? takeOver.body : desired;
    try {
      await this.requests.run(
        spec.subscriptionId,
        'integrationAccountCertificates.createOrUpdate',
        () =>
          clients.logic.integrationAccountCertificates.createOrUpdate(
            spec.resourceGroup,
            spec.name,
            name,
            body.properties,
          ),
      );
    } catch (err) {
      throw this.writeFailure(err, name);
    }
    return {
      ref,
      written: true,
      location,
      recheck: true,
      ...(restored ? { restored } : {}),
      ...(takeOver?.taken ? { taken: { event: takeOver.event, message: takeOver.message } } : {}),
    };
  }

  /** deletionPolicy Delete: remove the Azure certificate, only if it carries our marker. */
  async remove(account: IntegrationAccount, certificate: Certificate): Promise<void> {
    const { clients } = await this.connection(account);
    const spec = clients.spec;
    const name = azureNameOf(certificate);
    const current = await this.read(clients, name);
    if (!current || !ownedBy(current, certificate)) return;
    try {
      await this.requests.run(spec.subscriptionId, 'integrationAccountCertificates.delete', () =>
        clients.logic.integrationAccountCertificates.delete(spec.resourceGroup, spec.name, name),
      );
    } catch (err) {
      throw this.writeFailure(err, name);
    }
  }

  private async read(
    clients: AzureClients,
    name: string,
  ): Promise<CertificateResource | undefined> {
    const spec = clients.spec;
    let body: CertificateResource | undefined;
    try {
      await this.requests.run(spec.subscriptionId, 'integrationAccountCertificates.get', () =>
        clients.logic.integrationAccountCertificates.get(spec.resourceGroup, spec.name, name, {
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

  private async connection(account: IntegrationAccount): Promise<Connection> {
    const spec = specOf(account);
    const key = connectionKeyOf(spec, account.metadata.namespace);
    let connection = this.connections.get(key);
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
      connection = { clients: new AzureClients(spec, this.options.endpoints, secret), key };
      this.connections.set(key, connection);
    }
    return connection;
  }
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
