// A minimal Entra ID token endpoint for the credentials that need one (workload identity,
// service principal): HTTPS with its own test certificate (trust it through
// NODE_EXTRA_CA_CERTS), the OpenID metadata MSAL reads first, and a client-credentials token
// endpoint that records what it was sent. It is not what is under test: it lets the tests
// see which client id, tenant, secret or assertion the operator presented.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

export class OidcTokenEndpoint {
  readonly requests: TokenRequest[] = [];
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
      // An opaque bearer token: the emulator accepts any, and the tests look for it in logs.
      const accessToken = `test-access-token-${randomBytes(16).toString('hex')}`;
      this.requests.push({ tenant: token[1]!, form, accessToken });
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: 3600,
          ext_expires_in: 3600,
          access_token: accessToken,
        },
      };
    }
    return { status: 404, body: { error: 'not_found', error_description: url.pathname } };
  }
}
