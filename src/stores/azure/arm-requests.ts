// Every ARM request of the azure store goes through here: at most `maxInFlight` requests per
// subscription (ARM throttles per subscription), a 429's Retry-After holds back the whole
// subscription, 5xx and network errors are retried with backoff, each attempt ends by a
// deadline (its token from Entra ID included) or when the operator cancels, and a failure is
// logged with ARM's x-ms-request-id (never a header or token). The request id stays out of the
// error's message: that message becomes a condition message, and a new id at every attempt
// would make each failure a new status write. The SDKs' own retries are off.
import type { Logger } from '../../operator/log.ts';
import {
  abortReason,
  DEFAULT_AZURE_TIMEOUT_MS,
  DeadlineExceeded,
  withDeadline,
} from '../../vaults/azure/deadline.ts';
import { isSignInError } from '../../vaults/azure/errors.ts';

export interface ArmFailure {
  status: number | undefined;
  code: string | undefined;
  message: string;
  requestId: string | undefined;
  retryAfterMs: number | undefined;
  /** No answer within the deadline (the request, or the token it needed). */
  timedOut?: boolean;
}

/** An ARM answer we do not retry here: the caller decides what it means. */
export class ArmError extends Error {
  readonly failure: ArmFailure;
  constructor(operation: string, failure: ArmFailure) {
    super(
      failure.timedOut
        ? `${operation}: ${failure.message}`
        : `${operation}: ${failure.status ?? 'no answer'}${failure.code ? ` ${failure.code}` : ''}: ${failure.message}`,
    );
    this.failure = failure;
  }
  get status(): number | undefined {
    return this.failure.status;
  }
  /** ARM is throttling, failing or unreachable: try again later. */
  get transient(): boolean {
    const s = this.failure.status;
    return s === undefined || s === 408 || s === 429 || s >= 500;
  }
}

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { headers?: { get(name: string): string | undefined }; bodyAsText?: string | null };
}

export function failureOf(err: unknown): ArmFailure {
  if (err instanceof DeadlineExceeded)
    return {
      status: undefined,
      code: undefined,
      message: err.message,
      requestId: undefined,
      retryAfterMs: undefined,
      timedOut: true,
    };
  const e = err as RestErrorLike;
  const headers = e.response?.headers;
  let code = e.code;
  let message = e.message ?? String(err);
  try {
    const body = JSON.parse(e.response?.bodyAsText ?? '') as {
      error?: { code?: string; message?: string };
    };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not an ARM error body
  }
  const retryAfter = headers?.get('retry-after');
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  const date = retryAfter === undefined ? NaN : Date.parse(retryAfter);
  return {
    status: e.statusCode,
    code,
    message,
    requestId: headers?.get('x-ms-request-id'),
    retryAfterMs: Number.isFinite(seconds)
      ? seconds * 1000
      : Number.isFinite(date)
        ? Math.max(0, date - Date.now())
        : undefined,
  };
}

export interface ArmRequestsOptions {
  log: Logger;
  maxInFlight?: number;
  /** 429s waited out in one call before giving up to the controller's backoff. */
  maxThrottleWaits?: number;
  /** The longest Retry-After waited out in a call; longer ones go back to the controller. */
  maxInlineWaitMs?: number;
  serverErrorRetries?: number;
  backoffBaseMs?: number;
  /** Each attempt ends by then, with the token it needs (--azure-request-timeout). */
  timeoutMs?: number;
  /** Aborts when the operator cancels its reconciles (drain deadline, leadership lost). */
  signal?: () => AbortSignal | undefined;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

class Subscription {
  inFlight = 0;
  notBefore = 0;
  readonly waiting: (() => void)[] = [];
}

export class ArmRequests {
  private readonly options: Required<ArmRequestsOptions>;
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(options: ArmRequestsOptions) {
    this.options = {
      maxInFlight: 4,
      maxThrottleWaits: 5,
      maxInlineWaitMs: 30_000,
      serverErrorRetries: 3,
      backoffBaseMs: 500,
      timeoutMs: DEFAULT_AZURE_TIMEOUT_MS,
      signal: () => undefined,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      ...options,
    };
  }

  /**
   * Runs `request` for `subscriptionId`, with the rules above; `request` passes the signal it
   * is given to the SDK, so that a request past its deadline is aborted, not only abandoned.
   */
  async run<T>(
    subscriptionId: string,
    operation: string,
    request: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const sub = this.subscription(subscriptionId);
    const signal = this.options.signal();
    let throttled = 0;
    let serverErrors = 0;
    for (;;) {
      const wait = sub.notBefore - this.options.now();
      if (wait > 0) await this.sleep(wait, signal);
      await this.acquire(sub);
      let failure: ArmFailure;
      try {
        return await withDeadline(request, {
          timeoutMs: this.options.timeoutMs,
          what: `${operation.startsWith('graph.') ? 'Microsoft Graph' : 'Azure Resource Manager'} (or the sign-in for it)`,
          signal,
        });
      } catch (err) {
        if (signal?.aborted) throw err; // cancelled: no retry, no failure to report
        // No token: nothing reached ARM, and trying again at once changes nothing. The caller
        // reports it as the sign-in failure it is (AuthenticationFailed).
        if (isSignInError(err)) throw err;
        failure = failureOf(err);
      } finally {
        this.release(sub);
      }
      // A 404 is an answer the caller expects (no such certificate yet), not a failure.
      const level = failure.status === 404 ? 'debug' : 'warn';
      this.options.log[level]('ARM request failed', {
        operation,
        status: failure.status,
        code: failure.code,
        requestId: failure.requestId,
        retryAfterMs: failure.retryAfterMs,
        ...(failure.timedOut ? { timeoutMs: this.options.timeoutMs } : {}),
      });
      const error = new ArmError(operation, failure);
      if (failure.status === 429) {
        const delay = failure.retryAfterMs ?? this.backoff(throttled);
        sub.notBefore = Math.max(sub.notBefore, this.options.now() + delay);
        if (++throttled > this.options.maxThrottleWaits || delay > this.options.maxInlineWaitMs)
          throw error;
        continue;
      }
      // A silent endpoint is not tried again here: each try would hold a slot for the whole
      // deadline; the controller's backoff decides when to come back.
      if (error.transient && !failure.timedOut) {
        if (++serverErrors > this.options.serverErrorRetries) throw error;
        await this.sleep(this.backoff(serverErrors - 1), signal);
        continue;
      }
      throw error;
    }
  }

  /** Waits, unless the operator cancels meanwhile. */
  private async sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.options.sleep(ms);
    signal.throwIfAborted();
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortReason(signal, 'waiting for ARM'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.options.sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffBaseMs * 2 ** attempt;
    return base / 2 + Math.random() * (base / 2);
  }

  private subscription(id: string): Subscription {
    let sub = this.subscriptions.get(id.toLowerCase());
    if (!sub) {
      sub = new Subscription();
      this.subscriptions.set(id.toLowerCase(), sub);
    }
    return sub;
  }

  private async acquire(sub: Subscription): Promise<void> {
    while (sub.inFlight >= this.options.maxInFlight)
      await new Promise<void>((resolve) => sub.waiting.push(resolve));
    sub.inFlight++;
  }

  private release(sub: Subscription): void {
    sub.inFlight--;
    sub.waiting.shift()?.();
  }
}
