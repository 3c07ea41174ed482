// Integration-test helpers: clients for the test control plane and a namespace per test file.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { KubeClient, NamespaceType, resourcePath } from '../../src/kube/client.ts';

export function testenv() {
  return inject('testenv');
}

/** A client as the cluster admin (for test set-up only). */
export function adminClient(): KubeClient {
  return KubeClient.load(testenv().adminKubeconfig);
}

/** A client as the non-admin operator user, bound only to deploy/'s roles. */
export function operatorClient(): KubeClient {
  return KubeClient.load(testenv().operatorKubeconfig);
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(resourcePath(NamespaceType), { metadata: { name } });
  return name;
}

/** Polls until `probe` returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `; last error: ${last.message}` : ''}`,
  );
}
