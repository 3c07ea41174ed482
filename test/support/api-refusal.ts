// What the API server answers to a manifest its CRD validation must refuse.
import { expect } from 'vitest';
import { KubeApiError, type KubeClient } from '../../src/kube/client.ts';

/** Creates `body` at `path`, expects a 422 from the API server and returns its message. */
export async function refusal(
  client: KubeClient,
  path: string,
  body: Record<string, unknown>,
): Promise<string> {
  const err = await client.create(path, body).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KubeApiError))
    throw new Error(`expected the API server to refuse ${JSON.stringify(body).slice(0, 300)}`);
  expect(err.status).toBe(422);
  return err.message;
}
