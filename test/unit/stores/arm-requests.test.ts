// ArmRequests: Retry-After held per subscription, bounded concurrency, 5xx backoff, request
// IDs in logs and never a token (no sleeping: the clock and sleep are injected).
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/operator/log.ts';
import { ArmError, ArmRequests } from '../../../src/stores/azure/arm-requests.ts';

function restError(status: number, headers: Record<string, string> = {}, code = 'X') {
  return Object.assign(new Error(`status ${status}`), {
    statusCode: status,
    response: {
      headers: { get: (n: string) => headers[n.toLowerCase()] },
      bodyAsText: JSON.stringify({ error: { code, message: `ARM says ${code}` } }),
    },
  });
}

function harness() {
  let clock = 0;
  const sleeps: number[] = [];
  const logs: string[] = [];
  const requests = new ArmRequests({
    log: createLogger('debug', {}, (l) => logs.push(l)),
    now: () => clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    backoffBaseMs: 100,
  });
  return { requests, sleeps, logs };
}

describe('ArmRequests', () => {
  it('waits out a 429 Retry-After and then succeeds, logging the request id', async () => {
    const { requests, sleeps, logs } = harness();
    let calls = 0;
    const result = await requests.run('sub', 'get', () => {
      if (++calls === 1)
        throw restError(429, { 'retry-after': '7', 'x-ms-request-id': 'req-1' }, 'TooManyRequests');
      return Promise.resolve('ok');
    });
    expect(result).toBe('ok');
    expect(sleeps).toEqual([7000]);
    expect(logs.join('\n')).toMatch(/"requestId":"req-1"/);
    expect(logs.join('\n')).not.toMatch(/Bearer|authorization/i);
  });

  it('holds back the whole subscription during a Retry-After, not other subscriptions', async () => {
    const { requests, sleeps } = harness();
    await expect(
      requests.run('sub', 'get', () => Promise.reject(restError(429, { 'retry-after': '120' }))),
    ).rejects.toMatchObject({ failure: { status: 429, retryAfterMs: 120_000 } });
    await requests.run('sub', 'get', () => Promise.resolve('ok'));
    expect(sleeps).toEqual([120_000]);
    await requests.run('other', 'get', () => Promise.resolve('ok'));
    expect(sleeps).toEqual([120_000]);
  });

  it('retries 5xx with backoff, then gives up as transient', async () => {
    const { requests, sleeps } = harness();
    const err = await requests
      .run('sub', 'put', () => Promise.reject(restError(503)))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArmError);
    expect((err as ArmError).transient).toBe(true);
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a 403 and keeps ARM code and message', async () => {
    const { requests, sleeps } = harness();
    const err = (await requests
      .run('sub', 'put', () => Promise.reject(restError(403, {}, 'AuthorizationFailed')))
      .catch((e: unknown) => e)) as ArmError;
    expect(err.failure).toMatchObject({
      status: 403,
      code: 'AuthorizationFailed',
      message: 'ARM says AuthorizationFailed',
    });
    expect(sleeps).toEqual([]);
  });

  it('has at most 4 requests in flight per subscription', async () => {
    const requests = new ArmRequests({ log: createLogger('error', {}, () => {}) });
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        requests.run('sub', 'get', async () => {
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(4);
  });
});
