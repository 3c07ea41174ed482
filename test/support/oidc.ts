// A minimal Entra ID token endpoint for the credentials that need one (workload identity,
// service principal): HTTPS with its own test certificate (trust it through
// NODE_EXTRA_CA_CERTS), the OpenID metadata MSAL reads first, and a client-credentials token
// endpoint that records what it was sent. It lets the tests see which client id, tenant,
// secret or assertion the operator presented.
// With `federation` set it also judges client assertions as Entra ID does for workload
// identity federation: the JWT's signature against the issuer's keys (the test API server's
// /openid/v1/jwks), its issuer, audience api://AzureADTokenExchange and validity period, and
// a federated credential of the client ID whose subject matches; otherwise Entra's own errors
// (AADSTS70021 "No matching federated identity record found for presented assertion.", ...).
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenRequest {
  tenant: string;
  form: Record<string, string>;
  /** The access token answered. */
  accessToken: string;
}

export interface Federation {
  /** The issuer's signing keys (a JWKS, e.g. the API server's /openid/v1/jwks). */
  jwks: { keys: (JsonWebKey & { kid?: string })[] };
  /** The issuer every assertion must carry (the API server's service account issuer). */
  issuer: string;
  /** Federated credentials: client ID -> the subjects it trusts. */
  credentials: Map<string, string[]>;
  /** Assertions issued before this moment are past their validity (a simulated expiry). */
  notBefore?: Date;
}

/** A client assertion Entra ID accepted or refused, by its claims (never the token itself). */
export interface Exchange {
  clientId: string;
  subject: string | undefined;
  issuedAt: number | undefined;
  accepted: boolean;
  code?: string;
}

const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
}

export class OidcTokenEndpoint {
  readonly requests: TokenRequest[] = [];
  /** Set: client assertions are verified as Entra ID does (see the file's comment). */
  federation: Federation | undefined;
  readonly exchanges: Exchange[] = [];
  /** expires_in of the access tokens answered (MSAL renews one within 5 minutes of its end). */
  accessTokenLifetimeSeconds = 3600;
  /** Every HTTP request, path and method only. */
  readonly seen: string[] = [];
  connections = 0;
  /** PEM of the self-signed serving certificate (for NODE_EXTRA_CA_CERTS). */
  readonly certificatePem: string;
  private readonly server: Server;
  private port = 0;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=b2b test token endpoint',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'pipe' },
      );
      this.certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
      this.server = createServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: this.certificatePem },
        (req, res) => {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => {
            const url = new URL(req.url ?? '/', this.authorityHost);
            this.seen.push(`${req.method} ${url.pathname}`);
            const answer = this.answer(req.method ?? 'GET', url, body);
            res.writeHead(answer.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(answer.body));
          });
        },
      );
      this.server.on('secureConnection', () => this.connections++);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  get authorityHost(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.authorityHost;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(method: string, url: URL, body: string): { status: number; body: unknown } {
    const base = this.authorityHost;
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (method === 'GET' && discovery) {
      const tenant = discovery[1]!;
      return {
        status: 200,
        body: {
          issuer: `${base}/${tenant}/v2.0`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
          response_types_supported: ['code'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
        },
      };
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (method === 'POST' && token) {
      const form = Object.fromEntries(new URLSearchParams(body));
      if (this.federation && form.client_assertion !== undefined) {
        const refusal = this.judgeAssertion(this.federation, form);
        if (refusal) return refusal;
      }
      // An opaque bearer token: the emulator accepts any, and the tests look for it in logs.
      const accessToken = `test-access-token-${randomBytes(16).toString('hex')}`;
      this.requests.push({ tenant: token[1]!, form, accessToken });
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: this.accessTokenLifetimeSeconds,
          ext_expires_in: this.accessTokenLifetimeSeconds,
          access_token: accessToken,
        },
      };
    }
    return { status: 404, body: { error: 'not_found', error_description: url.pathname } };
  }

  /** Entra ID's checks of a federated client assertion; undefined when it is accepted. */
  private judgeAssertion(
    federation: Federation,
    form: Record<string, string>,
  ): { status: number; body: unknown } | undefined {
    const clientId = form.client_id ?? '';
    const refuse = (code: number, error: string, text: string, claims?: Claims) => {
      this.exchanges.push({
        clientId,
        subject: claims?.sub,
        issuedAt: claims?.iat,
        accepted: false,
        code: `AADSTS${code}`,
      });
      return { status: 400, body: entraError(code, error, text) };
    };
    if (form.client_assertion_type !== JWT_BEARER)
      return refuse(
        700025,
        'invalid_client',
        'Client is public so neither client_assertion nor client_secret should be presented.',
      );
    const parts = (form.client_assertion ?? '').split('.');
    let header: { kid?: string; alg?: string };
    let claims: Claims;
    try {
      header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString()) as Claims;
    } catch {
      return refuse(50027, 'invalid_request', 'JWT token is invalid or malformed.');
    }
    const jwk = federation.jwks.keys.find((k) => k.kid === header.kid);
    const signed =
      parts.length === 3 &&
      header.alg === 'RS256' &&
      jwk !== undefined &&
      verify(
        'RSA-SHA256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        createPublicKey({ key: jwk, format: 'jwk' }),
        Buffer.from(parts[2]!, 'base64url'),
      );
    if (!signed)
      return refuse(
        700027,
        'invalid_client',
        'Client assertion failed signature validation.',
        claims,
      );
    const now = Math.floor(Date.now() / 1000);
    const notBefore = federation.notBefore
      ? Math.floor(federation.notBefore.getTime() / 1000)
      : -Infinity;
    if (
      claims.exp === undefined ||
      claims.exp <= now ||
      (claims.nbf ?? 0) > now + 60 ||
      (claims.iat ?? 0) < notBefore
    )
      return refuse(
        700024,
        'invalid_client',
        `Client assertion is not within its valid time range. Current time: ${new Date().toISOString()}, expiry time of assertion ${new Date((claims.exp ?? 0) * 1000).toISOString()}.`,
        claims,
      );
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    const trusted = federation.credentials.get(clientId) ?? [];
    if (
      claims.iss !== federation.issuer ||
      !audiences.includes(FEDERATED_AUDIENCE) ||
      !trusted.includes(claims.sub ?? '')
    )
      return refuse(
        70021,
        'invalid_request',
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(',')}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation`,
        claims,
      );
    this.exchanges.push({ clientId, subject: claims.sub, issuedAt: claims.iat, accepted: true });
    return undefined;
  }
}

/** Entra ID's error body, with the trace and correlation IDs and time that change every time. */
function entraError(code: number, error: string, text: string) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}
