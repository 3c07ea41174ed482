// b2b_keyvault_requests_total counts what goes on the wire, but not Key Vault's 401 challenge:
// the first request of a new client is sent without a token on purpose, to learn the tenant.
import { describe, expect, it } from 'vitest';
import { requestCountingPolicy } from '../../../src/vaults/azure/client.ts';

type Policy = ReturnType<typeof requestCountingPolicy>;
type Request = Parameters<Policy['sendRequest']>[0];
type Next = Parameters<Policy['sendRequest']>[1];

const headers = (h: Record<string, string>) => {
  const map = new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    get: (k: string) => map.get(k.toLowerCase()),
    has: (k: string) => map.has(k.toLowerCase()),
  };
};

function send(request: Record<string, string>, status: number, response: Record<string, string>) {
  const counted: string[] = [];
  const policy = requestCountingPolicy((operation, code) => counted.push(`${operation} ${code}`));
  const req = {
    method: 'GET',
    url: 'https://kv.vault.azure.net/keys/k/v1?api-version=7.5',
    headers: headers(request),
  } as unknown as Request;
  const next: Next = (r) =>
    Promise.resolve({ request: r, status, headers: headers(response) } as unknown as Awaited<
      ReturnType<Next>
    >);
  return policy.sendRequest(req, next).then(() => counted);
}

describe('requestCountingPolicy', () => {
  const challenge = {
    'WWW-Authenticate':
      'Bearer authorization="https://login/tenant", resource="https://vault.azure.net"',
  };

  it('does not count the unauthenticated 401 challenge', async () => {
    expect(await send({}, 401, challenge)).toEqual([]);
  });

  it('counts a 401 to a request that carried a token, and every other answer', async () => {
    expect(await send({ Authorization: 'Bearer x' }, 401, challenge)).toHaveLength(1);
    expect(await send({ Authorization: 'Bearer x' }, 200, {})).toHaveLength(1);
    expect(await send({}, 403, {})).toHaveLength(1);
  });
});
