/* eslint-disable */
// Generated from crds/ by scripts/generate-types.ts (npm run gen:types). Do not edit.

/**
 * Desired state of the integration account.
 */
export interface IntegrationAccountSpec {
  /**
   * Pricing tier; it sets the certificate quota: Free 25, Basic 2, Standard 1000. Certificates over the quota report QuotaExceeded, newest first.
   */
  sku?: 'Free' | 'Basic' | 'Standard';
  /**
   * Azure region of the account; informational, used by the Azure store.
   */
  location?: string;
  /**
   * Where Ready certificates are synced. Omitted means kubernetes: one Secret per certificate in the certificate's namespace.
   */
  store?: {
    /**
     * Store each Ready certificate as a Secret named <certificate>-b2bcert, owned by the Certificate (deletionPolicy Delete). Takes no settings.
     */
    kubernetes?: {};
    /**
     * Sync each Ready certificate into this Azure Logic Apps integration account through Azure Resource Manager (api-version 2019-05-01).
     */
    azure?: {
      /**
       * The Azure subscription ID (a GUID) holding the integration account.
       */
      subscriptionId: string;
      /**
       * The resource group of the integration account.
       */
      resourceGroup: string;
      /**
       * The integration account's name in Azure.
       */
      name: string;
      /**
       * The Azure cloud; the ARM, Microsoft Graph and sign-in endpoints follow it.
       */
      cloud?: 'AzurePublic' | 'AzureChina' | 'AzureUSGovernment';
      /**
       * Object ID in the tenant of the Azure Logic Apps service principal (application ID 7cd684f4-8a78-49b0-91ec-6a35d38739ba) whose access to the keys of Private certificates is checked. Empty means looked up in Microsoft Graph (needs Application.Read.All).
       */
      logicAppsPrincipalId?: string;
      /**
       * How the operator authenticates to Azure Resource Manager; exactly one method.
       */
      auth: {
        /**
         * Azure AD workload identity. With serviceAccountName, the identity of that ServiceAccount of the account's namespace (its token exchanged at Entra ID); without it, the operator's own (the AKS webhook's environment), fields left empty coming from the operator pod's environment.
         */
        workloadIdentity?: {
          /**
           * A ServiceAccount of the account's own namespace (a DNS subdomain: no other namespace can be named). Its annotations azure.workload.identity/client-id and azure.workload.identity/tenant-id name the identity unless clientId and tenantId are set.
           */
          serviceAccountName?: string;
          /**
           * Client (application) ID of the identity.
           */
          clientId?: string;
          /**
           * Tenant (directory) ID of the identity.
           */
          tenantId?: string;
        };
        /**
         * A managed identity of the node or pod; clientId selects a user-assigned one.
         */
        managedIdentity?: {
          /**
           * Client ID of a user-assigned managed identity; empty means system-assigned.
           */
          clientId?: string;
        };
        /**
         * A service principal whose client secret is in a Secret of the account's namespace.
         */
        servicePrincipal?: {
          /**
           * Tenant (directory) ID.
           */
          tenantId: string;
          /**
           * Client (application) ID.
           */
          clientId: string;
          /**
           * The Secret key holding the client secret.
           */
          clientSecretRef: {
            /**
             * Name of the Secret in the account's namespace (a DNS subdomain, as every Secret name).
             */
            name: string;
            /**
             * Key within the Secret.
             */
            key: string;
          };
        };
      };
    };
  };
  /**
   * Named vault connections that Private certificates reference by name in spec.key.vault. The private keys stay in these vaults.
   *
   * @maxItems 16
   *
   * Items: One vault connection; exactly one of azure or kubernetes.
   */
  keyVaults?: {
    /**
     * Name that Certificates use in spec.key.vault (a DNS label).
     */
    name: string;
    /**
     * An Azure Key Vault (or Managed HSM) holding the keys.
     */
    azure?: {
      /**
       * The vault's ARM resource ID, e.g. /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>. Required when the store is azure: the integration account's certificate references the key by it. A Managed HSM (Microsoft.KeyVault/managedHSMs) is refused with an azure store: an integration account cannot use its keys.
       */
      resourceId?: string;
      /**
       * The vault's URL, e.g. https://contoso-kv.vault.azure.net. Only hosts under the Azure Key Vault suffixes (.vault.azure.net, .vault.azure.cn, .vault.usgovcloudapi.net, .managedhsm.azure.net) or those the operator allows with --allowed-vault-hosts are contacted.
       */
      vaultUrl: string;
      /**
       * How the operator authenticates to the vault; exactly one method.
       */
      auth: {
        /**
         * Azure AD workload identity. With serviceAccountName, the identity of that ServiceAccount of the account's namespace (its token exchanged at Entra ID); without it, the operator's own (the AKS webhook's environment), fields left empty coming from the operator pod's environment.
         */
        workloadIdentity?: {
          /**
           * A ServiceAccount of the account's own namespace (a DNS subdomain: no other namespace can be named). Its annotations azure.workload.identity/client-id and azure.workload.identity/tenant-id name the identity unless clientId and tenantId are set.
           */
          serviceAccountName?: string;
          /**
           * Client (application) ID of the identity.
           */
          clientId?: string;
          /**
           * Tenant (directory) ID of the identity.
           */
          tenantId?: string;
        };
        /**
         * A managed identity of the node or pod; clientId selects a user-assigned one.
         */
        managedIdentity?: {
          /**
           * Client ID of a user-assigned managed identity; empty means system-assigned.
           */
          clientId?: string;
        };
        /**
         * A service principal whose client secret is in a Secret of the account's namespace.
         */
        servicePrincipal?: {
          /**
           * Tenant (directory) ID.
           */
          tenantId: string;
          /**
           * Client (application) ID.
           */
          clientId: string;
          /**
           * The Secret key holding the client secret.
           */
          clientSecretRef: {
            /**
             * Name of the Secret in the account's namespace (a DNS subdomain, as every Secret name).
             */
            name: string;
            /**
             * Key within the Secret.
             */
            key: string;
          };
        };
      };
    };
    /**
     * Private keys held in Secrets of the account's namespace (key tls.key, PEM), for clusters without Azure. Takes no settings.
     */
    kubernetes?: {};
  }[];
}

/**
 * Observed state of the integration account, written by the operator.
 */
export interface IntegrationAccountStatus {
  /**
   * The metadata.generation that this status describes.
   */
  observedGeneration?: number;
  /**
   * The store backend in use (kubernetes or azure).
   */
  storeType?: string;
  /**
   * The Azure integration account as ARM reports it (azure store only).
   */
  azure?: {
    /**
     * Its ARM resource ID.
     */
    id?: string;
    /**
     * Its Azure region.
     */
    location?: string;
    /**
     * Its sku (Free, Basic or Standard); the certificate quota follows it.
     */
    sku?: string;
  };
  /**
   * Ready, Reconciling and Stalled, as kstatus (Flux) and Argo CD read them.
   *
   * Items: One aspect of the object's state (metav1.Condition).
   */
  conditions?: {
    /**
     * Type of the condition, e.g. Ready.
     */
    type: string;
    /**
     * True, False or Unknown.
     */
    status: 'True' | 'False' | 'Unknown';
    /**
     * The metadata.generation the condition was set for.
     */
    observedGeneration?: number;
    /**
     * When the status last changed.
     */
    lastTransitionTime: string;
    /**
     * Machine-readable CamelCase reason, e.g. QuotaExceeded.
     */
    reason: string;
    /**
     * Human-readable details and what to do.
     */
    message: string;
  }[];
  /**
   * Certificates that reference this account.
   */
  certificates?: {
    /**
     * Certificates referencing the account.
     */
    total?: number;
    /**
     * Of those, how many are Ready.
     */
    ready?: number;
    /**
     * The sku's certificate quota.
     */
    quota?: number;
  };
  /**
   * Health of each configured vault connection.
   *
   * Items: Result of the last probe of one vault.
   */
  keyVaults?: {
    /**
     * The vault's name in spec.keyVaults.
     */
    name: string;
    /**
     * Whether the vault answered and a token was obtained.
     */
    reachable: boolean;
    /**
     * Machine-readable CamelCase reason: Reachable, or why not (VaultHostNotAllowed, VaultUnavailable, AuthenticationFailed).
     */
    reason?: string;
    /**
     * Why it is not reachable, if so.
     */
    message?: string;
    /**
     * When the probe that found this result ran: updated when reachable, reason or message change, not on every recheck (a steady account costs no writes).
     */
    lastCheckedTime?: string;
  }[];
}

/**
 * Desired state of the certificate.
 */
export interface CertificateSpec {
  /**
   * The IntegrationAccount this certificate belongs to, in the same namespace.
   */
  integrationAccount: {
    /**
     * Name of the IntegrationAccount. Immutable.
     */
    name: string;
  };
  /**
   * Public: a certificate without a key (e.g. a partner's). Private: our certificate, whose private key stays in the vault named by spec.key.
   */
  type: 'Public' | 'Private';
  /**
   * Where the X.509 certificate comes from; exactly one source.
   */
  certificate: {
    /**
     * The certificate as PEM text, or base64 of DER (a .cer file); at most 64 KiB. In a PEM bundle the first certificate is used.
     */
    inline?: string;
    /**
     * A key of a Secret in the same namespace, e.g. a cert-manager TLS Secret.
     */
    secretRef?: {
      /**
       * Name of the Secret in the same namespace (a DNS subdomain, as every Secret name).
       */
      name: string;
      /**
       * Key within the Secret; defaults to tls.crt.
       */
      key?: string;
    };
    /**
     * A key of a ConfigMap in the same namespace.
     */
    configMapRef?: {
      /**
       * Name of the ConfigMap in the same namespace (a DNS subdomain, as every ConfigMap name).
       */
      name: string;
      /**
       * Key within the ConfigMap.
       */
      key: string;
    };
    /**
     * A certificate of Azure Key Vault, read with the vault's auth (certificate permissions get and list). For type Private without spec.key, its own key at the version of that certificate version is used. New versions (renewals) are followed when version is empty: each is checked before it replaces the synced one, and a version that fails a check leaves the last good one in the store (condition RenewalReady).
     */
    keyVault?: {
      /**
       * Name of an Azure vault in the account's spec.keyVaults.
       */
      vault: string;
      /**
       * The Key Vault certificate's name.
       */
      name: string;
      /**
       * Pins a certificate version; empty means the latest enabled version, followed as it renews.
       */
      version?: string;
    };
  };
  /**
   * Required for Private (optional with certificate.keyVault: then it must be that certificate's key), forbidden for Public: where the private key is. The operator's identity needs list, get, decrypt and sign on it.
   */
  key?: {
    /**
     * Name of a vault in the account's spec.keyVaults.
     */
    vault: string;
    /**
     * The Key Vault key name, or the Secret name for a kubernetes vault.
     */
    name: string;
    /**
     * Pins a key version; empty means the latest version.
     */
    version?: string;
  };
  /**
   * The certificate's name in an azure store; defaults to metadata.name. ARM's naming rules apply: 1 to 80 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period.
   */
  azureName?: string;
  /**
   * String map synced as-is with the certificate (e.g. partner name).
   */
  metadata?: {
    [k: string]: string | undefined;
  };
  /**
   * What happens to the stored certificate when this object is deleted: Delete removes it, Retain keeps it (no longer marked with this object's uid); deleting with --cascade=orphan keeps it too, and so does deleting the CRD (an uninstall never removes an entry). A change takes effect once status.observedGeneration reaches the generation of the change (kubectl wait --for=jsonpath='{.status.observedGeneration}'=N).
   */
  deletionPolicy?: 'Delete' | 'Retain';
  /**
   * What to do with a store entry of this certificate's name that this Certificate did not write (no mark with its uid). An entry marked for the same namespace/name under an earlier uid (rebuilt from git, a Retain Certificate applied again, a restore) is taken over, except under Never. An entry nobody marked: Never leaves it (StoreConflict); IfIdentical (the default) adopts it when it already holds this certificate (and, in Azure, the same key), adding only the operator's mark (Azure: no write at all when the entry already holds everything, recorded in status.store.adopted), else StoreConflict naming what differs; Always overwrites it (event Overwritten). An entry of another Certificate or another controller, or a Secret not of type Opaque, is never taken. Once adopted, deletionPolicy applies to the entry.
   */
  adoption?: 'Never' | 'IfIdentical' | 'Always';
  /**
   * How long before notAfter the Expiring condition turns True, as a Go duration (e.g. 720h, the default, is 30 days).
   */
  expiryWarning?: string;
  /**
   * A staged switch-over for certificate.keyVault: a valid new version waits before it replaces the synced one, so partners can be sent the new public certificate first (status.pending shows it). The annotation integration.b2b.dev/rollover-now switches at once.
   */
  rollover?: {
    /**
     * How long a valid new version waits, from when the operator first saw it (or its notBefore if later), as a Go duration (e.g. 168h).
     */
    delay: string;
  };
}

/**
 * Observed state of the certificate, written by the operator.
 */
export interface CertificateStatus {
  /**
   * The metadata.generation that this status describes.
   */
  observedGeneration?: number;
  /**
   * Ready, CertificateValid, KeyVaultAccessGranted, Synced, Expiring, Reconciling and Stalled, as kstatus (Flux) and Argo CD read them.
   *
   * Items: One aspect of the object's state (metav1.Condition).
   */
  conditions?: {
    /**
     * Type of the condition, e.g. Ready.
     */
    type: string;
    /**
     * True, False or Unknown.
     */
    status: 'True' | 'False' | 'Unknown';
    /**
     * The metadata.generation the condition was set for.
     */
    observedGeneration?: number;
    /**
     * When the status last changed.
     */
    lastTransitionTime: string;
    /**
     * Machine-readable CamelCase reason, e.g. CertificateExpired.
     */
    reason: string;
    /**
     * Human-readable details and what to do.
     */
    message: string;
  }[];
  /**
   * SHA-1 of the DER, upper-case hex without colons, as Azure shows it.
   */
  thumbprint?: string;
  /**
   * SHA-256 of the DER, upper-case hex without colons.
   */
  sha256Fingerprint?: string;
  /**
   * Subject as an RFC 4514 string.
   */
  subject?: string;
  /**
   * Issuer as an RFC 4514 string.
   */
  issuer?: string;
  /**
   * Serial number, upper-case hex.
   */
  serialNumber?: string;
  /**
   * Start of the validity period.
   */
  notBefore?: string;
  /**
   * End of the validity period.
   */
  notAfter?: string;
  /**
   * Key Usage bits by RFC 5280 name, in RFC order.
   */
  keyUsage?: string[];
  /**
   * Extended Key Usage purposes (names where known, else OIDs).
   */
  extendedKeyUsage?: string[];
  /**
   * The certificate's public key.
   */
  publicKey?: {
    /**
     * RSA, RSA-PSS, EC, Ed25519, Ed448 or DSA.
     */
    algorithm?: string;
    /**
     * Size in bits: RSA modulus bits, EC curve bits.
     */
    size?: number;
  };
  /**
   * The vault key of a Private certificate, as last verified.
   */
  key?: {
    /**
     * URL of the vault.
     */
    vaultUrl?: string;
    /**
     * Name of the key.
     */
    name?: string;
    /**
     * The key version resolved.
     */
    version?: string;
    /**
     * Operations verified by really using them (list, get, decrypt, sign).
     */
    grants?: string[];
    /**
     * When the grants were last verified.
     */
    lastVerifiedTime?: string;
  };
  /**
   * spec.rollover only; the new Key Vault certificate version waiting for its switch time.
   */
  pending?: {
    /**
     * The Key Vault certificate version waiting.
     */
    version?: string;
    /**
     * SHA-1 of its DER, upper-case hex, as Azure shows it: to send to the partners.
     */
    thumbprint?: string;
    /**
     * Its notBefore.
     */
    notBefore?: string;
    /**
     * Its notAfter.
     */
    notAfter?: string;
    /**
     * When the operator first saw it.
     */
    seenTime?: string;
    /**
     * When it replaces the synced version.
     */
    switchTime?: string;
  };
  /**
   * Source keyVault only; the Key Vault certificate version the store holds (the last good version).
   */
  keyVaultCertificate?: {
    /**
     * Name of the vault in the account's spec.keyVaults.
     */
    vault?: string;
    /**
     * Name of the Key Vault certificate.
     */
    name?: string;
    /**
     * The certificate version in the store.
     */
    version?: string;
  };
  /**
   * Azure store: the agreements of the integration account that use the certificate (an AS2 agreement names the certificates it signs and encrypts with, per direction), as last read; read once per recheck interval per account, and again before a delete. Absent with a kubernetes store, or while the agreements cannot be read.
   */
  azure?: {
    /**
     * The first 20 uses, by agreement name; usedByCount counts them all.
     *
     * @maxItems 20
     */
    usedBy?: {
      /**
       * The agreement's name in the integration account.
       */
      agreement: string;
      /**
       * The agreement type, e.g. AS2.
       */
      type: string;
      /**
       * The one-way agreement that names the certificate.
       */
      direction: 'send' | 'receive';
      /**
       * What it uses the certificate for.
       */
      role: 'signing' | 'encryption';
    }[];
    /**
     * How many uses there are (0: no agreement uses it; a Delete Certificate in use is not deleted in Azure).
     */
    usedByCount?: number;
  };
  /**
   * Where the certificate is synced.
   */
  store?: {
    /**
     * Secret name or Azure resource id in the store.
     */
    ref?: string;
    /**
     * When the store was last written.
     */
    syncedTime?: string;
    /**
     * Kubernetes store: the Secret's resourceVersion after the operator last wrote it (a Secret still at it is confirmed without reading it).
     */
    resourceVersion?: string;
    /**
     * Azure store: the entry that ref names was adopted without a write (spec.adoption; it already held everything this Certificate would write), so it carries no marker of this Certificate: this record is what makes it the Certificate's (kept as the Certificate says; deletionPolicy applies to it). Gone with the operator's first write to the entry, which adds the marker.
     */
    adopted?: {
      /**
       * Hash of the entry's content when it was adopted: an entry that no longer holds it was changed in Azure.
       */
      contentHash: string;
    };
    /**
     * Azure store: how the operator reached the entry when it wrote it (the account's cloud and auth; never a secret), so that it can still remove the entry once the IntegrationAccount is deleted or names another store.
     */
    azure?: {
      /**
       * The Azure cloud of the entry.
       */
      cloud?: 'AzurePublic' | 'AzureChina' | 'AzureUSGovernment';
      /**
       * The IntegrationAccount's spec.store.azure.auth the entry was written with.
       */
      auth?: {
        /**
         * Workload identity, as the account named it.
         */
        workloadIdentity?: {
          /**
           * The ServiceAccount of the Certificate's namespace whose identity wrote the entry.
           */
          serviceAccountName?: string;
          /**
           * The application (client) ID.
           */
          clientId?: string;
          /**
           * The Entra ID tenant ID.
           */
          tenantId?: string;
        };
        /**
         * Managed identity, as the account named it.
         */
        managedIdentity?: {
          /**
           * A user-assigned identity's client ID (empty for the system-assigned one).
           */
          clientId?: string;
        };
        /**
         * Service principal, as the account named it (the secret stays in its Secret).
         */
        servicePrincipal?: {
          /**
           * The Entra ID tenant ID.
           */
          tenantId: string;
          /**
           * The application (client) ID.
           */
          clientId: string;
          /**
           * The Secret of the Certificate's namespace that holds the client secret.
           */
          clientSecretRef: {
            /**
             * The Secret's name.
             */
            name: string;
            /**
             * The key of the client secret in the Secret.
             */
            key: string;
          };
        };
      };
    };
    /**
     * Azure store: earlier entries of this Certificate (before a change of spec.azureName or of the account) that agreements still use, so they are kept (condition PreviousEntryInUse); each is removed, and dropped from this list, once no agreement uses it.
     *
     * @maxItems 10
     */
    kept?: {
      /**
       * The Azure resource id of the kept entry.
       */
      ref: string;
      /**
       * Azure store: how the operator reached the entry when it wrote it (the account's cloud and auth; never a secret), so that it can still remove the entry once the IntegrationAccount is deleted or names another store.
       */
      azure?: {
        /**
         * The Azure cloud of the entry.
         */
        cloud?: 'AzurePublic' | 'AzureChina' | 'AzureUSGovernment';
        /**
         * The IntegrationAccount's spec.store.azure.auth the entry was written with.
         */
        auth?: {
          /**
           * Workload identity, as the account named it.
           */
          workloadIdentity?: {
            /**
             * The ServiceAccount of the Certificate's namespace whose identity wrote the entry.
             */
            serviceAccountName?: string;
            /**
             * The application (client) ID.
             */
            clientId?: string;
            /**
             * The Entra ID tenant ID.
             */
            tenantId?: string;
          };
          /**
           * Managed identity, as the account named it.
           */
          managedIdentity?: {
            /**
             * A user-assigned identity's client ID (empty for the system-assigned one).
             */
            clientId?: string;
          };
          /**
           * Service principal, as the account named it (the secret stays in its Secret).
           */
          servicePrincipal?: {
            /**
             * The Entra ID tenant ID.
             */
            tenantId: string;
            /**
             * The application (client) ID.
             */
            clientId: string;
            /**
             * The Secret of the Certificate's namespace that holds the client secret.
             */
            clientSecretRef: {
              /**
               * The Secret's name.
               */
              name: string;
              /**
               * The key of the client secret in the Secret.
               */
              key: string;
            };
          };
        };
      };
    }[];
  };
}
