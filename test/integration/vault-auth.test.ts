// Every authentication method of API.md, through the operator process (src/main.ts as the
// image runs it, under the non-admin kubeconfig) against the Key Vault emulator:
// managed identity (system- and user-assigned) against the emulator's token endpoint, seen
// through a recording proxy; workload identity (the AKS webhook's AZURE_* variables and
// federated token file) and a service principal (secret in a Secret) against a local Entra ID
// token endpoint. What each credential sent is asserted, and no secret or token may reach
// logs, events or status. A vault host outside the allow-list costs no connection at all.
// Two operator processes, as two pods: one without the workload identity webhook's
// environment (managed identity, service principal), one with it (workload identity; there
// @azure/identity's managed identity would use the federated token too).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationAccountResource, type IntegrationAccount } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { waitForEvent } from '../support/events.ts';
import { keyPair } from '../support/keys.ts';
import { OidcTokenEndpoint } from '../support/oidc.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';

const { vaultUrl, vaultCaFile, tokenAuthority } = testenv();

/** The emulator's managed-identity endpoint behind a proxy that records each token request. */
class RecordingTokenProxy {
  readonly requests: { clientId: string | null; resource: string | null }[] = [];
  readonly tokens: string[] = [];
  connections = 0;
  private readonly server: Server;
  constructor(target: string) {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', target);
      this.requests.push({
        clientId: url.searchParams.get('client_id'),
        resource: url.searchParams.get('resource'),
      });
      void fetch(url, { headers: { metadata: 'true' } }).then(async (upstream) => {
        const text = await upstream.text();
        try {
          const token = (JSON.parse(text) as { access_token?: string }).access_token;
          if (token) this.tokens.push(token);
        } catch {
          // not a token answer; passed on as it is
        }
        res.writeHead(upstream.status, { 'content-type': 'application/json' });
        res.end(text);
      });
    });
    this.server.on('connection', () => this.connections++);
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const keyJwk = keyPair('rsa2048', 11).privateKey.export({ format: 'jwk' });
const certificatePem = privateUsable({}, 11).pem;
const bytes = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));

describe.skipIf(!vaultUrl)('authentication to Azure Key Vault, every method', () => {
  const emulator = new URL(vaultUrl ?? 'https://localhost:1');
  const keyName = `auth-${randomBytes(4).toString('hex')}`;
  const clientSecret = `sp-secret-${randomBytes(12).toString('hex')}`;
  const federatedToken = `federated-${randomBytes(12).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vault-auth-'));
  const oidc = new OidcTokenEndpoint();
  const imds = new RecordingTokenProxy(tokenAuthority ?? 'http://127.0.0.1:1');
  let admin: KubeClient;
  let ns: string; // the pod without the webhook's environment
  let wiNs: string; // the pod with it
  const operators: OperatorProcess[] = [];
  const azure = (auth: Record<string, unknown>) => ({ vaultUrl: vaultUrl!, auth });

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'vault-auth');
    wiNs = await createNamespace(admin, 'vault-auth-wi');
    const keys = new KeyClient(vaultUrl!, new ManagedIdentityCredential(), {
      disableChallengeResourceVerification: true,
    });
    await keys.importKey(
      keyName,
      {
        kty: 'RSA',
        n: bytes(keyJwk.n),
        e: bytes(keyJwk.e),
        d: bytes(keyJwk.d),
        p: bytes(keyJwk.p),
        q: bytes(keyJwk.q),
        dp: bytes(keyJwk.dp),
        dq: bytes(keyJwk.dq),
        qi: bytes(keyJwk.qi),
        keyOps: ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
      },
      {},
    );
    const authority = await oidc.start();
    const imdsUrl = await imds.start();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, `${readFileSync(vaultCaFile!, 'utf8')}\n${oidc.certificatePem}`);
    const tokenFile = join(dir, 'azure-identity-token');
    writeFileSync(tokenFile, federatedToken);
    const common = { B2B_ALLOWED_VAULT_HOSTS: emulator.host, NODE_EXTRA_CA_CERTS: caFile };
    operators.push(
      await startOperatorProcess(ns, {
        ...common,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsUrl,
        AZURE_AUTHORITY_HOST: authority,
      }),
      // What the AKS workload identity webhook puts into the pod.
      await startOperatorProcess(wiNs, {
        ...common,
        AZURE_AUTHORITY_HOST: authority,
        AZURE_CLIENT_ID: 'workload-client-id',
        AZURE_TENANT_ID: 'workload-tenant',
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      }),
    );
  });
  afterAll(async () => {
    for (const operator of operators) expect(await operator.stop()).toBe(0);
    await oidc.stop();
    await imds.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends nothing, not even a token request, for a vault host outside the allow-list', async () => {
    await createAccount(admin, ns, 'outside', {
      keyVaults: [
        {
          name: 'sp',
          azure: {
            vaultUrl: `https://127.0.0.1:${new URL(oidc.authorityHost).port}`,
            auth: {
              servicePrincipal: {
                tenantId: 't',
                clientId: 'c',
                clientSecretRef: { name: 'sp-secret', key: 'clientSecret' },
              },
            },
          },
        },
        {
          name: 'wi',
          azure: { vaultUrl: 'https://evil.example.com', auth: { workloadIdentity: {} } },
        },
        {
          name: 'mi',
          azure: { vaultUrl: 'https://evil.example.com', auth: { managedIdentity: {} } },
        },
      ],
    });
    for (const vault of ['sp', 'wi', 'mi']) {
      await createCertificate(admin, ns, `outside-${vault}`, {
        integrationAccount: { name: 'outside' },
        type: 'Private',
        certificate: { inline: certificatePem },
        key: { vault, name: keyName },
      });
    }
    for (const vault of ['sp', 'wi', 'mi'])
      await waitForCondition(
        admin,
        ns,
        `outside-${vault}`,
        'Ready',
        'False',
        'VaultHostNotAllowed',
        60_000,
      );
    await eventually(async () => {
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'outside' }),
      );
      return a.status?.keyVaults?.length === 3 ? a : undefined;
    }, 'the account’s status.keyVaults');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(oidc.connections).toBe(0);
    expect(imds.connections).toBe(0);
  });

  it('authenticates with each method and sends what each method should', async () => {
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'sp-secret' },
      stringData: { clientSecret },
    });
    // The pod without the webhook's environment: managed identity and a service principal.
    const vaults = {
      'mi-system': { managedIdentity: {} },
      'mi-user': { managedIdentity: { clientId: 'user-assigned-client-id' } },
      sp: {
        servicePrincipal: {
          tenantId: 'sp-tenant',
          clientId: 'sp-client-id',
          clientSecretRef: { name: 'sp-secret', key: 'clientSecret' },
        },
      },
    };
    // The pod with it: workload identity from the environment, or with the spec's ids.
    const wiVaults = {
      workload: { workloadIdentity: {} },
      'workload-spec': {
        workloadIdentity: { clientId: 'spec-client-id', tenantId: 'spec-tenant' },
      },
    };
    const cases: [string, Record<string, Record<string, unknown>>][] = [
      [ns, vaults],
      [wiNs, wiVaults],
    ];
    for (const [namespace, entries] of cases) {
      await createAccount(admin, namespace, 'contoso', {
        keyVaults: Object.entries(entries).map(([name, auth]) => ({ name, azure: azure(auth) })),
      });
      for (const vault of Object.keys(entries)) {
        await createCertificate(admin, namespace, `via-${vault}`, {
          type: 'Private',
          certificate: { inline: certificatePem },
          key: { vault, name: keyName },
        });
      }
    }
    for (const [namespace, entries] of cases) {
      for (const vault of Object.keys(entries)) {
        const c = await waitForCondition(
          admin,
          namespace,
          `via-${vault}`,
          'Ready',
          'True',
          undefined,
          90_000,
        );
        expect(c.status?.key?.grants, vault).toEqual(['list', 'get', 'decrypt', 'sign']);
      }
      const account = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace, name: 'contoso' }),
      );
      expect(account.status?.keyVaults?.map((v) => [v.name, v.reachable])).toEqual(
        Object.keys(entries).map((name) => [name, true]),
      );
    }

    // Managed identity: the emulator's IMDS endpoint, with the client id only when user-assigned.
    expect(imds.requests.length).toBeGreaterThan(0);
    expect(new Set(imds.requests.map((r) => r.clientId))).toEqual(
      new Set([null, 'user-assigned-client-id']),
    );
    // Workload identity: the webhook's client and tenant, or the spec's; the federated token as
    // the client assertion and no secret. Service principal: its secret, no assertion.
    const sent = oidc.requests.map(({ tenant, form }) => ({
      tenant,
      clientId: form.client_id,
      grantType: form.grant_type,
      assertionType: form.client_assertion_type,
      assertion: form.client_assertion,
      secret: form.client_secret,
    }));
    const assertion = {
      grantType: 'client_credentials',
      assertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      assertion: federatedToken,
      secret: undefined,
    };
    expect(sent).toEqual(
      expect.arrayContaining([
        { tenant: 'workload-tenant', clientId: 'workload-client-id', ...assertion },
        { tenant: 'spec-tenant', clientId: 'spec-client-id', ...assertion },
        {
          tenant: 'sp-tenant',
          clientId: 'sp-client-id',
          grantType: 'client_credentials',
          assertionType: undefined,
          assertion: undefined,
          secret: clientSecret,
        },
      ]),
    );
    expect(new Set(sent.map((s) => `${s.tenant}/${s.clientId}`))).toEqual(
      new Set([
        'workload-tenant/workload-client-id',
        'spec-tenant/spec-client-id',
        'sp-tenant/sp-client-id',
      ]),
    );

    // No secret, assertion or token anywhere a user or a log collector can read. Events are sent
    // in the background: wait for each certificate's Synced event so the events are there to read.
    for (const [namespace, entries] of cases)
      for (const vault of Object.keys(entries))
        await waitForEvent(admin, namespace, {
          kind: 'Certificate',
          name: `via-${vault}`,
          reason: 'Synced',
        });
    const readable: [string, string][] = operators.map((o, i) => [
      `logs of operator ${i}`,
      o.output(),
    ]);
    for (const namespace of [ns, wiNs]) {
      for (const path of [
        `/api/v1/namespaces/${namespace}/events`,
        `/apis/integration.b2b.dev/v1alpha1/namespaces/${namespace}/certificates`,
        `/apis/integration.b2b.dev/v1alpha1/namespaces/${namespace}/integrationaccounts`,
      ]) {
        const list = await admin.list<{ items: unknown[] }>(path);
        readable.push([path, JSON.stringify(list.items)]);
      }
    }
    const secrets = [
      clientSecret,
      federatedToken,
      ...oidc.requests.map((r) => r.accessToken),
      ...imds.tokens,
    ];
    expect(imds.tokens.length).toBeGreaterThan(0);
    for (const [where, text] of readable) {
      for (const secret of secrets)
        expect(text.includes(secret), `a secret or token in ${where}`).toBe(false);
    }
    for (const operator of operators)
      expect(operator.output()).toMatch(/"msg":"operator starting"/); // the logs were read
  });
});
