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

  it('keeps the request id out of the error message (it changes at every try; the log has it)', async () => {
    const { requests, logs } = harness();
    const err = (await requests
      .run('sub', 'put', () =>
        Promise.reject(restError(400, { 'x-ms-request-id': 'req-7' }, 'BadRequest')),
      )
      .catch((e: unknown) => e)) as ArmError;
    expect(err.message).toBe('put: 400 BadRequest: ARM says BadRequest');
    expect(logs.join('\n')).toMatch(/"requestId":"req-7"/);
  });

  it('ends a request that never answers at the deadline, frees its slot, and leaves the retry to the controller', async () => {
    const requests = new ArmRequests({
      log: createLogger('error', {}, () => {}),
      maxInFlight: 1,
      timeoutMs: 50,
    });
    let tries = 0;
    let aborted = false;
    const started = Date.now();
    const err = (await requests
      .run('sub', 'get', (signal) => {
        tries++;
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise<never>(() => {});
      })
      .catch((e: unknown) => e)) as ArmError;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(ArmError);
    expect(err.transient).toBe(true);
    expect(err.failure.timedOut).toBe(true);
    expect(err.message).toBe(
      'get: no answer from Azure Resource Manager (or the sign-in for it) within 0.05 s (timeout)',
    );
    expect(tries).toBe(1);
    expect(aborted).toBe(true);
    // The only slot is free again.
    await expect(requests.run('sub', 'get', () => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('stops at once when the operator cancels, and does not retry', async () => {
    const cancel = new AbortController();
    const requests = new ArmRequests({
      log: createLogger('error', {}, () => {}),
      signal: () => cancel.signal,
    });
    let tries = 0;
    const running = requests.run('sub', 'get', () => {
      tries++;
      return new Promise<never>(() => {});
    });
    setTimeout(() => cancel.abort(new Error('drain deadline')), 10);
    await expect(running).rejects.toThrow('drain deadline');
    expect(tries).toBe(1);
  });
});
