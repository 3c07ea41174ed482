// Wires the operator together: informers feed the two controllers' queues with keys, and the
// reconcilers read from the informers' caches. Event handlers only enqueue.
import { findCondition } from '../api/conditions.ts';
import {
  CertificateResource,
  GROUP,
  IntegrationAccountResource,
  skuQuota,
  type Certificate,
  type IntegrationAccount,
} from '../api/types.ts';
import {
  CertificateReconciler,
  DEFAULT_KEYVAULT_POLL_INTERVAL_MS,
} from '../controllers/certificate/reconciler.ts';
import { quotaSku, type Lookups } from '../controllers/certificate/gather.ts';
import { IntegrationAccountReconciler } from '../controllers/integration-account/reconciler.ts';
import { VaultHealthSchedule } from '../controllers/integration-account/vault-health.ts';
import {
  ConfigMapType,
  SecretType,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../kube/client.ts';
import { Controller } from '../runtime/controller.ts';
import { Informer, keepAnnotations, objectKey, onlyStatusChanged } from '../runtime/informer.ts';
import { AzureStore } from '../stores/azure/azure-store.ts';
import { KubernetesStore, secretNameFor, type SecretMetadata } from '../stores/kubernetes-store.ts';
import { StoreRouter } from '../stores/router.ts';
import { InformerGroup, type Cache } from '../runtime/informer-group.ts';
import {
  matchesLabels,
  parseLabelSelector,
  type LabelSelector,
} from '../runtime/label-selector.ts';
import { DEFAULT_AZURE_TIMEOUT_MS } from '../vaults/azure/deadline.ts';
import { AzureKeyVerifier } from '../vaults/azure/verifier.ts';
import { CachingVerifier } from '../vaults/caching.ts';
import { PollingCertificateReader } from '../vaults/certificate-source.ts';
import { KubernetesKeyVerifier } from '../vaults/kubernetes-vault.ts';
import { verifierByKind, type KeyVerifier } from '../vaults/verifier.ts';
import type { AzureIdentityPolicy, IdentityPolicy } from '../identity/policy.ts';
import { ServiceAccountTokens } from '../identity/service-account.ts';
import { EventRecorder } from './events.ts';
import { accountChangeLane, storeSecretLane } from './lanes.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export interface OperatorSettings {
  /** Empty: all namespaces. */
  watchNamespaces: string[];
  /** A shard: the Certificates and IntegrationAccounts with these labels (empty: all). */
  watchLabelSelector?: string | undefined;
  concurrency: number;
  recheckIntervalMs: number;
  /** How often a Key Vault certificate source is read (default 5 min). */
  keyVaultPollIntervalMs?: number | undefined;
  allowedVaultHosts: string[];
  /** Override the cloud's ARM / Microsoft Graph endpoints (test servers). */
  azureArmEndpoint?: string | undefined;
  azureGraphEndpoint?: string | undefined;
  /** Every request to Azure ends by then (default 30 s): ARM, Graph, Key Vault, tokens. */
  azureRequestTimeoutMs?: number | undefined;
  /** --azure-identity-policy; the operator's own namespace may always use its identity. */
  azureIdentityPolicy?: AzureIdentityPolicy | undefined;
  operatorNamespace?: string | undefined;
  /** Tests only: reuse a ServiceAccount token at most this long. */
  serviceAccountTokenMaxReuseMs?: number | undefined;
}

export interface OperatorDeps {
  client: KubeClient;
  settings: OperatorSettings;
  log: Logger;
  metrics: Metrics;
  now?: () => Date;
  keyVerifier?: KeyVerifier;
  /**
   * With leader election: whether this process may still write (false once the lease lapsed).
   * Checked right before every request of the reconcilers.
   */
  isLeader?: () => boolean;
  /** Watch tuning (tests shorten these). */
  informer?: { idleTimeoutMs?: number; relistIntervalMs?: number };
}

/**
 * A certificate change reaches its account's counts once changes pause this long, and during a
 * burst at most every ACCOUNT_STATUS_MAX_DELAY_MS: a handful of account writes per burst.
 */
const ACCOUNT_STATUS_DELAY_MS = 500;
const ACCOUNT_STATUS_MAX_DELAY_MS = 10_000;

/** One key of a Secret, decoded; undefined when the Secret or the key is missing. */
async function readSecretKey(
  client: KubeClient,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  try {
    const secret = await client.get<{ data?: Record<string, string> }>(
      resourcePath(SecretType, { namespace, name }),
    );
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The Certificate CRD's name: deleting it (an uninstall) deletes every Certificate. */
export const CERTIFICATE_CRD = `${CertificateResource.plural}.${GROUP}`;

const ACCOUNT_CRD = `${IntegrationAccountResource.plural}.${GROUP}`;

/** Whether the Certificate CRD is being deleted or is gone: one GET (RBAC: get on this CRD). */
export function certificateCrdDeleting(client: KubeClient): Promise<boolean> {
  return crdDeleting(client, CERTIFICATE_CRD);
}

/** Whether one of our CRDs is being deleted or is gone (RBAC: get on our two CRDs). */
async function crdDeleting(client: KubeClient, name: string): Promise<boolean> {
  try {
    const crd = await client.get<{ metadata?: { deletionTimestamp?: string } }>(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    );
    return Boolean(crd.metadata?.deletionTimestamp);
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

export class Operator {
  readonly certificates: Cache<Certificate>;
  readonly accounts: Cache<IntegrationAccount>;
  readonly secrets: Cache<SecretMetadata>;
  readonly configMaps: Cache<SecretMetadata>;
  readonly certificateController: Controller;
  readonly accountController: Controller;
  readonly azureStore: AzureStore;
  private running = false;
  /** --watch-label-selector: what this process (a shard) reconciles. */
  private readonly shard: LabelSelector;
  private readonly events: EventRecorder;
  private readonly orphanDeletions: Set<string>;
  private cancelSignal: AbortSignal | undefined;

  constructor(deps: OperatorDeps) {
    const { settings, log, metrics } = deps;
    // Informers read through deps.client; everything the reconcilers do goes through this
    // view, so cancelling (leadership lost, drain deadline) ends their requests in flight and
    // a lapsed lease stops the next one before it is sent.
    const client = deps.client.fenced({
      signal: () => this.cancelSignal,
      check: () => {
        if (deps.isLeader && !deps.isLeader())
          throw new Error('not sent: this process no longer holds the leader lease');
      },
    });
    const namespaces = settings.watchNamespaces.length ? settings.watchNamespaces : [undefined];
    const shard = parseLabelSelector(settings.watchLabelSelector ?? '');
    this.shard = shard;
    // One informer per watched namespace (or one for all of them).
    const informer = <T extends object>(
      name: string,
      pathIn: (namespace: string | undefined) => string,
      metadataOnly = false,
      /** Our CRD of this resource: its deletion (an uninstall) empties the cache. */
      notServedCrd?: string,
      labelSelector?: string,
    ): Cache<T> => {
      const one = (namespace: string | undefined) =>
        new Informer<T>({
          name: namespace ? `${name}/${namespace}` : name,
          client: deps.client,
          path: pathIn(namespace),
          metadataOnly,
          ...(labelSelector ? { labelSelector } : {}),
          ...(notServedCrd
            ? {
                emptyWhenNotServed: true,
                confirmNotServed: () => crdDeleting(deps.client, notServedCrd),
              }
            : {}),
          log,
          // Of a Secret's or ConfigMap's annotations the operator reads only its own.
          ...(metadataOnly
            ? { transform: keepAnnotations<T>((a) => a.startsWith(`${GROUP}/`)) }
            : {}),
          ...deps.informer,
        });
      return namespaces.length === 1
        ? one(namespaces[0])
        : new InformerGroup(new Map(namespaces.map((n) => [n!, one(n)])));
    };
    // A shard watches its own Certificates: one whose labels move it to another shard leaves
    // this cache as if deleted, and nothing here runs its deletion (only a deletionTimestamp
    // does).
    this.certificates = informer<Certificate>(
      'certificates',
      (namespace) => resourcePath(CertificateResource, { namespace }),
      false,
      undefined,
      shard.text,
    );
    // Every shard reads every IntegrationAccount (its Certificates need theirs), and writes the
    // status of its own only. An uninstall may delete the IntegrationAccount CRD before
    // Certificates are finalized: an operator started then must still release their entries.
    this.accounts = informer<IntegrationAccount>(
      'integrationaccounts',
      (namespace) => resourcePath(IntegrationAccountResource, { namespace }),
      false,
      ACCOUNT_CRD,
    );
    this.secrets = informer<SecretMetadata>(
      'secrets',
      (namespace) => resourcePath(SecretType, { namespace }),
      true,
    );
    this.configMaps = informer<SecretMetadata>(
      'configmaps',
      (namespace) => resourcePath(ConfigMapType, { namespace }),
      true,
    );

    const now = deps.now ?? (() => new Date());
    const readSecret = (namespace: string, name: string, key: string) =>
      readSecretKey(client, namespace, name, key);
    const events = (this.events = new EventRecorder(client, log, {
      onDrop: () => metrics.eventsDropped.inc(),
    }));
    const lookups: Lookups = {
      account: (namespace, name) => this.accounts.get(`${namespace}/${name}`),
      certificatesOf: (namespace, account) => this.certificatesOf(namespace, account),
      certificateCount: (namespace, account) =>
        this.certificates.indexSize('account', `${namespace}/${account}`),
      secretExists: (namespace, name) => this.secrets.get(`${namespace}/${name}`) !== undefined,
      configMapExists: (namespace, name) =>
        this.configMaps.get(`${namespace}/${name}`) !== undefined,
    };
    const azureTimeoutMs = settings.azureRequestTimeoutMs ?? DEFAULT_AZURE_TIMEOUT_MS;
    const identityPolicy: IdentityPolicy = {
      mode: settings.azureIdentityPolicy ?? 'operator',
      operatorNamespace: settings.operatorNamespace ?? '',
    };
    const serviceAccounts = new ServiceAccountTokens({
      client,
      maxReuseMs: settings.serviceAccountTokenMaxReuseMs,
    });
    const azureStore = (this.azureStore = new AzureStore({
      log: log.child({ store: 'azure' }),
      recheckIntervalMs: settings.recheckIntervalMs,
      endpoints: { arm: settings.azureArmEndpoint, graph: settings.azureGraphEndpoint },
      readSecret,
      timeoutMs: azureTimeoutMs,
      // As the fenced client: cancelling the reconciles ends their ARM requests too.
      signal: () => this.cancelSignal,
      identityPolicy,
      serviceAccounts,
    }));
    const store = new StoreRouter(
      new KubernetesStore(client, (namespace, name) => this.secrets.get(`${namespace}/${name}`)),
      azureStore,
      (c) => this.accounts.get(`${c.metadata.namespace}/${c.spec.integrationAccount.name}`),
    );
    // Deletions seen with the `orphan` finalizer, by uid: the garbage collector removes it at
    // once, so the reconcile may read the object without it. Dropped when the object goes.
    const orphanDeletions = (this.orphanDeletions = new Set<string>());
    // Keys and Key Vault certificates share one client per vault and identity.
    const keyVaultPollIntervalMs =
      settings.keyVaultPollIntervalMs ?? DEFAULT_KEYVAULT_POLL_INTERVAL_MS;
    const azureVault = new AzureKeyVerifier({
      readSecret,
      serviceAccounts,
      metrics,
      now,
      timeoutMs: azureTimeoutMs,
      // every certificate asks at least once an interval: idle for two, nobody uses it
      idleMs: 2 * Math.max(settings.recheckIntervalMs, keyVaultPollIntervalMs),
    });
    const certificateReconciler = new CertificateReconciler({
      client,
      certificate: (key) => this.certificates.get(key),
      lookups,
      store,
      keyVerifier:
        deps.keyVerifier ??
        verifierByKind({
          kubernetes: new KubernetesKeyVerifier(
            client,
            (namespace, name) =>
              this.secrets.get(`${namespace}/${name}`)?.metadata?.resourceVersion,
            now,
            settings.recheckIntervalMs,
          ),
          azure: new CachingVerifier(azureVault, settings.recheckIntervalMs),
        }),
      events,
      metrics,
      log,
      now,
      allowedVaultHosts: settings.allowedVaultHosts,
      identityPolicy,
      recheckIntervalMs: settings.recheckIntervalMs,
      certificateReader: new PollingCertificateReader(azureVault, keyVaultPollIntervalMs, () =>
        now().getTime(),
      ),
      keyVaultPollIntervalMs,
      certificateCrdDeleting: () => certificateCrdDeleting(client),
      deletedWithOrphan: (uid) => uid !== undefined && orphanDeletions.has(uid),
    });
    const accountReconciler = new IntegrationAccountReconciler({
      client,
      account: (key) => this.accounts.get(key),
      certificatesOf: (namespace, account) => this.certificatesOf(namespace, account),
      events,
      allowedVaultHosts: settings.allowedVaultHosts,
      identityPolicy,
      vaultProbes: new VaultHealthSchedule({
        // The Azure SDKs (~45 MiB) are loaded when the first azure vault is probed.
        probe: async (namespace, vault) => {
          const { probeAccountVault } = await import('../vaults/azure/reachability.ts');
          return probeAccountVault(namespace, vault, readSecret, metrics, {
            timeoutMs: azureTimeoutMs,
            signal: this.cancelSignal,
            serviceAccounts,
          });
        },
        recheckIntervalMs: settings.recheckIntervalMs,
        now,
      }),
      now,
      azureAccount: (account) => azureStore.accountInfo(account),
      recheckIntervalMs: settings.recheckIntervalMs,
    });
    this.certificateController = new Controller({
      kind: 'Certificate',
      reconcile: certificateReconciler.reconcile,
      concurrency: settings.concurrency,
      log,
      metrics,
    });
    this.accountController = new Controller({
      kind: 'IntegrationAccount',
      // A shard writes the status of its own accounts only: a retry or recheck queued before
      // the account was relabelled to another shard does nothing here.
      reconcile: (key) => {
        const account = this.accounts.get(key);
        return account && !this.ownsAccount(account)
          ? Promise.resolve(undefined)
          : accountReconciler.reconcile(key);
      },
      concurrency: 1,
      log,
      metrics,
    });
    this.certificates.addIndex('account', (c) => [
      `${c.metadata.namespace}/${c.spec.integrationAccount.name}`,
    ]);
    this.certificates.addIndex('source', (c) => {
      const { secretRef, configMapRef } = c.spec.certificate;
      const refs: string[] = [];
      if (secretRef) refs.push(`Secret/${c.metadata.namespace}/${secretRef.name}`);
      if (configMapRef) refs.push(`ConfigMap/${c.metadata.namespace}/${configMapRef.name}`);
      // A kubernetes vault's key Secret: a new or rotated key re-verifies the certificate.
      if (c.spec.key) refs.push(`Secret/${c.metadata.namespace}/${c.spec.key.name}`);
      return refs;
    });
    // The store Secret's name, whoever holds it: a hand edit gets repaired, and deleting a
    // foreign Secret of that name (as StoreConflict asks) lets the certificate sync at once.
    this.certificates.addIndex('storeSecret', (c) => [
      `${c.metadata.namespace}/${secretNameFor(c.metadata.name)}`,
    ]);
    this.wireHandlers();
  }

  /** A shard writes the status of the accounts its selector matches, no other. */
  private ownsAccount(account: IntegrationAccount | undefined): boolean {
    return account !== undefined && matchesLabels(this.shard, account.metadata.labels);
  }

  certificatesOf(namespace: string, account: string): Certificate[] {
    return this.certificates
      .byIndex('account', `${namespace}/${account}`)
      .filter((c) => !c.metadata.deletionTimestamp);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Reconciles running now. */
  get inFlight(): number {
    return this.certificateController.busy + this.accountController.busy;
  }

  private wireHandlers(): void {
    const certs = this.certificateController;
    const accounts = this.accountController;
    const accountKeyOf = (c: Certificate) =>
      `${c.metadata.namespace}/${c.spec.integrationAccount.name}`;
    // Fan-out is background work, except for the certificates that wait for their account:
    // an account of 1,000 certificates turning Ready must not delay one applied meanwhile.
    const enqueueCertificatesOf = (namespace: string, account: string) => {
      for (const c of this.certificatesOf(namespace, account))
        certs.enqueue(objectKey(c), accountChangeLane(c));
    };
    const countChanged = (c: Certificate) => {
      if (this.ownsAccount(this.accounts.get(accountKeyOf(c))))
        accounts.enqueueDebounced(
          accountKeyOf(c),
          ACCOUNT_STATUS_DELAY_MS,
          ACCOUNT_STATUS_MAX_DELAY_MS,
        );
    };
    // Adding or removing a certificate can move others across the quota line: an add only
    // when there are more than the quota now, a removal only when one was over it before.
    const requeueQuotaSiblings = (c: Certificate, change: 'added' | 'removed') => {
      const account = this.accounts.get(accountKeyOf(c));
      const quota = skuQuota[quotaSku(account)];
      const crosses = (count: number) => (change === 'added' ? count > quota : count >= quota);
      // The index's count (those being deleted too) first: no list built per add below it.
      if (!crosses(this.certificates.indexSize('account', accountKeyOf(c)))) return;
      const siblings = this.certificatesOf(c.metadata.namespace, c.spec.integrationAccount.name);
      if (crosses(siblings.length))
        for (const s of siblings) certs.enqueue(objectKey(s), 'background');
    };
    const noteOrphan = (c: Certificate) => {
      if (
        c.metadata.deletionTimestamp &&
        c.metadata.finalizers?.includes('orphan') &&
        c.metadata.uid
      )
        this.orphanDeletions.add(c.metadata.uid);
    };
    this.certificates.on({
      // At start-up every certificate comes in the first list: background (as controller-
      // runtime's priority queue), so one applied meanwhile does not wait for all of them.
      added: (c, initialList) => {
        noteOrphan(c);
        certs.enqueue(objectKey(c), initialList ? 'background' : 'urgent');
        countChanged(c);
        requeueQuotaSiblings(c, 'added');
      },
      updated: (old, c) => {
        noteOrphan(c);
        const changed =
          old.metadata.generation !== c.metadata.generation ||
          Boolean(c.metadata.deletionTimestamp) !== Boolean(old.metadata.deletionTimestamp);
        // Our own status writes come back as updates too: background, and never a way around
        // the backoff of a failing certificate (each failed try would run the next at once).
        if (onlyStatusChanged(old, c)) certs.enqueueUnlessBackingOff(objectKey(c));
        else certs.enqueue(objectKey(c), changed ? 'urgent' : 'background');
        countChanged(c);
        if (c.metadata.deletionTimestamp) requeueQuotaSiblings(c, 'removed');
      },
      deleted: (c) => {
        if (c.metadata.uid) this.orphanDeletions.delete(c.metadata.uid);
        certs.enqueue(objectKey(c));
        countChanged(c);
        requeueQuotaSiblings(c, 'removed');
      },
    });
    this.accounts.on({
      added: (a) => {
        if (this.ownsAccount(a)) accounts.enqueue(objectKey(a));
        enqueueCertificatesOf(a.metadata.namespace, a.metadata.name);
      },
      updated: (old, a) => {
        if (!this.ownsAccount(a)) {
          // Relabelled away: its new shard writes its status from now on.
        } else if (onlyStatusChanged(old, a))
          accounts.enqueueUnlessBackingOff(objectKey(a), 'urgent');
        else accounts.enqueue(objectKey(a));
        // Only what certificates depend on: readiness, spec (sku, vaults). Not the counts.
        const ready = (x: IntegrationAccount) =>
          findCondition(x.status?.conditions, 'Ready')?.status;
        if (
          ready(old) !== ready(a) ||
          old.metadata.generation !== a.metadata.generation ||
          quotaSku(old) !== quotaSku(a) // the Azure account's real sku changed
        ) {
          enqueueCertificatesOf(a.metadata.namespace, a.metadata.name);
        }
      },
      deleted: (a) => {
        this.azureStore.forgetAccount(a.metadata.namespace, a.metadata.name);
        enqueueCertificatesOf(a.metadata.namespace, a.metadata.name);
      },
    });
    const onSecret = (s: SecretMetadata, deleted = false) => {
      const namespace = s.metadata?.namespace ?? '';
      const name = s.metadata?.name ?? '';
      for (const c of this.certificates.byIndex('source', `Secret/${namespace}/${name}`)) {
        certs.enqueue(objectKey(c), 'background');
      }
      for (const c of this.certificates.byIndex('storeSecret', `${namespace}/${name}`)) {
        certs.enqueue(objectKey(c), storeSecretLane(c, deleted));
      }
    };
    this.secrets.on({
      added: (s) => onSecret(s),
      updated: (_, s) => onSecret(s),
      deleted: (s) => onSecret(s, true),
    });
    const onConfigMap = (m: SecretMetadata) => {
      const key = `ConfigMap/${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;
      for (const c of this.certificates.byIndex('source', key))
        certs.enqueue(objectKey(c), 'background');
    };
    this.configMaps.on({
      added: onConfigMap,
      updated: (_, m) => onConfigMap(m),
      deleted: onConfigMap,
    });
  }

  /**
   * Runs until `stop` aborts: caches first, then the controllers. Resolves once in-flight
   * reconciles have finished; `cancel` aborting ends them half-way (their requests abort).
   */
  async run(stop: AbortSignal, cancel?: AbortSignal): Promise<void> {
    this.cancelSignal = cancel;
    const signal = cancel ? AbortSignal.any([stop, cancel]) : stop;
    const informers = [this.secrets, this.configMaps, this.accounts, this.certificates];
    const watching = informers.map((i) => i.run(signal));
    await Promise.race([
      Promise.all(informers.map((i) => i.waitForSync())),
      new Promise((r) => signal.addEventListener('abort', r)),
    ]);
    if (signal.aborted) {
      await Promise.all(watching);
      return;
    }
    this.running = true;
    await Promise.all([
      this.certificateController.run(signal, cancel),
      this.accountController.run(signal, cancel),
    ]);
    // The drain's events, until the shutdown deadline (`cancel`); what is left then is given up.
    await this.events.flush(cancel);
    this.running = false;
    await Promise.all(watching);
  }
}
