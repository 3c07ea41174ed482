// Key Vault's answers, classified into the reasons of API.md. 403 keeps Key Vault's own inner
// code (ForbiddenByRbac, AccessDenied, ForbiddenByPolicy) so the user knows which model denied.
import { Reason } from '../../api/reasons.ts';

export interface VaultErrorClass {
  reason: Reason;
  terminal: boolean;
  /** Key Vault's error code, the inner one when there is one (e.g. ForbiddenByRbac). */
  code: string;
  retryAfterMs?: number | undefined;
  detail: string;
}

interface ErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  details?: unknown;
  response?: { headers?: { get?(name: string): string | undefined }; bodyAsText?: string | null };
}

const TRANSIENT_NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|socket hang up|aborted|timeout/i;

function innerCode(err: ErrorLike): string | undefined {
  const fromDetails = (
    err.details as
      | {
          error?: { innerError?: { code?: string }; innererror?: { code?: string }; code?: string };
        }
      | undefined
  )?.error;
  if (fromDetails)
    return fromDetails.innerError?.code ?? fromDetails.innererror?.code ?? fromDetails.code;
  const text = err.response?.bodyAsText;
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as {
      error?: { innerError?: { code?: string }; innererror?: { code?: string }; code?: string };
    };
    return body.error?.innerError?.code ?? body.error?.innererror?.code ?? body.error?.code;
  } catch {
    return undefined;
  }
}

export function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function classifyVaultError(error: unknown): VaultErrorClass {
  const err = (error ?? {}) as ErrorLike;
  const status = err.statusCode;
  const code = innerCode(err) ?? err.code ?? (status ? String(status) : (err.name ?? 'Error'));
  const detail = `${status ? `${status} ` : ''}${code}`;
  if (status === 403) return { reason: Reason.AccessDenied, terminal: true, code, detail };
  if (status === 404) return { reason: Reason.KeyNotFound, terminal: true, code, detail };
  if (
    status === 401 ||
    err.name === 'CredentialUnavailableError' ||
    err.name === 'AuthenticationError'
  ) {
    return {
      reason: Reason.AuthenticationFailed,
      terminal: false,
      code,
      detail: `${detail}: ${err.message ?? ''}`.trim(),
    };
  }
  if (status === 429 || (status !== undefined && status >= 500)) {
    return {
      reason: Reason.VaultUnavailable,
      terminal: false,
      code,
      retryAfterMs: retryAfterMs(err.response?.headers?.get?.('retry-after')),
      detail,
    };
  }
  if (
    status === undefined &&
    TRANSIENT_NETWORK.test(`${err.code ?? ''} ${err.message ?? ''} ${err.name ?? ''}`)
  ) {
    return { reason: Reason.VaultUnavailable, terminal: false, code, detail: err.message ?? code };
  }
  return { reason: Reason.VaultUnavailable, terminal: false, code, detail: err.message ?? code };
}
