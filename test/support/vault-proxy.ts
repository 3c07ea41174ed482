// A fault-injecting HTTPS proxy in front of the real Key Vault emulator: TLS is terminated with
// its own test CA (trusted by the operator process through NODE_EXTRA_CA_CERTS) and opened
// again to the emulator, verified with the emulator's certificate. Requests pass through
// unchanged unless a fault says otherwise; the faults answer with the bodies Azure Key Vault
// really returns, which the emulator cannot (it has no permissions, no throttling).
import { readFileSync } from 'node:fs';
import { request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { operationOf } from '../../src/vaults/azure/client.ts';
import { listenHttps, testCa } from './test-ca.ts';
import { addVaultAlias } from './vault.ts';

export type Fault =
  | { answer: number; body?: unknown; headers?: Record<string, string> }
  | { reset: true }
  | { delayMs: number };

export interface SeenRequest {
  method: string;
  path: string;
  operation: string;
  status: number | 'reset' | 'pending';
  /** Sent with a token: a 401 to a request without one is Key Vault's challenge. */
  authorized: boolean;
  at: number;
}

/** Key Vault's own error answers (shapes as Azure returns them). */
export const KeyVaultErrors = {
  forbidden(
    inner: 'ForbiddenByRbac' | 'AccessDenied' | 'ForbiddenByPolicy' | 'ForbiddenByFirewall',
    operation: string,
  ): Fault {
    const messages = {
      ForbiddenByRbac: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=00000000-0000-0000-0000-000000000001;oid=00000000-0000-0000-0000-000000000002;iss=https://sts.windows.net/00000000-0000-0000-0000-000000000000/\r\nAction: 'Microsoft.KeyVault/vaults/keys/${operation}/action'\r\nResource: '/subscriptions/0/resourcegroups/rg/providers/microsoft.keyvault/vaults/contoso-kv/keys/k'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: contoso-kv;location=westeurope\r\n`,
      AccessDenied: `The user, group or application 'appid=00000000-0000-0000-0000-000000000001;oid=00000000-0000-0000-0000-000000000002;iss=https://sts.windows.net/00000000-0000-0000-0000-000000000000/' does not have keys ${operation} permission on key vault 'contoso-kv;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
      ForbiddenByPolicy: `Operation ${operation} is not allowed by the policy assigned to key vault 'contoso-kv'.`,
      ForbiddenByFirewall: `Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.7\r\nCaller: appid=00000000-0000-0000-0000-000000000001;oid=00000000-0000-0000-0000-000000000002\r\nVault: contoso-kv;location=westeurope`,
    };
    return {
      answer: 403,
      body: { error: { code: 'Forbidden', message: messages[inner], innererror: { code: inner } } },
    };
  },
  invalidToken(): Fault {
    return {
      answer: 401,
      headers: {
        'www-authenticate':
          'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
      },
      body: {
        error: {
          code: 'Unauthorized',
          message:
            'AKV10032: Invalid issuer. Expected one of https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/, found https://sts.windows.net/00000000-0000-0000-0000-000000000000/.',
        },
      },
    };
  },
  throttled(retryAfterSeconds: number): Fault {
    return {
      answer: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: {
        error: {
          code: 'Throttled',
          message:
            'Request was not processed because too many requests were received. Reason: A generic throttling reason',
        },
      },
    };
  },
  serverError(): Fault {
    return {
      answer: 500,
      body: { error: { code: 'InternalServerError', message: 'An unexpected error occurred.' } },
    };
  },
  unavailable(): Fault {
    return {
      answer: 503,
      body: { error: { code: 'ServiceUnavailable', message: 'The service is unavailable.' } },
    };
  },
};

export class VaultFaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;
  private readonly upstreamCa: Buffer;
  private readonly upstreamUrl: string;
  private readonly upstreamCaFile: string;
  private readonly tls = testCa('vault-proxy');
  /** Decides per request; undefined passes it through. */
  fault: (r: { operation: string; method: string; path: string }) => Fault | undefined = () =>
    undefined;
  /** Rewrites an upstream answer's body (e.g. a key id on another host). */
  rewrite: ((operation: string, body: string) => string) | undefined;
  readonly requests: SeenRequest[] = [];
  url = '';

  constructor(upstreamUrl: string, upstreamCaFile: string) {
    this.upstream = new URL(upstreamUrl);
    this.upstreamUrl = upstreamUrl;
    this.upstreamCaFile = upstreamCaFile;
    this.upstreamCa = readFileSync(upstreamCaFile);
  }

  /** This proxy's CA, for NODE_EXTRA_CA_CERTS of the operator process. */
  get caFile(): string {
    return this.tls.caFile;
  }

  async start(): Promise<string> {
    const { server, port } = await listenHttps(
      this.tls,
      (req, res) => void this.handle(req, res),
      this.sockets,
    );
    this.server = server;
    this.url = `https://localhost:${port}`;
    await addVaultAlias(this.url, this.upstreamUrl, this.upstreamCaFile);
    return this.url;
  }

  count(operation?: string): number {
    return this.requests.filter((r) => operation === undefined || r.operation === operation).length;
  }

  /** What b2b_keyvault_requests_total counts: every request but Key Vault's 401 challenge. */
  countedByOperator(): number {
    return this.requests.filter((r) => !(r.status === 401 && !r.authorized)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const operation = operationOf(req.method ?? 'GET', `https://x${path}`);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path,
      operation,
      status: 'pending',
      authorized: req.headers.authorization !== undefined,
      at: Date.now(),
    };
    this.requests.push(seen);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const fault = this.fault({ operation, method: seen.method, path });
    if (fault && 'reset' in fault) {
      seen.status = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault && 'answer' in fault) {
      seen.status = fault.answer;
      res.writeHead(fault.answer, {
        'content-type': 'application/json; charset=utf-8',
        ...fault.headers,
      });
      res.end(fault.body === undefined ? '' : JSON.stringify(fault.body));
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (req.socket.destroyed) return;
    const upstream = request(
      {
        host: '127.0.0.1',
        port: this.upstream.port,
        servername: 'localhost',
        ca: this.upstreamCa,
        method: req.method,
        path,
        headers: req.headers, // Host stays this proxy's address: the emulator knows it as an alias
      },
      (answer) => {
        const body: Buffer[] = [];
        answer.on('data', (c: Buffer) => body.push(c));
        answer.on('end', () => {
          let text = Buffer.concat(body).toString('utf8');
          if (this.rewrite) text = this.rewrite(operation, text);
          seen.status = answer.statusCode ?? 502;
          const headers = { ...answer.headers };
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          if (!res.destroyed) {
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(text);
          }
        });
      },
    );
    upstream.on('error', () => {
      seen.status = 'reset';
      req.socket.destroy();
    });
    upstream.end(Buffer.concat(chunks));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
