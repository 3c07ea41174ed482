// Key Vault's answers, classified into the reasons of API.md. 403 keeps Key Vault's own inner
// code (ForbiddenByRbac, AccessDenied, ForbiddenByPolicy, ForbiddenByFirewall) so the user
// knows which model denied. Emulators answer some cases differently from Azure (Lowkey Vault:
// a disabled key is 404 on get and 500 on sign), so the message is read too.
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
  /** Azure AD's answer, on an AuthenticationError. */
  errorResponse?: { error?: string; errorDescription?: string };
  response?: { headers?: { get?(name: string): string | undefined }; bodyAsText?: string | null };
}

interface KeyVaultErrorBody {
  error?: {
    code?: string;
    message?: string;
    innerError?: { code?: string };
    innererror?: { code?: string };
  };
}

const TRANSIENT_NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|socket hang up|aborted|timeout/i;

/** The error object of Key Vault's body: in details.error, in details itself (paged calls), or the raw body. */
function errorBody(err: ErrorLike): KeyVaultErrorBody['error'] {
  const details = err.details as (KeyVaultErrorBody & KeyVaultErrorBody['error']) | undefined;
  if (details?.error) return details.error;
  if (details?.code || details?.innererror || details?.innerError) return details;
  const text = err.response?.bodyAsText;
  if (!text) return undefined;
  try {
    return (JSON.parse(text) as KeyVaultErrorBody).error;
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

// Azure: 403 with inner code KeyDisabled ("Operation sign is not allowed on a disabled key").
// Lowkey Vault: 404 "Operation get is not allowed on a disabled entity.", 500 "... is not enabled."
const DISABLED = /not allowed on a disabled|is disabled|is not enabled/i;
// The SDK refuses a key outside its dates before sending anything (CryptographyClient.ensureValid).
const OUTSIDE_DATES = /expired at|can't be used before|not allowed on an expired|is expired/i;
// A key whose key_ops leave the operation out. The SDK, before sending: "Operation decrypt is
// not supported on key …" (no status). Azure: 403, inner code KeyOperationForbidden, "Operation
// decrypt is not permitted on this key.". Lowkey Vault: 500 "… does not have SIGN operation
// assigned.". Not a denial of the identity and not an outage: only a new key version fixes it.
const OPERATION_NOT_PERMITTED =
  /^Operation \w+ is not (supported on key|permitted on this key)|does not have \w+ operation assigned/i;

/**
 * Azure AD's failures carry a trace id, correlation id and time that change on every attempt:
 * keep the AADSTS code and its first sentence, so the same failure reads the same (no status
 * rewrite per retry).
 */
export function stableSignInMessage(message: string): string {
  const aadsts = /(AADSTS\d+):[ \t]*([^\n]*?\.)(?=\s|$)/.exec(message);
  if (aadsts) return `${aadsts[1]}: ${aadsts[2]}`;
  // The identity SDK's text runs over several lines with troubleshooting links: keep the first
  // line that says what failed, so a condition's message stays one line.
  const lines = message
    .replace(
      /[ \t]*(Trace ID|Correlation ID|Timestamp):[ \t]*\S+( \d{2}:\d{2}:\d{2}(\.\d+)?Z?)?/gi,
      '',
    )
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(To troubleshoot|Troubleshooting guide|https?:\/\/)/i.test(l));
  return lines[0] ?? message.trim();
}

// The identity SDK's errors for a token it could not get.
const SIGN_IN_ERRORS = ['CredentialUnavailableError', 'AuthenticationError'];

/** MSAL's error inside an AuthenticationRequiredError (its `cause`). */
interface MsalCause {
  name?: string;
  errorCode?: string;
  status?: number;
  reason?: string;
  message?: string;
}

/**
 * Every MSAL failure comes out of @azure/identity as AuthenticationRequiredError: Entra ID's
 * refusal (a ServerError with a 4xx, e.g. AADSTS70021 for a client assertion) as well as a
 * dropped connection, a 5xx or a 429. Only a refusal, or our own ServiceAccount's failure
 * (IdentityError), is a sign-in failure; the rest is an outage, retried as one.
 */
function refusedSignIn(error: ErrorLike & { cause?: MsalCause }): boolean {
  const cause = error.cause;
  if (!cause) return false;
  if (cause.name === 'IdentityError') return true;
  if (cause.name !== 'ServerError') return false;
  if (typeof cause.status === 'number')
    return cause.status >= 400 && cause.status < 500 && cause.status !== 429;
  return /^(invalid_request|invalid_client|invalid_grant|unauthorized_client|invalid_scope)$/.test(
    cause.errorCode ?? '',
  );
}

/** Whether `error` is a sign-in that failed for good: no token, so nothing reached Azure. */
export function isSignInError(error: unknown): boolean {
  const err = (error ?? {}) as ErrorLike & { cause?: MsalCause };
  if (SIGN_IN_ERRORS.includes(err.name ?? '')) return true;
  return err.name === 'AuthenticationRequiredError' && refusedSignIn(err);
}

/** The identity SDK could not get a token (the azure store's sign-in): one line, retried. */
export function azureSignInFailure(
  error: unknown,
): { reason: Reason; message: string } | undefined {
  const err = (error ?? {}) as ErrorLike & { cause?: MsalCause };
  if (!isSignInError(err)) return undefined;
  // A ServiceAccount that failed while a token was renewed says why itself.
  if (err.cause?.name === 'IdentityError' && err.cause.reason)
    return { reason: err.cause.reason as Reason, message: err.cause.message ?? '' };
  const text = err.errorResponse?.errorDescription ?? err.message ?? '';
  return {
    reason: Reason.AuthenticationFailed,
    message: `signing in to Azure failed: ${stableSignInMessage(text)}`,
  };
}

export function classifyVaultError(error: unknown): VaultErrorClass {
  const err = (error ?? {}) as ErrorLike;
  const status = err.statusCode;
  const body = errorBody(err);
  const inner = body?.innerError?.code ?? body?.innererror?.code;
  const code = inner ?? body?.code ?? err.code ?? (status ? String(status) : (err.name ?? 'Error'));
  const message = body?.message ?? err.message ?? '';
  const detail = `${status ? `${status} ` : ''}${code}`;
  // Azure AD's answers first: their text ("Application '…' is disabled") is not Key Vault's.
  if (isSignInError(err)) {
    const signIn = stableSignInMessage(err.errorResponse?.errorDescription ?? err.message ?? '');
    const aadError = err.errorResponse?.error ?? code;
    return {
      reason: Reason.AuthenticationFailed,
      terminal: false,
      code: /AADSTS\d+/.exec(signIn)?.[0] ?? code,
      detail: `${status ? `${status} ` : ''}${aadError}: ${signIn}`,
    };
  }
  if (inner === 'KeyDisabled' || (status !== undefined && DISABLED.test(message)))
    return { reason: Reason.KeyDisabled, terminal: true, code, detail };
  if (
    inner === 'KeyOperationForbidden' ||
    ((status === undefined || status === 403 || status === 500) &&
      OPERATION_NOT_PERMITTED.test(message))
  )
    return {
      reason: Reason.KeyOperationNotPermitted,
      terminal: true,
      code: inner ?? (status ? code : 'KeyOperationNotPermitted'),
      detail: `${detail}: ${message}`,
    };
  const outsideDates = (status === undefined || status === 403) && OUTSIDE_DATES.test(message);
  if (inner === 'KeyExpired' || outsideDates)
    return { reason: Reason.KeyExpired, terminal: true, code, detail: `${detail}: ${message}` };
  if (status === 403) return { reason: Reason.AccessDenied, terminal: true, code, detail };
  if (status === 404) return { reason: Reason.KeyNotFound, terminal: true, code, detail };
  if (status === 401) {
    return {
      reason: Reason.AuthenticationFailed,
      terminal: false,
      code,
      detail: `${detail}: ${stableSignInMessage(message)}`.trim(),
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
