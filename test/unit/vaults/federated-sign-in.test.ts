// A refused client assertion as @azure/identity really reports it: MSAL's ServerError for
// Entra ID's 400 (AADSTS70021, no matching federated identity record) comes out of getToken as
// an AuthenticationRequiredError, not an AuthenticationError. It is a sign-in failure all the
// same: AuthenticationFailed, in one line, not retried by ARM's request loop as an outage.
import { AuthenticationRequiredError } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/operator/log.ts';
import { ArmRequests } from '../../../src/stores/azure/arm-requests.ts';
import { azureSignInFailure, classifyVaultError } from '../../../src/vaults/azure/errors.ts';
import { accessDeniedMessage } from '../../../src/vaults/azure/probes.ts';

const msalText =
  "invalid_request: Error(s): 70021 - Timestamp: 2026-12-03 07:40:35Z - Description: AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://127.0.0.1:6443/'. Assertion Subject: 'system:serviceaccount:team-a:b2b'. Assertion Audience: 'api://AzureADTokenExchange'.\r\nTrace ID: 684c4bf8\r\nCorrelation ID: 460440e5\r\nTimestamp: 2026-12-03 07:40:35Z - Correlation ID: 460440e5 - Trace ID: 684c4bf8";

const refused = () =>
  new AuthenticationRequiredError({
    scopes: ['https://vault.azure.net/.default'],
    message: msalText,
    cause: Object.assign(new Error(msalText), {
      name: 'ServerError',
      errorCode: 'invalid_request',
    }),
  });

describe('a refused federated sign-in', () => {
  it('is AuthenticationFailed for a vault, with the AADSTS code and its first sentence only', () => {
    const verdict = classifyVaultError(refused());
    expect(verdict.reason).toBe('AuthenticationFailed');
    expect(verdict.code).toBe('AADSTS70021');
    expect(verdict.detail).toContain(
      'AADSTS70021: No matching federated identity record found for presented assertion.',
    );
    expect(verdict.detail).not.toMatch(/Trace ID|Correlation ID|Timestamp/);
  });

  it('is AuthenticationFailed for the azure store', () => {
    expect(azureSignInFailure(refused())).toEqual({
      reason: 'AuthenticationFailed',
      message:
        'signing in to Azure failed: AADSTS70021: No matching federated identity record found for presented assertion.',
    });
  });

  it('is not retried as an ARM outage, and reaches the caller as the sign-in failure it is', async () => {
    let calls = 0;
    const requests = new ArmRequests({
      log: createLogger('error', {}, () => undefined),
      sleep: () => Promise.resolve(),
      backoffBaseMs: 1,
    });
    const error = await requests
      .run('sub', 'integrationAccounts.get', () => {
        calls++;
        return Promise.reject(refused());
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(azureSignInFailure(error)?.reason).toBe('AuthenticationFailed');
  });
});

/** What @azure/identity throws when Entra ID could not be reached or did not answer yes or no. */
const wrapped = (cause: Error) =>
  new AuthenticationRequiredError({
    scopes: ['https://vault.azure.net/.default'],
    message: cause.message,
    cause,
  });
const outages: [string, Error][] = [
  [
    'a dropped connection',
    Object.assign(new Error('network_error: Network request failed'), {
      name: 'ClientAuthError',
      errorCode: 'network_error',
    }),
  ],
  [
    'a 503 (AADSTS90033)',
    Object.assign(
      new Error('temporarily_unavailable: AADSTS90033: A transient error has occurred.'),
      { name: 'ServerError', errorCode: 'temporarily_unavailable', status: 503 },
    ),
  ],
  [
    'a 429',
    Object.assign(new Error('AADSTS50196: too many requests'), {
      name: 'ServerError',
      errorCode: 'temporarily_unavailable',
      status: 429,
    }),
  ],
  [
    'our assertion callback failing (the token API answered 503)',
    new Error('the ServiceAccount team-a/b2b could not be used: 503 Service Unavailable'),
  ],
];

describe('Entra ID unreachable or overloaded is an outage, not a refusal', () => {
  it.each(outages)('%s: VaultUnavailable for a vault, not a sign-in failure', (_, cause) => {
    expect(classifyVaultError(wrapped(cause)).reason).toBe('VaultUnavailable');
    expect(azureSignInFailure(wrapped(cause))).toBeUndefined();
  });

  it('a refusal with its status (400) is still AuthenticationFailed', () => {
    const cause = Object.assign(new Error(msalText), {
      name: 'ServerError',
      errorCode: 'invalid_request',
      status: 400,
    });
    expect(classifyVaultError(wrapped(cause)).reason).toBe('AuthenticationFailed');
  });

  it('is retried by the ARM request loop', async () => {
    let calls = 0;
    const requests = new ArmRequests({
      log: createLogger('error', {}, () => undefined),
      sleep: () => Promise.resolve(),
      backoffBaseMs: 1,
    });
    await requests
      .run('sub', 'integrationAccounts.get', () => {
        calls++;
        return Promise.reject(wrapped(outages[1]![1]));
      })
      .catch(() => undefined);
    expect(calls).toBeGreaterThan(1);
  });
});

describe('AccessDenied names whose identity needs the grant', () => {
  it('the operator’s by default, the ServiceAccount’s identity when the account names one', () => {
    const denied = new Map([['sign', 'ForbiddenByRbac']] as const);
    expect(accessDeniedMessage('k', 'https://kv.vault.azure.net', new Map(denied))).toContain(
      "to the operator's identity; denied: sign (ForbiddenByRbac)",
    );
    expect(
      accessDeniedMessage(
        'k',
        'https://kv.vault.azure.net',
        new Map(denied),
        'the identity c-1 of ServiceAccount team-a/b2b',
      ),
    ).toContain('to the identity c-1 of ServiceAccount team-a/b2b; denied: sign');
  });
});
