// A stateful Azure Resource Manager test server for the azure store: HTTPS on loopback with
// its own test CA (trusted through NODE_EXTRA_CA_CERTS, never by turning verification off),
// a managed-identity token endpoint, and the few ARM and Microsoft Graph operations the store
// uses. Request bodies are validated strictly with the SDKs' own generated mappers; answers
// are shaped like the examples of Azure/azure-rest-api-specs (Microsoft.Logic 2019-05-01), with
// ARM's status codes, error bodies, x-ms-request-id and Retry-After. There is no ARM emulator:
// what this server cannot show is listed in the README ("The azure store").
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MapperValidator } from './arm-mappers.ts';
import { testCa } from './test-ca.ts';

export const LOGIC_APPS_APP_ID = '7cd684f4-8a78-49b0-91ec-6a35d38739ba';
export const OPERATOR_OBJECT_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const LOGIC_API = '2019-05-01';
const AUTHORIZATION_API = '2022-04-01';
const KEYVAULT_API = '2026-02-01';

export interface ArmCall {
  method: string;
  path: string;
  apiVersion: string | undefined;
  status: number;
  /** A PUT's request body as sent (to prove what a write carried). */
  body?: unknown;
}

export interface Fault {
  /** Matches the request (method and path); every request when absent. */
  match?: (method: string, path: string) => boolean;
  status: number;
  retryAfterSeconds?: number;
  /** How many requests it answers; then it is gone. */
  times: number;
}

export interface TestVault {
  id: string;
  tenantId: string;
  vaultUri: string;
  enableRbacAuthorization: boolean;
  accessPolicies: { tenantId: string; objectId: string; permissions: { keys: string[] } }[];
  /** Key names the integration account's listKeyVaultKeys returns. */
  listedKeys: string[];
}

export interface RoleDefinition {
  id: string;
  roleName: string;
  permissions: {
    actions: string[];
    notActions: string[];
    dataActions: string[];
    notDataActions: string[];
  }[];
}

export interface RoleAssignment {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

const lower = (s: string) => s.toLowerCase();

const parseOrText = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** ARM answers child IDs with other casing than sent (seen in the spec's own examples). */
const armCasing = (id: string) =>
  id
    .replace(/\/resourceGroups\//i, '/resourcegroups/')
    .replace(/\/providers\/Microsoft\.KeyVault\//i, '/providers/microsoft.keyvault/');

export class ArmTestServer {
  /** https://127.0.0.1:<port>: ARM and Microsoft Graph. */
  url = '';
  /** http://127.0.0.1:<port>: the managed-identity (IMDS) token endpoint. */
  tokenAuthority = '';
  /** PEM of the test CA; append to NODE_EXTRA_CA_CERTS. */
  caFile = '';

  readonly accounts = new Map<
    string,
    { id: string; name: string; location: string; sku: string }
  >();
  readonly certificates = new Map<string, Record<string, unknown>>();
  readonly vaults = new Map<string, TestVault>();
  readonly roleDefinitions = new Map<string, RoleDefinition>();
  roleAssignments: RoleAssignment[] = [];
  /** Subscription ID -> the names of its management groups, nearest first (ARM's ancestry). */
  readonly managementGroups = new Map<string, string[]>();
  /** Microsoft Graph: appId -> object ID. */
  readonly servicePrincipals = new Map<string, string>([[LOGIC_APPS_APP_ID, randomUUID()]]);
  /** Actions the operator's identity may not perform (ARM answers 403 AuthorizationFailed). */
  readonly denied = new Set<string>();
  /** Graph denies the servicePrincipals lookup (Authorization_RequestDenied). */
  graphDenied = false;
  faults: Fault[] = [];
  /** Connections are reset: ARM unreachable. */
  down = false;
  readonly calls: ArmCall[] = [];
  readonly issuedTokens = new Set<string>();
  /** Bearer tokens the server saw (to prove none of them reaches a log). */
  readonly seenTokens = new Set<string>();
  /** Also accept tokens of another token endpoint (the Key Vault emulator's, when the operator
   * uses that one: one managed-identity endpoint per process). */
  acceptForeignTokens = false;
  /** The most ARM requests in flight at once. */
  peakInFlight = 0;
  private inFlight = 0;
  /** Request bodies that failed validation against the SDK mappers (the test fails on any). */
  readonly invalidBodies: string[] = [];
  /** listKeyVaultKeys answers this many keys per page (paging with skipToken). */
  keysPageSize = 1;
  /** Listing an account's certificates answers this many per page (paging with nextLink). */
  certificatesPageSize = 2;
  /** Agreements by lower-cased ARM ID (Microsoft.Logic/integrationAccounts/agreements). */
  readonly agreements = new Map<string, Record<string, unknown>>();
  /** Listing an account's agreements answers this many per page (paging with nextLink). */
  agreementsPageSize = 2;

  private readonly logic = new MapperValidator('logic');
  private readonly authorization = new MapperValidator('authorization');
  private readonly dir = mkdtempSync(join(tmpdir(), 'arm-test-'));
  private readonly sockets = new Set<Socket>();
  private readonly servers: NetServer[] = [];

  async start(): Promise<this> {
    const tls = testCa('arm');
    this.caFile = tls.caFile;
    const arm = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
      res.on('close', () => this.inFlight--);
      this.handle(req, res).catch((err: unknown) => {
        this.invalidBodies.push(String(err));
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const imds = createHttpServer((req, res) => this.token(req, res));
    for (const s of [arm, imds]) {
      s.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
      this.servers.push(s);
    }
    arm.on('secureConnection', (socket: Socket) => {
      if (this.down) socket.destroy();
    });
    const listen = (s: NetServer) =>
      new Promise<number>((resolve) =>
        s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
      );
    this.url = `https://127.0.0.1:${await listen(arm)}`;
    this.tokenAuthority = `http://127.0.0.1:${await listen(imds)}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A CA bundle of this server's CA and `others` (e.g. the Key Vault emulator's). */
  caBundle(...others: (string | undefined)[]): string {
    const file = join(this.dir, 'bundle.pem');
    writeFileSync(
      file,
      [this.caFile, ...others.filter((f): f is string => !!f)]
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n'),
    );
    return file;
  }

  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const s of this.sockets) s.destroy();
  }

  addAccount(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    sku: string,
    location = 'westeurope',
  ): string {
    const id = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Logic/integrationAccounts/${name}`;
    this.accounts.set(lower(id), { id, name, location, sku });
    return id;
  }

  addVault(vault: TestVault): void {
    this.vaults.set(lower(vault.id), vault);
  }

  certificate(accountId: string, name: string): Record<string, unknown> | undefined {
    return this.certificates.get(lower(`${accountId}/certificates/${name}`));
  }

  /** Puts a certificate as someone else would (the portal, Terraform): no validation. */
  putForeign(accountId: string, name: string, body: Record<string, unknown>): void {
    const id = `${accountId}/certificates/${name}`;
    this.certificates.set(lower(id), {
      ...body,
      id,
      name,
      type: 'Microsoft.Logic/integrationAccounts/certificates',
    });
  }

  /**
   * Puts an agreement as the portal or Terraform would: the body is validated with the SDK's
   * mappers like any PUT (a test planting a malformed agreement fails).
   */
  putAgreement(accountId: string, name: string, body: Record<string, unknown>): void {
    const errors = this.logic.validate('IntegrationAccountAgreement', body, { request: true });
    if (errors.length) {
      this.invalidBodies.push(...errors);
      throw new Error(`agreement ${name}: ${errors.join('; ')}`);
    }
    this.storeAgreement(`${accountId}/agreements/${name}`, name, body, undefined);
  }

  deleteAgreement(accountId: string, name: string): void {
    this.agreements.delete(lower(`${accountId}/agreements/${name}`));
  }

  /**
   * An AS2 agreement's body: each direction names the certificates it signs and encrypts with
   * (protocolSettings.securitySettings), the rest is the smallest body ARM takes.
   */
  as2Agreement(certificates: {
    send?: { signing?: string; encryption?: string };
    receive?: { signing?: string; encryption?: string };
  }): Record<string, unknown> {
    const direction = (names: { signing?: string; encryption?: string } | undefined) => {
      const oneWay = this.logic.sample('AS2OneWayAgreement');
      const protocol = oneWay.protocolSettings as Record<string, Record<string, unknown>>;
      protocol.securitySettings = {
        ...protocol.securitySettings,
        ...(names?.signing ? { signingCertificateName: names.signing } : {}),
        ...(names?.encryption ? { encryptionCertificateName: names.encryption } : {}),
      };
      return oneWay;
    };
    return this.agreementBody('AS2', {
      aS2: {
        receiveAgreement: direction(certificates.receive),
        sendAgreement: direction(certificates.send),
      },
    });
  }

  /** An X12 or EDIFACT agreement: these name no certificates. */
  ediAgreement(type: 'X12' | 'Edifact'): Record<string, unknown> {
    const model = type === 'X12' ? 'X12OneWayAgreement' : 'EdifactOneWayAgreement';
    return this.agreementBody(type, {
      [type === 'X12' ? 'x12' : 'edifact']: {
        receiveAgreement: this.logic.sample(model),
        sendAgreement: this.logic.sample(model),
      },
    });
  }

  private agreementBody(type: string, content: Record<string, unknown>): Record<string, unknown> {
    return {
      properties: {
        agreementType: type,
        hostPartner: 'Contoso',
        guestPartner: 'Fabrikam',
        hostIdentity: { qualifier: 'ZZ', value: 'CONTOSO' },
        guestIdentity: { qualifier: 'ZZ', value: 'FABRIKAM' },
        content,
      },
    };
  }

  private storeAgreement(
    id: string,
    name: string,
    body: Record<string, unknown>,
    current: Record<string, unknown> | undefined,
  ): Record<string, unknown> {
    const now = new Date().toISOString();
    const stored = {
      ...body,
      properties: {
        ...(body.properties as Record<string, unknown>),
        createdTime:
          (current?.properties as { createdTime?: string } | undefined)?.createdTime ?? now,
        changedTime: now,
      },
      id,
      name,
      type: 'Microsoft.Logic/integrationAccounts/agreements',
    };
    this.agreements.set(lower(id), stored);
    return stored;
  }

  writes(): ArmCall[] {
    return this.calls.filter((c) => c.method === 'PUT' || c.method === 'DELETE');
  }

  // --- the managed-identity token endpoint (IMDS shape) ---
  private token(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (
      url.pathname.replace(/\/$/, '') !== '/metadata/identity/oauth2/token' ||
      req.headers.metadata !== 'true'
    ) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
      return;
    }
    const token = `armtest-${randomBytes(16).toString('hex')}`;
    this.issuedTokens.add(token);
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        access_token: token,
        expires_in: '3600',
        expires_on: String(expiresOn),
        ext_expires_in: '3600',
        not_before: String(expiresOn - 3600),
        resource: url.searchParams.get('resource') ?? '',
        token_type: 'Bearer',
      }),
    );
  }

  // --- ARM and Graph ---
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname);
    const apiVersion = url.searchParams.get('api-version') ?? undefined;
    const requestId = randomUUID();
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({
        method,
        path,
        apiVersion,
        status,
        ...(method === 'PUT' && text ? { body: parseOrText(text) } : {}),
      });
      res.writeHead(status, {
        'x-ms-request-id': requestId,
        'x-ms-correlation-request-id': randomUUID(),
        ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...headers,
      });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (
      status: number,
      code: string,
      message: string,
      headers?: Record<string, string>,
    ) => send(status, { error: { code, message } }, headers);

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) this.seenTokens.add(bearer);
    if (!bearer || (!this.issuedTokens.has(bearer) && !this.acceptForeignTokens))
      return error(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        'www-authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
      });
    const fault = this.faults.find((f) => f.times > 0 && (!f.match || f.match(method, path)));
    if (fault) {
      fault.times--;
      if (fault.status === 429)
        return error(
          429,
          'TooManyRequests',
          'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.',
          {
            'retry-after': String(fault.retryAfterSeconds ?? 1),
          },
        );
      return error(
        fault.status,
        'InternalServerError',
        'Encountered internal server error. Diagnostic information: timestamp, request id and correlation id.',
      );
    }
    const deny = (action: string, scope: string) =>
      error(
        403,
        'AuthorizationFailed',
        `The client '${OPERATOR_OBJECT_ID}' with object id '${OPERATOR_OBJECT_ID}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );

    // Microsoft Graph: the Logic Apps service principal's object ID.
    const sp = /^\/v1\.0\/servicePrincipals\(appId='([^']+)'\)$/.exec(path);
    if (sp) {
      if (this.graphDenied)
        return error(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      const id = this.servicePrincipals.get(sp[1]!);
      if (!id)
        return error(
          404,
          'Request_ResourceNotFound',
          `Resource '${sp[1]!}' does not exist or one of its queried reference-property objects are not present.`,
        );
      return send(200, {
        '@odata.context': `${this.url}/v1.0/$metadata#servicePrincipals(id)/$entity`,
        id,
      });
    }

    const account =
      /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Logic\/integrationAccounts\/[^/]+)(.*)$/i.exec(
        path,
      );
    if (account) {
      if (apiVersion !== LOGIC_API)
        return error(
          400,
          'InvalidApiVersionParameter',
          `The api-version '${apiVersion ?? ''}' is invalid. The supported versions are '${LOGIC_API}'.`,
        );
      const accountId = account[1]!;
      const rest = account[2]!;
      const found = this.accounts.get(lower(accountId));
      const rg = /resourceGroups\/([^/]+)/i.exec(accountId)![1]!;
      const notFound = () =>
        error(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.Logic/integrationAccounts/${accountId.split('/').pop()!}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      if (rest === '' && method === 'GET') {
        if (this.denied.has('Microsoft.Logic/integrationAccounts/read'))
          return deny('Microsoft.Logic/integrationAccounts/read', accountId);
        if (!found) return notFound();
        return this.respond(send, 200, 'IntegrationAccount', this.logic, {
          properties: { state: 'Enabled' },
          sku: { name: found.sku },
          id: found.id,
          name: found.name,
          type: 'Microsoft.Logic/integrationAccounts',
          location: found.location,
        });
      }
      if (rest === '/listKeyVaultKeys' && method === 'POST') {
        if (this.denied.has('Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action'))
          return deny('Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action', accountId);
        if (!found) return notFound();
        const body = this.parse(text, 'ListKeyVaultKeysDefinition', this.logic);
        if (!body)
          return error(
            400,
            'InvalidRequestContent',
            'The request content was invalid and could not be deserialized.',
          );
        const vault = this.vaults.get(
          lower((body.keyVault as { id: string }).id.replace(/^\/?/, '/')),
        );
        if (!vault)
          return error(
            400,
            'KeyVaultNotFound',
            `The key vault '${(body.keyVault as { id: string }).id}' could not be found.`,
          );
        const start = Number(body.skipToken ?? 0);
        const page = vault.listedKeys.slice(start, start + this.keysPageSize);
        const next =
          start + this.keysPageSize < vault.listedKeys.length
            ? String(start + this.keysPageSize)
            : undefined;
        return this.respond(send, 200, 'KeyVaultKeyCollection', this.logic, {
          value: page.map((k) => ({
            kid: `${vault.vaultUri.replace(/\/$/, '')}/keys/${k}`,
            attributes: { enabled: true, created: 1498072075, updated: 1498072075 },
          })),
          ...(next ? { skipToken: next } : {}),
        });
      }
      if (rest === '/certificates' && method === 'GET') {
        if (this.denied.has('Microsoft.Logic/integrationAccounts/certificates/read'))
          return deny('Microsoft.Logic/integrationAccounts/certificates/read', accountId);
        if (!found) return notFound();
        const prefix = lower(`${found.id}/certificates/`);
        const all = [...this.certificates.entries()]
          .filter(([id]) => id.startsWith(prefix))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([, c]) => c);
        const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
        const next = skip + this.certificatesPageSize;
        return this.respond(send, 200, 'IntegrationAccountCertificateListResult', this.logic, {
          value: all.slice(skip, next),
          ...(next < all.length
            ? {
                nextLink: `${this.url}${found.id}/certificates?api-version=${LOGIC_API}&$skiptoken=${next}`,
              }
            : {}),
        });
      }
      if (rest === '/agreements' && method === 'GET') {
        if (this.denied.has('Microsoft.Logic/integrationAccounts/agreements/read'))
          return deny('Microsoft.Logic/integrationAccounts/agreements/read', accountId);
        if (!found) return notFound();
        const prefix = lower(`${found.id}/agreements/`);
        const all = [...this.agreements.entries()]
          .filter(([id]) => id.startsWith(prefix))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([, a]) => a);
        const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
        const next = skip + this.agreementsPageSize;
        return this.respond(send, 200, 'IntegrationAccountAgreementListResult', this.logic, {
          value: all.slice(skip, next),
          ...(next < all.length
            ? {
                nextLink: `${this.url}${found.id}/agreements?api-version=${LOGIC_API}&$skiptoken=${next}`,
              }
            : {}),
        });
      }
      const agreement = /^\/agreements\/([^/]+)$/.exec(rest);
      if (agreement) {
        const agreementName = agreement[1]!;
        const id = `${found?.id ?? accountId}/agreements/${agreementName}`;
        const action = { GET: 'read', PUT: 'write', DELETE: 'delete' }[method];
        if (!action)
          return error(
            405,
            'MethodNotAllowed',
            `The requested resource does not support http method '${method}'.`,
          );
        if (this.denied.has(`Microsoft.Logic/integrationAccounts/agreements/${action}`))
          return deny(`Microsoft.Logic/integrationAccounts/agreements/${action}`, id);
        if (!found) return notFound();
        const current = this.agreements.get(lower(id));
        if (method === 'GET') {
          if (!current)
            return error(
              404,
              'IntegrationAccountAgreementNotFound',
              `The integration account agreement '${agreementName}' could not be found.`,
            );
          return this.respond(send, 200, 'IntegrationAccountAgreement', this.logic, current);
        }
        if (method === 'DELETE') {
          if (!current) return send(204);
          this.agreements.delete(lower(id));
          return send(200);
        }
        const body = this.parse(text, 'IntegrationAccountAgreement', this.logic);
        if (!body)
          return error(
            400,
            'InvalidRequestContent',
            'The request content was invalid and could not be deserialized.',
          );
        const stored = this.storeAgreement(id, agreementName, body, current);
        return this.respond(
          send,
          current ? 200 : 201,
          'IntegrationAccountAgreement',
          this.logic,
          stored,
        );
      }
      const cert = /^\/certificates\/([^/]+)$/.exec(rest);
      if (cert) {
        const id = `${found?.id ?? accountId}/certificates/${cert[1]!}`;
        const action = { GET: 'read', PUT: 'write', DELETE: 'delete' }[method];
        if (!action)
          return error(
            405,
            'MethodNotAllowed',
            `The requested resource does not support http method '${method}'.`,
          );
        if (this.denied.has(`Microsoft.Logic/integrationAccounts/certificates/${action}`))
          return deny(`Microsoft.Logic/integrationAccounts/certificates/${action}`, id);
        if (!found) return notFound();
        const current = this.certificates.get(lower(id));
        if (method === 'GET') {
          if (!current)
            return error(
              404,
              'IntegrationAccountCertificateNotFound',
              `The integration account certificate '${cert[1]!}' could not be found.`,
            );
          return this.respond(send, 200, 'IntegrationAccountCertificate', this.logic, current);
        }
        if (method === 'DELETE') {
          if (!current) return send(204);
          this.certificates.delete(lower(id));
          return send(200);
        }
        const body = this.parse(text, 'IntegrationAccountCertificate', this.logic);
        if (!body)
          return error(
            400,
            'InvalidRequestContent',
            'The request content was invalid and could not be deserialized.',
          );
        const properties = (body.properties ?? {}) as Record<string, unknown>;
        const key = properties.key as
          { keyVault: { id: string }; keyName: string; keyVersion?: string } | undefined;
        const now = new Date().toISOString();
        const stored = {
          properties: {
            ...properties,
            ...(key
              ? {
                  key: {
                    ...key,
                    keyVault: {
                      id: armCasing(key.keyVault.id),
                      name: key.keyVault.id.split('/').pop(),
                      type: 'Microsoft.KeyVault/vaults',
                    },
                  },
                }
              : {}),
            createdTime:
              (current?.properties as { createdTime?: string } | undefined)?.createdTime ?? now,
            changedTime: now,
          },
          id,
          name: cert[1]!,
          type: 'Microsoft.Logic/integrationAccounts/certificates',
        };
        this.certificates.set(lower(id), stored);
        return this.respond(
          send,
          current ? 200 : 201,
          'IntegrationAccountCertificate',
          this.logic,
          stored,
        );
      }
      return error(404, 'NotFound', `No route for ${method} ${path}`);
    }

    const scopeOf = (p: string, suffix: RegExp) => p.replace(suffix, '');
    if (/\/providers\/Microsoft\.Authorization\/roleAssignments$/i.test(path) && method === 'GET') {
      if (apiVersion !== AUTHORIZATION_API)
        return error(
          400,
          'InvalidApiVersionParameter',
          `unsupported api-version ${apiVersion ?? ''}`,
        );
      const scope = scopeOf(path, /\/providers\/Microsoft\.Authorization\/roleAssignments$/i);
      if (this.denied.has('Microsoft.Authorization/roleAssignments/read'))
        return deny('Microsoft.Authorization/roleAssignments/read', scope);
      const principal = /assignedTo\('([^']+)'\)/.exec(url.searchParams.get('$filter') ?? '')?.[1];
      // ARM's list at a scope: assignments at, above and below it; above includes the
      // management groups the scope's subscription sits in, and the root scope.
      const related = this.roleAssignments.filter(
        (a) =>
          (!principal || a.principalId === principal) &&
          (lower(scope).startsWith(lower(a.scope)) ||
            lower(a.scope).startsWith(lower(scope)) ||
            this.managementGroupAbove(a.scope, scope)),
      );
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const page = related.slice(skip, skip + 1);
      const next =
        skip + 1 < related.length
          ? `${this.url}${path}?api-version=${AUTHORIZATION_API}&$filter=${encodeURIComponent(url.searchParams.get('$filter') ?? '')}&$skiptoken=${skip + 1}`
          : undefined;
      return this.respond(send, 200, 'RoleAssignmentListResult', this.authorization, {
        value: page.map((a) => ({
          properties: {
            roleDefinitionId: a.roleDefinitionId,
            principalId: a.principalId,
            principalType: 'ServicePrincipal',
            scope: a.scope,
            createdOn: '2026-01-01T00:00:00Z',
            updatedOn: '2026-01-01T00:00:00Z',
            createdBy: null,
            updatedBy: OPERATOR_OBJECT_ID,
            condition: null,
            conditionVersion: null,
            description: null,
          },
          id: a.id,
          type: 'Microsoft.Authorization/roleAssignments',
          name: a.id.split('/').pop(),
        })),
        ...(next ? { nextLink: next } : {}),
      });
    }
    if (
      /\/providers\/Microsoft\.Authorization\/roleDefinitions\/[^/]+$/i.test(path) &&
      method === 'GET'
    ) {
      if (apiVersion !== AUTHORIZATION_API)
        return error(
          400,
          'InvalidApiVersionParameter',
          `unsupported api-version ${apiVersion ?? ''}`,
        );
      if (this.denied.has('Microsoft.Authorization/roleDefinitions/read'))
        return deny('Microsoft.Authorization/roleDefinitions/read', path);
      const definition = [...this.roleDefinitions.values()].find((d) =>
        lower(d.id).endsWith(lower(path.split('/').pop()!)),
      );
      if (!definition)
        return error(
          404,
          'RoleDefinitionDoesNotExist',
          'The specified role definition with ID does not exist.',
        );
      return this.respond(send, 200, 'RoleDefinition', this.authorization, {
        properties: {
          roleName: definition.roleName,
          type: 'BuiltInRole',
          description: definition.roleName,
          assignableScopes: ['/'],
          permissions: definition.permissions,
          createdOn: '2020-01-01T00:00:00Z',
          updatedOn: '2026-01-01T00:00:00Z',
          createdBy: null,
          updatedBy: null,
        },
        id: definition.id,
        type: 'Microsoft.Authorization/roleDefinitions',
        name: definition.id.split('/').pop(),
      });
    }
    const vault =
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i.exec(
        path,
      );
    if (vault && method === 'GET') {
      if (apiVersion !== KEYVAULT_API)
        return error(
          400,
          'InvalidApiVersionParameter',
          `unsupported api-version ${apiVersion ?? ''}`,
        );
      if (this.denied.has('Microsoft.KeyVault/vaults/read'))
        return deny('Microsoft.KeyVault/vaults/read', path);
      const v = this.vaults.get(lower(path));
      if (!v)
        return error(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.KeyVault/vaults/${path.split('/').pop()!}' was not found.`,
        );
      return send(200, {
        id: v.id,
        name: v.id.split('/').pop(),
        type: 'Microsoft.KeyVault/vaults',
        location: 'westeurope',
        tags: {},
        properties: {
          sku: { family: 'A', name: 'standard' },
          tenantId: v.tenantId,
          accessPolicies: v.enableRbacAuthorization ? [] : v.accessPolicies,
          enabledForDeployment: false,
          enableRbacAuthorization: v.enableRbacAuthorization,
          vaultUri: v.vaultUri,
          provisioningState: 'Succeeded',
        },
      });
    }
    return error(404, 'NotFound', `No route for ${method} ${path}`);
  }

  /** Whether `assignmentScope` is a management group (or the root, `/`) above `scope`. */
  private managementGroupAbove(assignmentScope: string, scope: string): boolean {
    if (assignmentScope === '/') return true;
    const group = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i.exec(
      assignmentScope,
    )?.[1];
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    if (!group || !subscription) return false;
    return (this.managementGroups.get(lower(subscription)) ?? []).some(
      (g) => lower(g) === lower(group),
    );
  }

  private parse(
    text: string,
    model: string,
    validator: MapperValidator,
  ): Record<string, unknown> | undefined {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.invalidBodies.push(`${model}: not JSON`);
      return undefined;
    }
    const errors = validator.validate(model, body, { request: true });
    if (errors.length) {
      this.invalidBodies.push(...errors);
      return undefined;
    }
    return body as Record<string, unknown>;
  }

  /** Our own answers must match the SDK's models too, or the test server is wrong. */
  private respond(
    send: (status: number, body: unknown) => void,
    status: number,
    model: string,
    validator: MapperValidator,
    body: unknown,
  ): void {
    const errors = validator.validate(model, body, { request: false });
    if (errors.length)
      throw new Error(
        `the ARM test server's ${model} answer does not match the SDK model: ${errors.join('; ')}`,
      );
    send(status, body);
  }
}
