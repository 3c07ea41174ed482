// The SDK clients of one azure store connection: @azure/arm-logic (integration account and its
// certificates), @azure/arm-keyvault (the vault's RBAC mode and access policies),
// @azure/arm-authorization (role assignments and definitions), and Microsoft Graph for the
// Logic Apps service principal's object ID. Endpoints follow the cloud unless the operator
// overrides them (--azure-arm-endpoint, for test servers); token scopes always follow the cloud.
// Token requests end by the deadline (withTokenDeadline); each call takes the abort signal that
// ArmRequests gives it, which ends at that deadline too.
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { LogicManagementClient } from '@azure/arm-logic';
import type { TokenCredential } from '@azure/identity';
import type { ServiceAccountIdentity } from '../../identity/service-account.ts';
import { createCredential, withTokenDeadline } from '../../vaults/azure/credentials.ts';
import { cloudEndpoints, type AzureStoreSpec, type CloudEndpoints } from './arm-ids.ts';

export interface EndpointOverrides {
  arm?: string | undefined;
  graph?: string | undefined;
}

export class AzureClients {
  readonly spec: AzureStoreSpec;
  readonly logic: LogicManagementClient;
  private readonly credential: TokenCredential;
  private readonly cloud: CloudEndpoints;
  private readonly armEndpoint: string;
  private readonly graphEndpoint: string;
  private readonly keyVaultClients = new Map<string, KeyVaultManagementClient>();
  private readonly authorizationClients = new Map<string, AuthorizationManagementClient>();

  constructor(
    spec: AzureStoreSpec,
    overrides: EndpointOverrides,
    clientSecret: string | undefined,
    timeoutMs: number,
    identity?: ServiceAccountIdentity,
  ) {
    this.spec = spec;
    this.cloud = cloudEndpoints[spec.cloud ?? 'AzurePublic'];
    this.armEndpoint = (overrides.arm || this.cloud.arm).replace(/\/$/, '');
    this.graphEndpoint = (overrides.graph || this.cloud.graph).replace(/\/$/, '');
    // The sign-in authority follows the cloud, as for a vault of that cloud.
    this.credential = withTokenDeadline(
      createCredential(spec.auth, this.cloud.keyVaultUrl, clientSecret, identity),
      timeoutMs,
    );
    this.logic = new LogicManagementClient(this.credential, spec.subscriptionId, this.options());
  }

  private options() {
    return {
      endpoint: this.armEndpoint,
      credentialScopes: [`${this.cloud.arm}/.default`],
      // ArmRequests retries with the subscription-wide rules; the SDK must not retry on its own.
      retryOptions: { maxRetries: 0 },
    };
  }

  keyVault(subscriptionId: string): KeyVaultManagementClient {
    let client = this.keyVaultClients.get(subscriptionId);
    if (!client) {
      const { credentialScopes, ...rest } = this.options();
      client = new KeyVaultManagementClient(this.credential, subscriptionId, {
        ...rest,
        credentials: { scopes: credentialScopes },
      });
      this.keyVaultClients.set(subscriptionId, client);
    }
    return client;
  }

  authorization(subscriptionId: string): AuthorizationManagementClient {
    let client = this.authorizationClients.get(subscriptionId);
    if (!client) {
      client = new AuthorizationManagementClient(this.credential, subscriptionId, this.options());
      this.authorizationClients.set(subscriptionId, client);
    }
    return client;
  }

  /** Microsoft Graph: the object ID of a service principal by its application ID. */
  async servicePrincipalObjectId(appId: string, abortSignal: AbortSignal): Promise<string> {
    const token = await this.credential.getToken(`${this.cloud.graph}/.default`, { abortSignal });
    if (!token) throw new Error('no token for Microsoft Graph');
    const response = await fetch(
      `${this.graphEndpoint}/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')?$select=id`,
      {
        headers: { authorization: `Bearer ${token.token}`, accept: 'application/json' },
        signal: abortSignal,
      },
    );
    const body = (await response.json().catch(() => ({}))) as {
      id?: string;
      error?: { code?: string; message?: string };
    };
    if (!response.ok || !body.id)
      throw Object.assign(
        new Error(body.error?.message ?? `Microsoft Graph answered ${response.status}`),
        {
          statusCode: response.status,
          code: body.error?.code,
          response: { headers: response.headers, bodyAsText: null },
        },
      );
    return body.id;
  }
}
