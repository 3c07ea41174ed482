// Tenant isolation (issue 20): each team's Azure identity is a ServiceAccount of its own
// namespace, and Azure, not the operator, decides what that identity may use. On real parts:
// the operator process (src/main.ts under the non-admin kubeconfig), objects applied with
// kubectl, ServiceAccount tokens issued by the test kube-apiserver itself, the Key Vault
// emulator, the ARM test server, and an Entra-shaped token endpoint that verifies each client
// assertion as Entra ID does (signature against the API server's /openid/v1/jwks, issuer,
// audience, validity, and a table of federated credentials: client ID -> trusted subject).
// docs/security.md cites these tests by name.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { keyPair } from '../support/keys.ts';
import { kubectl } from '../support/kubectl.ts';
import { OidcTokenEndpoint } from '../support/oidc.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { condition, getCertificate, kubectlApply, waitForCondition } from '../support/resources.ts';
import { importKey, NO_EMULATOR, vaultAdmin } from '../support/vault.ts';

const { vaultUrl, vaultCaFile } = testenv();
const SUB = '5d0b5e8a-4d6e-4b69-9d73-2c9bd3b6a0a1';
const RG = 'b2b-teams';
const TEAM_A_CLIENT = '0a0a0a0a-0000-4000-8000-00000000000a';
const TEAM_B_CLIENT = '0b0b0b0b-0000-4000-8000-00000000000b';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const API = 'integration.b2b.dev/v1alpha1';
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/;

/** Counts connections: a token endpoint that must never be asked. */
class SilentEndpoint {
  connections = 0;
  private readonly server: Server = createServer((_, res) => res.writeHead(500).end());
  async start(): Promise<string> {
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const serviceAccount = (name: string, clientId?: string) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: {
    name,
    ...(clientId
      ? {
          annotations: {
            'azure.workload.identity/client-id': clientId,
            'azure.workload.identity/tenant-id': TENANT,
          },
        }
      : {}),
  },
});

const account = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API,
  kind: 'IntegrationAccount',
  metadata: { name },
  spec,
});

const certificate = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API,
  kind: 'Certificate',
  metadata: { name },
  spec: { type: 'Public', deletionPolicy: 'Retain', ...spec },
});

const bySa = (serviceAccountName: string) => ({ workloadIdentity: { serviceAccountName } });

async function getAccount(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<IntegrationAccount> {
  return client.get<IntegrationAccount>(
    resourcePath(IntegrationAccountResource, { namespace, name }),
  );
}

function waitForAccount(
  client: KubeClient,
  namespace: string,
  name: string,
  status: 'True' | 'False',
  reason: string,
  timeoutMs = 90_000,
): Promise<IntegrationAccount> {
  return eventually(
    async () => {
      const a = await getAccount(client, namespace, name);
      const ready = condition(a, 'Ready');
      return ready?.status === status && ready.reason === reason ? a : undefined;
    },
    `IntegrationAccount ${namespace}/${name} Ready=${status} (${reason})`,
    timeoutMs,
  );
}

describe.skipIf(!vaultUrl)(
  `tenant isolation: each team's Azure identity${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    const emulator = new URL(vaultUrl ?? 'https://localhost:1');
    const keyName = `tenant-${randomBytes(4).toString('hex')}`;
    const privatePem = privateUsable({}, 61).pem;
    const publicPem = selfSigned('rsa2048', {}, 62).pem;
    const dir = mkdtempSync(join(tmpdir(), 'tenant-identity-'));
    const entra = new OidcTokenEndpoint(); // judges assertions like Entra ID
    const lockdownEntra = new OidcTokenEndpoint(); // must never be asked
    const lockdownImds = new SilentEndpoint(); // must never be asked
    const unusedImds = new SilentEndpoint();
    let arm: ArmTestServer;
    let admin: KubeClient;
    let teamA: string;
    let teamB: string;
    let lockedOut: string;
    let issuer: string;
    let teamOperator: OperatorProcess;
    let lockdownOperator: OperatorProcess;

    beforeAll(async () => {
      admin = adminClient();
      teamA = await createNamespace(admin, 'team-a');
      teamB = await createNamespace(admin, 'team-b');
      lockedOut = await createNamespace(admin, 'team-l');
      await importKey(vaultAdmin(), keyName, keyPair('rsa2048', 61).privateKey);
      arm = await new ArmTestServer().start();
      // Tokens come from the Entra-shaped endpoint, which decides who gets one.
      arm.acceptForeignTokens = true;
      // The federated credentials as Azure would hold them, with the API server's own keys.
      const discovery = await admin.get<{ issuer: string }>('/.well-known/openid-configuration');
      issuer = discovery.issuer;
      entra.federation = {
        jwks: await admin.request('GET', '/openid/v1/jwks', { accept: 'application/jwk-set+json' }),
        issuer,
        credentials: new Map([
          [
            TEAM_A_CLIENT,
            [`system:serviceaccount:${teamA}:team-a-b2b`, `system:serviceaccount:${teamA}:gone`],
          ],
          [TEAM_B_CLIENT, [`system:serviceaccount:${teamB}:team-b-b2b`]],
        ]),
      };
      // Short access tokens: MSAL asks Entra again for each one, so each use needs an assertion.
      entra.accessTokenLifetimeSeconds = 1;
      const authority = await entra.start();
      const lockdownAuthority = await lockdownEntra.start();
      const lockdownImdsUrl = await lockdownImds.start();
      const unusedImdsUrl = await unusedImds.start();
      const caFile = join(dir, 'ca.pem');
      writeFileSync(
        caFile,
        [
          readFileSync(vaultCaFile!, 'utf8'),
          readFileSync(arm.caFile, 'utf8'),
          entra.certificatePem,
          lockdownEntra.certificatePem,
        ].join('\n'),
      );
      const common = {
        NODE_EXTRA_CA_CERTS: caFile,
        B2B_ALLOWED_VAULT_HOSTS: emulator.host,
        B2B_AZURE_ARM_ENDPOINT: arm.url,
        B2B_AZURE_GRAPH_ENDPOINT: arm.url,
        B2B_AZURE_IDENTITY_POLICY: 'serviceAccount',
        POD_NAMESPACE: 'b2b-system',
      };
      teamOperator = await startOperatorProcess(teamA, {
        ...common,
        AZURE_AUTHORITY_HOST: authority,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: unusedImdsUrl,
        B2B_RECHECK_INTERVAL: '5s',
        B2B_TEST_SERVICE_ACCOUNT_TOKEN_MAX_REUSE: '3s',
      });
      // The operator's own identities are there to be used, as the AKS webhook would set them.
      const tokenFile = join(dir, 'operator-federated-token');
      writeFileSync(tokenFile, `operator-token-${randomBytes(8).toString('hex')}`);
      lockdownOperator = await startOperatorProcess(lockedOut, {
        ...common,
        AZURE_AUTHORITY_HOST: lockdownAuthority,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: lockdownImdsUrl,
        AZURE_CLIENT_ID: 'operator-client-id',
        AZURE_TENANT_ID: TENANT,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      });
      await kubectlApply(teamA, serviceAccount('team-a-b2b', TEAM_A_CLIENT));
      await kubectlApply(teamB, serviceAccount('team-b-b2b', TEAM_B_CLIENT));
    });

    afterAll(async () => {
      const codes = [await teamOperator?.stop(), await lockdownOperator?.stop()];
      await Promise.all([
        entra.stop(),
        lockdownEntra.stop(),
        lockdownImds.stop(),
        unusedImds.stop(),
      ]);
      await arm?.stop();
      rmSync(dir, { recursive: true, force: true });
      expect(codes).toEqual([0, 0]);
    });

    it('team A with its own ServiceAccount: Ready, through its key vault and its Azure integration account', async () => {
      const accountId = arm.addAccount(SUB, RG, 'team-a-ia', 'Standard');
      await kubectlApply(
        teamA,
        account('team-a', {
          keyVaults: [{ name: 'main', azure: { vaultUrl: vaultUrl!, auth: bySa('team-a-b2b') } }],
        }),
      );
      await kubectlApply(
        teamA,
        account('team-a-azure', {
          store: {
            azure: {
              subscriptionId: SUB,
              resourceGroup: RG,
              name: 'team-a-ia',
              auth: bySa('team-a-b2b'),
            },
          },
        }),
      );
      await kubectlApply(
        teamA,
        certificate('signing', {
          integrationAccount: { name: 'team-a' },
          type: 'Private',
          certificate: { inline: privatePem },
          key: { vault: 'main', name: keyName },
        }),
      );
      await kubectlApply(
        teamA,
        certificate('partner', {
          integrationAccount: { name: 'team-a-azure' },
          certificate: { inline: publicPem },
        }),
      );
      const signing = await waitForCondition(
        admin,
        teamA,
        'signing',
        'Ready',
        'True',
        'Ready',
        90_000,
      );
      expect(signing.status?.key?.grants).toEqual(['list', 'get', 'decrypt', 'sign']);
      await waitForCondition(admin, teamA, 'partner', 'Ready', 'True', 'Ready', 90_000);
      expect(arm.certificate(accountId, 'partner')).toBeDefined();
      const a = await getAccount(admin, teamA, 'team-a');
      expect(a.status?.keyVaults?.map((v) => [v.name, v.reachable, v.reason])).toEqual([
        ['main', true, 'Reachable'],
      ]);
      // Entra ID was shown team A's ServiceAccount token, and trusted it for team A's identity.
      const accepted = entra.exchanges.filter((e) => e.accepted);
      expect(accepted.length).toBeGreaterThan(0);
      expect(new Set(accepted.map((e) => `${e.clientId} ${e.subject}`))).toEqual(
        new Set([`${TEAM_A_CLIENT} system:serviceaccount:${teamA}:team-a-b2b`]),
      );
      expect(entra.requests.every((r) => r.tenant === TENANT)).toBe(true);
      // The status records how the entry was reached: the ServiceAccount, never a token.
      const partner = (await getCertificate(admin, teamA, 'partner'))!;
      expect(partner.status?.store?.azure?.auth).toEqual(bySa('team-a-b2b'));
    });

    it('team A cannot use team B’s identity: its ServiceAccount annotated with team B’s client ID is AuthenticationFailed, naming the federated credential to create', async () => {
      await kubectlApply(teamA, serviceAccount('borrowed', TEAM_B_CLIENT));
      arm.addAccount(SUB, RG, 'team-b-ia', 'Standard');
      await kubectlApply(
        teamA,
        account('borrow', {
          keyVaults: [{ name: 'main', azure: { vaultUrl: vaultUrl!, auth: bySa('borrowed') } }],
        }),
      );
      await kubectlApply(
        teamA,
        account('borrow-azure', {
          store: {
            azure: {
              subscriptionId: SUB,
              resourceGroup: RG,
              name: 'team-b-ia',
              auth: bySa('borrowed'),
            },
          },
        }),
      );
      await kubectlApply(
        teamA,
        certificate('borrowed-key', {
          integrationAccount: { name: 'borrow' },
          type: 'Private',
          certificate: { inline: privatePem },
          key: { vault: 'main', name: keyName },
        }),
      );
      const hint = [
        `no federated credential of identity ${TEAM_B_CLIENT} trusts ServiceAccount ${teamA}/borrowed`,
        `issuer ${issuer}`,
        `subject system:serviceaccount:${teamA}:borrowed`,
        'audience api://AzureADTokenExchange',
      ];
      const refused = await waitForCondition(
        admin,
        teamA,
        'borrowed-key',
        'Ready',
        'False',
        'AuthenticationFailed',
        90_000,
      );
      // A refused sign-in is retried (KeyVaultAccessGranted Unknown): a new credential may come.
      const message = condition(refused, 'KeyVaultAccessGranted')?.message ?? '';
      expect(message).toContain('AADSTS70021');
      for (const words of hint) expect(message).toContain(words);
      expect(condition(refused, 'Ready')?.reason).toBe('AuthenticationFailed');
      const probed = await eventually(async () => {
        const a = await getAccount(admin, teamA, 'borrow');
        return a.status?.keyVaults?.[0]?.reason === 'AuthenticationFailed' ? a : undefined;
      }, 'the vault of account borrow AuthenticationFailed');
      for (const words of hint) expect(probed.status?.keyVaults?.[0]?.message).toContain(words);
      const store = await waitForAccount(
        admin,
        teamA,
        'borrow-azure',
        'False',
        'AuthenticationFailed',
      );
      for (const words of hint) expect(condition(store, 'Ready')?.message).toContain(words);
      // Entra ID refused it (no federated credential of team B trusts team A's ServiceAccount),
      // so team B's integration account never saw a request.
      expect(
        entra.exchanges.some(
          (e) =>
            !e.accepted &&
            e.code === 'AADSTS70021' &&
            e.clientId === TEAM_B_CLIENT &&
            e.subject === `system:serviceaccount:${teamA}:borrowed`,
        ),
      ).toBe(true);
      expect(entra.exchanges.some((e) => e.accepted && e.clientId === TEAM_B_CLIENT)).toBe(false);
      expect(arm.calls.filter((c) => c.path.toLowerCase().includes('/team-b-ia'))).toEqual([]);
    });

    it('refuses at apply time a ServiceAccount of another namespace, however it is written', async () => {
      const attempts: [string, Record<string, unknown>][] = [
        ['namespace/name', bySa(`${teamB}/team-b-b2b`)],
        ['the token subject', bySa(`system:serviceaccount:${teamB}:team-b-b2b`)],
        [
          'a namespace field',
          { workloadIdentity: { serviceAccountName: 'team-b-b2b', namespace: teamB } },
        ],
      ];
      for (const [how, auth] of attempts)
        for (const [where, spec] of [
          ['keyVaults', { keyVaults: [{ name: 'main', azure: { vaultUrl: vaultUrl!, auth } }] }],
          [
            'store.azure',
            {
              store: { azure: { subscriptionId: SUB, resourceGroup: RG, name: 'team-b-ia', auth } },
            },
          ],
        ] as const) {
          const result = await kubectl(
            ['apply', '-n', teamA, '-f', '-'],
            JSON.stringify(account(`cross-${where.replace('.', '-').toLowerCase()}`, spec)),
          );
          expect(result.code, `${how} in ${where}: ${result.stdout}`).not.toBe(0);
          expect(result.stderr, `${how} in ${where}`).toMatch(
            /serviceAccountName|unknown field "?spec\.(keyVaults\[0\]\.azure|store\.azure)\.auth\.workloadIdentity\.namespace/,
          );
        }
      const accounts = await admin.list<{ items: IntegrationAccount[] }>(
        resourcePath(IntegrationAccountResource, { namespace: teamA }),
      );
      expect(accounts.items.map((a) => a.metadata.name)).not.toContain('cross-keyvaults');
    });

    it('under --azure-identity-policy=serviceAccount, the operator’s own identity is IdentityNotAllowed and no token endpoint is asked', async () => {
      arm.addAccount(SUB, RG, 'operators-ia', 'Standard');
      await kubectlApply(
        lockedOut,
        account('vaults', {
          keyVaults: [
            { name: 'mi', azure: { vaultUrl: vaultUrl!, auth: { managedIdentity: {} } } },
            { name: 'wi', azure: { vaultUrl: vaultUrl!, auth: { workloadIdentity: {} } } },
          ],
        }),
      );
      await kubectlApply(
        lockedOut,
        account('store', {
          store: {
            azure: {
              subscriptionId: SUB,
              resourceGroup: RG,
              name: 'operators-ia',
              auth: { managedIdentity: {} },
            },
          },
        }),
      );
      for (const vault of ['mi', 'wi'])
        await kubectlApply(
          lockedOut,
          certificate(`via-${vault}`, {
            integrationAccount: { name: 'vaults' },
            type: 'Private',
            certificate: { inline: privatePem },
            key: { vault, name: keyName },
          }),
        );
      for (const vault of ['mi', 'wi']) {
        const c = await waitForCondition(
          admin,
          lockedOut,
          `via-${vault}`,
          'Ready',
          'False',
          'IdentityNotAllowed',
          60_000,
        );
        expect(condition(c, 'Stalled')?.status).toBe('True');
        expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(/no token was requested/);
      }
      const store = await waitForAccount(
        admin,
        lockedOut,
        'store',
        'False',
        'IdentityNotAllowed',
        60_000,
      );
      expect(condition(store, 'Ready')?.message).toMatch(/serviceAccountName/);
      const vaults = await eventually(async () => {
        const a = await getAccount(admin, lockedOut, 'vaults');
        return a.status?.keyVaults?.length === 2 ? a : undefined;
      }, 'status.keyVaults of the locked-out account');
      expect(vaults.status?.keyVaults?.map((v) => [v.name, v.reachable, v.reason])).toEqual([
        ['mi', false, 'IdentityNotAllowed'],
        ['wi', false, 'IdentityNotAllowed'],
      ]);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(lockdownImds.connections).toBe(0);
      expect(lockdownEntra.connections).toBe(0);
      expect(arm.calls.filter((c) => c.path.toLowerCase().includes('/operators-ia'))).toEqual([]);
    });

    it('renews the ServiceAccount token without a restart when the one it holds has expired', async () => {
      await waitForCondition(admin, teamA, 'signing', 'Ready', 'True', 'Ready', 60_000);
      const pid = teamOperator.child.pid;
      // From now on Entra ID finds every token issued before as past its validity.
      const cutoff = new Date(Date.now() + 1_000);
      await new Promise((r) => setTimeout(r, 1_100));
      entra.federation!.notBefore = cutoff;
      const renewed = await eventually(
        () =>
          Promise.resolve(
            entra.exchanges.find(
              (e) =>
                e.accepted &&
                e.clientId === TEAM_A_CLIENT &&
                (e.issuedAt ?? 0) * 1000 >= cutoff.getTime(),
            ),
          ),
        'an exchange with a token issued after the cutoff',
        60_000,
      );
      expect(renewed.subject).toBe(`system:serviceaccount:${teamA}:team-a-b2b`);
      const verified = await eventually(
        async () => {
          const c = await getCertificate(admin, teamA, 'signing');
          const at = Date.parse(c?.status?.key?.lastVerifiedTime ?? '');
          return condition(c, 'Ready')?.status === 'True' && at > cutoff.getTime() ? c : undefined;
        },
        'the key verified again after the cutoff',
        60_000,
      );
      expect(verified.status?.key?.grants).toEqual(['list', 'get', 'decrypt', 'sign']);
      expect(teamOperator.child.pid).toBe(pid);
      expect(teamOperator.child.exitCode).toBeNull();
    });

    it('a ServiceAccount that names no identity is ServiceAccountNotAnnotated, and no token is requested for it', async () => {
      await kubectlApply(teamA, serviceAccount('plain'));
      await kubectlApply(
        teamA,
        account('plain', {
          keyVaults: [{ name: 'main', azure: { vaultUrl: vaultUrl!, auth: bySa('plain') } }],
        }),
      );
      await kubectlApply(
        teamA,
        certificate('plain-key', {
          integrationAccount: { name: 'plain' },
          type: 'Private',
          certificate: { inline: privatePem },
          key: { vault: 'main', name: keyName },
        }),
      );
      const c = await waitForCondition(
        admin,
        teamA,
        'plain-key',
        'Ready',
        'False',
        'ServiceAccountNotAnnotated',
        60_000,
      );
      expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(
        /annotate it with azure\.workload\.identity\/client-id .*azure\.workload\.identity\/tenant-id/,
      );
      const a = await eventually(async () => {
        const got = await getAccount(admin, teamA, 'plain');
        return got.status?.keyVaults?.length ? got : undefined;
      }, 'status.keyVaults of account plain');
      expect(a.status?.keyVaults?.[0]).toMatchObject({
        reachable: false,
        reason: 'ServiceAccountNotAnnotated',
      });
      expect(
        entra.exchanges.some((e) => e.subject === `system:serviceaccount:${teamA}:plain`),
      ).toBe(false);
    });

    it('keeps the last good store entry when the ServiceAccount is deleted, and says why', async () => {
      const accountId = arm.addAccount(SUB, RG, 'team-a-gone-ia', 'Standard');
      await kubectlApply(teamA, serviceAccount('gone', TEAM_A_CLIENT));
      await kubectlApply(
        teamA,
        account('gone', {
          store: {
            azure: {
              subscriptionId: SUB,
              resourceGroup: RG,
              name: 'team-a-gone-ia',
              auth: bySa('gone'),
            },
          },
        }),
      );
      await kubectlApply(
        teamA,
        certificate('gone-partner', {
          integrationAccount: { name: 'gone' },
          deletionPolicy: 'Delete',
          certificate: { inline: publicPem },
        }),
      );
      await waitForCondition(admin, teamA, 'gone-partner', 'Ready', 'True', 'Ready', 90_000);
      const entry = arm.certificate(accountId, 'gone-partner');
      expect(entry).toBeDefined();
      const before = arm.writes().length;

      const deleted = await kubectl(['delete', 'serviceaccount', 'gone', '-n', teamA]);
      expect(deleted.code, deleted.stderr).toBe(0);
      const gone = await waitForAccount(
        admin,
        teamA,
        'gone',
        'False',
        'ServiceAccountNotFound',
        60_000,
      );
      expect(condition(gone, 'Ready')?.message).toMatch(
        new RegExp(`ServiceAccount gone was not found in namespace ${teamA}`),
      );
      const c = await eventually(
        async () => {
          const got = await getCertificate(admin, teamA, 'gone-partner');
          return condition(got, 'Ready')?.status === 'False' ? got : undefined;
        },
        'the certificate to say why',
        60_000,
      );
      expect(condition(c, 'Ready')?.message).toMatch(/ServiceAccount gone was not found/);
      // The entry stays as it was: nothing written or deleted in Azure since.
      expect(arm.certificate(accountId, 'gone-partner')).toEqual(entry);
      expect(arm.writes().slice(before)).toEqual([]);
      expect(c.status?.store?.ref?.toLowerCase()).toContain(
        '/team-a-gone-ia/certificates/gone-partner',
      );
    });

    it('shows no ServiceAccount token, assertion or access token in logs, events or status', async () => {
      const tokens = [
        ...entra.requests.map((r) => r.form.client_assertion).filter((t): t is string => !!t),
        ...entra.requests.map((r) => r.accessToken),
      ];
      expect(tokens.length).toBeGreaterThan(2);
      const readable: [string, string][] = [
        ['the team operator’s logs', teamOperator.output()],
        ['the lockdown operator’s logs', lockdownOperator.output()],
      ];
      for (const namespace of [teamA, lockedOut])
        for (const path of [
          `/api/v1/namespaces/${namespace}/events`,
          `/apis/${API}/namespaces/${namespace}/certificates`,
          `/apis/${API}/namespaces/${namespace}/integrationaccounts`,
        ]) {
          const list = await admin.list<{ items: (Certificate | IntegrationAccount)[] }>(path);
          readable.push([path, JSON.stringify(list.items)]);
        }
      for (const [where, text] of readable) {
        expect(text.length, where).toBeGreaterThan(0);
        for (const token of tokens) expect(text.includes(token), `a token in ${where}`).toBe(false);
        expect(JWT.test(text), `something shaped like a JWT in ${where}`).toBe(false);
      }
      expect(teamOperator.output()).toMatch(/"msg":"operator starting"/);
    });
  },
);
