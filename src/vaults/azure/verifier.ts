// Azure Key Vault verification: one client per (vault, identity), reused; the grant probes of
// probes.ts; sovereign clouds by vault host. Wrapped in CachingVerifier by the operator.
import { createHash } from 'node:crypto';
import { Reason } from '../../api/reasons.ts';
import type { Metrics } from '../../operator/metrics.ts';
import type { KeyVerdict, KeyVerificationRequest, KeyVerifier } from '../verifier.ts';
import { AzureKeyOperations } from './client.ts';
import { createCredential } from './credentials.ts';
import { probeAzureKey, type KeyOperations } from './probes.ts';

export interface AzureKeyVerifierDeps {
  /** Reads one key of a Secret in the account's namespace (the service principal's secret). */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  metrics?: Metrics;
  now?: () => Date;
  /** Tests and benchmarks may supply the operations (e.g. through a fault-injecting proxy). */
  operationsFactory?: (
    options: ConstructorParameters<typeof AzureKeyOperations>[0],
  ) => KeyOperations;
}

export class AzureKeyVerifier implements KeyVerifier {
  private readonly deps: AzureKeyVerifierDeps;
  private readonly clients = new Map<string, KeyOperations>();

  constructor(deps: AzureKeyVerifierDeps) {
    this.deps = deps;
  }

  async verify({
    namespace,
    vault,
    key,
    certificate,
  }: KeyVerificationRequest): Promise<KeyVerdict> {
    const auth = vault.azureAuth;
    if (!auth)
      return {
        ok: false,
        reason: Reason.AuthenticationFailed,
        message: `key vault ${vault.name} has no auth`,
        terminal: true,
      };
    let clientSecret: string | undefined;
    if (auth.servicePrincipal) {
      const ref = auth.servicePrincipal.clientSecretRef;
      clientSecret = await this.deps.readSecret(namespace, ref.name, ref.key);
      if (!clientSecret) {
        return {
          ok: false,
          reason: Reason.AuthenticationFailed,
          message: `the service principal's secret (Secret ${ref.name}, key ${ref.key}) was not found in namespace ${namespace}; waiting for it`,
          terminal: false,
        };
      }
    }
    const secretDigest = clientSecret
      ? createHash('sha256').update(clientSecret).digest('hex')
      : '';
    const id = JSON.stringify([vault.vaultUrl, auth, secretDigest]);
    let ops = this.clients.get(id);
    if (!ops) {
      let credential;
      try {
        credential = createCredential(auth, vault.vaultUrl, clientSecret);
      } catch (err) {
        // e.g. workload identity without the webhook's AZURE_FEDERATED_TOKEN_FILE in the pod
        const detail = err instanceof Error ? err.message : String(err);
        return {
          ok: false,
          reason: Reason.AuthenticationFailed,
          message: `no credential for key vault ${vault.name}: ${detail}`,
          terminal: false,
        };
      }
      const options = {
        vaultUrl: vault.vaultUrl,
        credential,
        disableChallengeResourceVerification: vault.extraHost,
        metrics: this.deps.metrics,
      };
      ops = this.deps.operationsFactory?.(options) ?? new AzureKeyOperations(options);
      this.clients.set(id, ops);
    }
    return probeAzureKey(ops, {
      vaultUrl: vault.vaultUrl,
      name: key.name,
      version: key.version,
      certificateKey: certificate.publicKeyObject,
      now: (this.deps.now ?? (() => new Date()))(),
    });
  }
}
