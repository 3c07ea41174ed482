// Azure Key Vault verification: one client per (vault, identity), reused; the grant probes of
// probes.ts; sovereign clouds by vault host. Wrapped in CachingVerifier by the operator.
import { Reason } from '../../api/reasons.ts';
import {
  IdentityError,
  type ServiceAccountIdentities,
  type ServiceAccountIdentity,
} from '../../identity/service-account.ts';
import type { Metrics } from '../../operator/metrics.ts';
import type {
  KeyVerdict,
  KeyVerificationRequest,
  KeyVerifier,
  VaultConnection,
} from '../verifier.ts';
import type {
  CertificateRead,
  CertificateReadRequest,
  CertificateReader,
} from '../certificate-source.ts';
import type { CertificateOperations } from './certificates.ts';
import type { AzureKeyOperationsOptions } from './client.ts';
import { DEFAULT_AZURE_TIMEOUT_MS } from './deadline.ts';
import { probeAzureKey, type KeyOperations } from './probes.ts';

export interface AzureKeyVerifierDeps {
  /** Reads one key of a Secret in the account's namespace (the service principal's secret). */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** A workloadIdentity with serviceAccountName: the ServiceAccount's token and annotations. */
  serviceAccounts?: ServiceAccountIdentities;
  metrics?: Metrics;
  now?: () => Date;
  /** Each Key Vault call ends by then (default DEFAULT_VAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Clients of a vault and identity nobody used for this long are dropped (default 1 h). */
  idleMs?: number;
  /** Tests and benchmarks may supply the operations (e.g. through a fault-injecting proxy). */
  operationsFactory?: (options: AzureKeyOperationsOptions) => KeyOperations;
}

const identityText = (identity: ServiceAccountIdentity | undefined) =>
  identity
    ? `the identity ${identity.clientId} of ServiceAccount ${identity.namespace}/${identity.name}`
    : undefined;

export class AzureKeyVerifier implements KeyVerifier, CertificateReader {
  private readonly deps: AzureKeyVerifierDeps;
  private readonly clients = new Map<string, { ops: KeyOperations; usedAt: number }>();
  private lastSweep: number;

  constructor(deps: AzureKeyVerifierDeps) {
    this.deps = deps;
    this.lastSweep = this.clock();
  }

  private clock(): number {
    return (this.deps.now?.() ?? new Date()).getTime();
  }

  async verify({
    namespace,
    vault,
    key,
    certificate,
  }: KeyVerificationRequest): Promise<KeyVerdict> {
    const connected = await this.operations(namespace, vault);
    if (!connected.ok) return connected.failure;
    const { ops, identity } = connected;
    return probeAzureKey(ops, {
      vaultUrl: vault.vaultUrl,
      name: key.name,
      version: key.version,
      certificateKey: certificate.publicKeyObject,
      now: (this.deps.now ?? (() => new Date()))(),
      identity: identityText(identity),
    });
  }

  /** A Key Vault certificate (source certificate.keyVault), with the same client and identity. */
  async read({
    namespace,
    vault,
    name,
    version,
  }: CertificateReadRequest): Promise<CertificateRead> {
    const connected = await this.operations(namespace, vault);
    if (!connected.ok) {
      const { reason, message, terminal, retryAfterMs } = connected.failure;
      return { ok: false, reason, message, terminal, retryAfterMs };
    }
    const ops = connected.ops as KeyOperations & Partial<CertificateOperations>;
    if (!ops.getCertificate || !ops.listCertificateVersions)
      return {
        ok: false,
        reason: Reason.VaultUnavailable,
        message: `key vault ${vault.name}: these operations cannot read certificates`,
        terminal: false,
      };
    const { readAzureCertificate } = await import('./certificates.ts');
    return readAzureCertificate(ops as CertificateOperations, {
      vaultUrl: vault.vaultUrl,
      name,
      version,
      identity: identityText(connected.identity),
    });
  }

  /** The client of this vault and identity (made once, reused), or why there is none. */
  private async operations(
    namespace: string,
    vault: VaultConnection,
  ): Promise<
    | { ok: true; ops: KeyOperations; identity: ServiceAccountIdentity | undefined }
    | { ok: false; failure: Extract<KeyVerdict, { ok: false }> }
  > {
    const fail = (reason: Reason, message: string, terminal: boolean) => ({
      ok: false as const,
      failure: { ok: false as const, reason, message, terminal },
    });
    const auth = vault.azureAuth;
    if (!auth)
      return fail(Reason.AuthenticationFailed, `key vault ${vault.name} has no auth`, true);
    let clientSecret: string | undefined;
    if (auth.servicePrincipal) {
      const ref = auth.servicePrincipal.clientSecretRef;
      clientSecret = await this.deps.readSecret(namespace, ref.name, ref.key);
      if (!clientSecret)
        return fail(
          Reason.AuthenticationFailed,
          `the service principal's secret (Secret ${ref.name}, key ${ref.key}) was not found in namespace ${namespace}; waiting for it`,
          false,
        );
    }
    // The Azure SDKs (~45 MiB) are loaded when the first azure vault is used.
    const [{ AzureKeyOperations }, credentials] = await Promise.all([
      import('./client.ts'),
      import('./credentials.ts'),
    ]);
    // A ServiceAccount is read at every verification: deleting it stops the identity's use.
    let identity: ServiceAccountIdentity | undefined;
    try {
      identity = await credentials.resolveServiceAccount(
        namespace,
        auth,
        this.deps.serviceAccounts,
      );
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      return fail(err.reason, `key vault ${vault.name}: ${err.message}`, false);
    }
    const id = credentials.identityKey(vault.vaultUrl, auth, clientSecret, identity);
    this.sweep();
    let ops = this.clients.get(id)?.ops;
    if (!ops) {
      const { createCredential, withTokenDeadline } = credentials;
      let credential;
      try {
        credential = withTokenDeadline(
          createCredential(auth, vault.vaultUrl, clientSecret, identity),
          this.deps.timeoutMs ?? DEFAULT_AZURE_TIMEOUT_MS,
        );
      } catch (err) {
        // e.g. workload identity without the webhook's AZURE_FEDERATED_TOKEN_FILE in the pod
        const detail = err instanceof Error ? err.message : String(err);
        return fail(
          Reason.AuthenticationFailed,
          `no credential for key vault ${vault.name}: ${detail}`,
          false,
        );
      }
      const options = {
        vaultUrl: vault.vaultUrl,
        credential,
        disableChallengeResourceVerification: vault.extraHost,
        metrics: this.deps.metrics,
        now: () => this.clock(),
        ...(this.deps.timeoutMs === undefined ? {} : { timeoutMs: this.deps.timeoutMs }),
      };
      ops = this.deps.operationsFactory?.(options) ?? new AzureKeyOperations(options);
    }
    this.clients.set(id, { ops, usedAt: this.clock() });
    return { ok: true, ops, identity };
  }

  /** Drops clients (and key clients within them) that nobody used for idleMs. */
  private sweep(): void {
    const now = this.clock();
    const idleMs = this.deps.idleMs ?? 3_600_000;
    if (now - this.lastSweep < idleMs) return;
    this.lastSweep = now;
    for (const [id, entry] of this.clients) {
      if (now - entry.usedAt >= idleMs) this.clients.delete(id);
      else entry.ops.prune?.(now - idleMs);
    }
  }

  get cachedClients(): number {
    return this.clients.size;
  }
}
