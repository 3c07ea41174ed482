// Deadlines on calls to Azure: a token request that never answers ends, and the SDK's shared
// token refresh does not keep later requests waiting on it; the caller's abort ends it too.
import { LogicManagementClient } from '@azure/arm-logic';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { withTokenDeadline } from '../../../src/vaults/azure/credentials.ts';
import { DeadlineExceeded, withDeadline } from '../../../src/vaults/azure/deadline.ts';

const never = () => new Promise<never>(() => {});
const token = (): AccessToken => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 });

describe('deadlines on Azure calls', () => {
  it('ends a token request that never answers, and the next request asks afresh', async () => {
    let asked = 0;
    const silentOnce: TokenCredential = {
      getToken: () => (++asked === 1 ? never() : Promise.resolve(token())),
    };
    // The real SDK pipeline: its token cycler shares one pending refresh between requests.
    const logic = new LogicManagementClient(withTokenDeadline(silentOnce, 50), 'sub', {
      endpoint: 'https://arm.example',
      retryOptions: { maxRetries: 0 },
      httpClient: {
        sendRequest: (request) =>
          Promise.resolve({
            request,
            status: 200,
            headers: request.headers,
            bodyAsText: JSON.stringify({ id: 'ia', location: 'westeurope' }),
          }),
      },
    });
    const started = Date.now();
    await expect(logic.integrationAccounts.get('rg', 'ia')).rejects.toThrow(
      /no answer from Microsoft Entra ID .* within 0.05 s/,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(logic.integrationAccounts.get('rg', 'ia')).resolves.toMatchObject({ id: 'ia' });
    expect(asked).toBe(2);
  });

  it("rejects with the caller's reason when it aborts, and aborts the call", async () => {
    const cancel = new AbortController();
    let aborted = false;
    const running = withDeadline(
      (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        return never();
      },
      { timeoutMs: 10_000, what: 'ARM', signal: cancel.signal },
    );
    cancel.abort(new Error('drain deadline'));
    await expect(running).rejects.toThrow('drain deadline');
    expect(aborted).toBe(true);
    await expect(
      withDeadline(never, { timeoutMs: 10, what: 'ARM' }).catch((e: unknown) => e),
    ).resolves.toBeInstanceOf(DeadlineExceeded);
  });
});
