// A fault-injecting TCP proxy in front of a real server: it can cut every connection, or
// freeze them (bytes stop flowing, sockets stay open: a half-open connection).
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { KubeClient } from '../../src/kube/client.ts';

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;
  private refusing = false;
  port = 0;
  connections = 0;
  /** Each chunk is delayed this long (a slow network; order is kept). */
  latencyMs = 0;

  private readonly targetHost: string;
  private readonly targetPort: number;

  constructor(targetHost: string, targetPort: number) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  /** Listens on `port` (0: any free one) and returns it. */
  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = connect(this.targetPort, this.targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (chunk) => {
          if (this.frozen) return;
          if (this.latencyMs) setTimeout(() => to.write(chunk), this.latencyMs);
          else to.write(chunk);
        });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  /** Drops every open connection (a restart of the server, a network blip). */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Existing connections go silent but stay open; new ones work again after thaw(). */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
  }

  /** An outage: open connections are cut and new ones are closed at once, until restore(). */
  outage(): void {
    this.refusing = true;
    this.cutAll();
  }

  restore(): void {
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

/** A proxy in front of the API server of `kubeconfigPath`, and that kubeconfig's text through it. */
export async function kubeconfigThroughProxy(
  kubeconfigPath: string,
): Promise<{ proxy: TcpProxy; kubeconfig: string }> {
  const text = readFileSync(kubeconfigPath, 'utf8');
  const server = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(text);
  if (!server) throw new Error(`${kubeconfigPath}: no https://127.0.0.1 server`);
  const proxy = new TcpProxy('127.0.0.1', Number(server[1]));
  const port = await proxy.start();
  // The serving certificate names 127.0.0.1, so TLS still verifies through the proxy.
  return { proxy, kubeconfig: text.replace(server[0], `server: https://127.0.0.1:${port}`) };
}

/** A proxy in front of the API server of `kubeconfigPath`, and a client that goes through it. */
export async function clientThroughProxy(
  kubeconfigPath: string,
): Promise<{ proxy: TcpProxy; client: KubeClient }> {
  const { proxy, kubeconfig } = await kubeconfigThroughProxy(kubeconfigPath);
  return { proxy, client: KubeClient.fromKubeconfig(kubeconfig, dirname(kubeconfigPath)) };
}
