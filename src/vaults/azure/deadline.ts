// Every call to Azure (ARM, Microsoft Graph, Key Vault, a token from Microsoft Entra ID or the
// managed identity endpoint) ends by a deadline: an endpoint that accepts the connection and
// never answers must not hold a worker, an ARM slot or a shared pending promise for ever. The
// SDKs do not all honour an abort signal (MSAL's managed identity ignores it), so the caller
// is freed by the deadline whether or not the call itself stops.

/** --azure-request-timeout's default. */
export const DEFAULT_AZURE_TIMEOUT_MS = 30_000;

export class DeadlineExceeded extends Error {
  readonly timeoutMs: number;
  /** `what`: who did not answer, e.g. "Azure Resource Manager". */
  constructor(what: string, timeoutMs: number) {
    super(`no answer from ${what} within ${formatSeconds(timeoutMs)} (timeout)`);
    this.name = 'DeadlineExceeded';
    this.timeoutMs = timeoutMs;
  }
}

const formatSeconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/** A DOM AbortSignal, or the SDKs' AbortSignalLike (no throwIfAborted, maybe no reason). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface DeadlineOptions {
  timeoutMs: number;
  /** Who did not answer, named in the error. */
  what: string;
  /** Ends the call early (the reconcile is cancelled); it then rejects with the signal's reason. */
  signal?: AbortSignalLike | undefined;
}

/** Why `signal` aborted, as an Error (a DOM AbortSignal's default reason is one too). */
export function abortReason(signal: AbortSignalLike, what: string): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`${what}: cancelled`);
}

/**
 * Runs `call` with a signal that aborts at the deadline or when `signal` does; rejects with
 * DeadlineExceeded (or the signal's reason) at that moment even if `call` goes on.
 */
export async function withDeadline<T>(
  call: (signal: AbortSignal) => Promise<T>,
  { timeoutMs, what, signal }: DeadlineOptions,
): Promise<T> {
  if (signal?.aborted) throw abortReason(signal, what);
  const abort = new AbortController();
  let stopReason: Error | undefined;
  let reject: (reason: Error) => void = () => undefined;
  const stopped = new Promise<never>((_, r) => (reject = r));
  stopped.catch(() => undefined); // settled after the race was decided: nobody waits for it
  const stop = (reason: Error) => {
    stopReason = reason;
    abort.abort(reason);
    reject(reason);
  };
  const timer = setTimeout(() => stop(new DeadlineExceeded(what, timeoutMs)), timeoutMs);
  const onAbort = () => stop(abortReason(signal!, what));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([call(abort.signal), stopped]);
  } catch (err) {
    // The call may fail on the abort first: report why it was aborted.
    throw stopReason ?? err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
