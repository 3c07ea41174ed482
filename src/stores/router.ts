// Each account names its store (spec.store): the kubernetes store (Secrets) unless it says
// azure. Certificates reach the store of their account through this one Store.
import type { Certificate, IntegrationAccount } from '../api/types.ts';
import type { AzureStore } from './azure/azure-store.ts';
import type { Store, StoreEntry, SyncResult } from './store.ts';

export class StoreRouter implements Store {
  readonly type = 'router';
  private readonly kubernetes: Store;
  private readonly azure: AzureStore;
  private readonly accountOf: (certificate: Certificate) => IntegrationAccount | undefined;

  constructor(
    kubernetes: Store,
    azure: AzureStore,
    accountOf: (certificate: Certificate) => IntegrationAccount | undefined,
  ) {
    this.kubernetes = kubernetes;
    this.azure = azure;
    this.accountOf = accountOf;
  }

  private azureAccount(certificate: Certificate): IntegrationAccount | undefined {
    const account = this.accountOf(certificate);
    return account?.spec.store?.azure ? account : undefined;
  }

  refFor(certificate: Certificate): string {
    const account = this.azureAccount(certificate);
    return account ? this.azure.refFor(account, certificate) : this.kubernetes.refFor(certificate);
  }

  /** Azure: Delete removes the entry in Azure, which no garbage collector reaches; Retain has nothing to do. */
  needsFinalizer(certificate: Certificate): boolean {
    return this.azureAccount(certificate)
      ? certificate.spec.deletionPolicy !== 'Retain'
      : this.kubernetes.needsFinalizer(certificate);
  }

  sync(entry: StoreEntry): Promise<SyncResult> {
    const account = this.azureAccount(entry.certificate);
    return account ? this.azure.sync(account, entry) : this.kubernetes.sync(entry);
  }

  remove(certificate: Certificate): Promise<void> {
    const account = this.azureAccount(certificate);
    return account ? this.azure.remove(account, certificate) : this.kubernetes.remove(certificate);
  }

  forget(namespace: string, name: string): void {
    this.kubernetes.forget(namespace, name);
  }

  /** Retain: an Azure certificate has no owner to let go of; it stays with its marker. */
  async release(certificate: Certificate): Promise<void> {
    if (this.azureAccount(certificate)) return;
    await this.kubernetes.release(certificate);
  }
}
