// A ServiceAccount as an Azure identity: what is read, what is requested of the TokenRequest API,
// how long a token is reused, and the reasons of API.md when something is missing. The API
// server is a small stand-in here (the integration tests use the real one).
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeClient } from '../../../src/kube/client.ts';
import {
  federatedCredentialHint,
  issuerClaim,
  IdentityError,
  ServiceAccountTokens,
} from '../../../src/identity/service-account.ts';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

function fakeApi(
  accounts: Record<string, { uid: string; annotations?: Record<string, string> }>,
  options: {
    issuer?: string;
    tokenLifetimeMs?: number;
    now: () => number;
    deny?: boolean;
    /** The token request's answer instead of a token. */
    refuse?: KubeApiError;
  },
) {
  const calls: Call[] = [];
  let issued = 0;
  const client = {
    get: async (path: string) => {
      await Promise.resolve();
      calls.push({ method: 'GET', path });
      if (path === '/.well-known/openid-configuration') {
        if (!options.issuer) throw new KubeApiError(403, { reason: 'Forbidden' }, `GET ${path}`);
        return { issuer: options.issuer };
      }
      const name = /serviceaccounts\/([^/]+)$/.exec(path)?.[1] ?? '';
      const sa = accounts[name];
      if (!sa) throw new KubeApiError(404, { reason: 'NotFound' }, `GET ${path}`);
      return { metadata: { uid: sa.uid, annotations: sa.annotations } };
    },
    create: async (path: string, body: unknown) => {
      await Promise.resolve();
      calls.push({ method: 'POST', path, body });
      if (options.deny) throw new KubeApiError(403, { reason: 'Forbidden' }, `POST ${path}`);
      if (options.refuse) throw options.refuse;
      issued++;
      const payload = Buffer.from(JSON.stringify({ iss: 'https://issuer.from.token/' })).toString(
        'base64url',
      );
      return {
        status: {
          token: `h.${payload}.sig-${issued}`,
          expirationTimestamp: new Date(
            options.now() + (options.tokenLifetimeMs ?? 600_000),
          ).toISOString(),
        },
      };
    },
  } as unknown as KubeClient;
  return { client, calls };
}

const annotated = {
  uid: 'uid-1',
  annotations: {
    'azure.workload.identity/client-id': 'client-a',
    'azure.workload.identity/tenant-id': 'tenant-a',
  },
};

describe('ServiceAccountTokens', () => {
  it('reads the client and tenant IDs from the annotations; the spec overrides them', async () => {
    let now = 0;
    const { client } = fakeApi({ 'team-a': annotated }, { now: () => now });
    const tokens = new ServiceAccountTokens({ client, now: () => now });
    expect(await tokens.identity('a', 'team-a')).toMatchObject({
      clientId: 'client-a',
      tenantId: 'tenant-a',
      uid: 'uid-1',
    });
    now += 10_000;
    expect(await tokens.identity('a', 'team-a', { clientId: 'spec-client' })).toMatchObject({
      clientId: 'spec-client',
      tenantId: 'tenant-a',
    });
  });

  it('requests a token for api://AzureADTokenExchange, 600 s, and reuses it until 80% of its life', async () => {
    let now = 1_000_000;
    const { client, calls } = fakeApi({ 'team-a': annotated }, { now: () => now });
    const tokens = new ServiceAccountTokens({ client, now: () => now });
    const identity = await tokens.identity('a', 'team-a');
    const first = await identity.assertion();
    const posts = () => calls.filter((c) => c.method === 'POST');
    expect(posts()).toEqual([
      {
        method: 'POST',
        path: '/api/v1/namespaces/a/serviceaccounts/team-a/token',
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 600 },
        },
      },
    ]);
    now += 479_000;
    expect(await identity.assertion()).toBe(first);
    now += 2_000; // past 480 s of 600
    const second = await identity.assertion();
    expect(second).not.toBe(first);
    expect(posts()).toHaveLength(2);
  });

  it('reuses a token no longer than the test knob says', async () => {
    let now = 0;
    const { client } = fakeApi({ 'team-a': annotated }, { now: () => now });
    const tokens = new ServiceAccountTokens({ client, now: () => now, maxReuseMs: 1_000 });
    const identity = await tokens.identity('a', 'team-a');
    const first = await identity.assertion();
    now += 999;
    expect(await identity.assertion()).toBe(first);
    now += 2;
    expect(await identity.assertion()).not.toBe(first);
  });

  it('coalesces concurrent token requests into one', async () => {
    const now = 0;
    const { client, calls } = fakeApi({ 'team-a': annotated }, { now: () => now });
    const tokens = new ServiceAccountTokens({ client, now: () => now });
    const identity = await tokens.identity('a', 'team-a');
    const all = await Promise.all([
      identity.assertion(),
      identity.assertion(),
      identity.assertion(),
    ]);
    expect(new Set(all).size).toBe(1);
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('ServiceAccountNotFound names the ServiceAccount to create', async () => {
    const { client } = fakeApi({}, { now: () => 0 });
    const error = await new ServiceAccountTokens({ client })
      .identity('a', 'team-a')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityError);
    expect(error).toMatchObject({ reason: 'ServiceAccountNotFound' });
    expect((error as Error).message).toMatch(/kubectl create serviceaccount team-a -n a/);
  });

  it('ServiceAccountNotAnnotated names the missing annotation', async () => {
    const { client } = fakeApi(
      {
        'team-a': {
          uid: 'u',
          annotations: { 'azure.workload.identity/tenant-id': 'tenant-a' },
        },
      },
      { now: () => 0 },
    );
    const error = await new ServiceAccountTokens({ client })
      .identity('a', 'team-a')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'ServiceAccountNotAnnotated' });
    expect((error as Error).message).toMatch(/azure\.workload\.identity\/client-id/);
    expect((error as Error).message).not.toMatch(/tenant-id \(/);
  });

  it('a refused token request is AuthenticationFailed naming the RBAC it needs', async () => {
    const { client } = fakeApi({ 'team-a': annotated }, { now: () => 0, deny: true });
    const identity = await new ServiceAccountTokens({ client }).identity('a', 'team-a');
    const error = await identity.assertion().catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'AuthenticationFailed' });
    expect((error as Error).message).toMatch(/create serviceaccounts\/token/);
  });

  it('a namespace being deleted is said as such, not as missing RBAC', async () => {
    const refuse = new KubeApiError(
      403,
      {
        reason: 'Forbidden',
        message:
          'serviceaccounts "a" is forbidden: unable to create new content in namespace team-a because it is being terminated',
      },
      'POST token',
    );
    const { client } = fakeApi({ 'team-a': annotated }, { now: () => 0, refuse });
    const identity = await new ServiceAccountTokens({ client }).identity('a', 'team-a');
    const error = await identity.assertion().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as Error).message).toMatch(/namespace a is being deleted/);
    expect((error as Error).message).not.toMatch(/grant it/);
  });

  it.each([503, 429])(
    'an API server answering %i is an outage, not a refused identity',
    async (status) => {
      const refuse = new KubeApiError(status, { reason: 'ServiceUnavailable' }, 'POST token');
      const { client } = fakeApi({ 'team-a': annotated }, { now: () => 0, refuse });
      const identity = await new ServiceAccountTokens({ client }).identity('a', 'team-a');
      const error = await identity.assertion().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(IdentityError);
    },
  );

  it('names the issuer from the discovery document, else from the token, never the token', async () => {
    const withDiscovery = fakeApi(
      { 'team-a': annotated },
      { now: () => 0, issuer: 'https://oidc.example/' },
    );
    const a = await new ServiceAccountTokens({ client: withDiscovery.client }).identity(
      'a',
      'team-a',
    );
    const token = await a.assertion();
    const hint = await a.federatedCredentialHint();
    expect(hint).toContain('issuer https://oidc.example/');
    expect(hint).toContain('subject system:serviceaccount:a:team-a');
    expect(hint).toContain('identity client-a');
    expect(hint).not.toContain(token);

    const without = fakeApi({ 'team-a': annotated }, { now: () => 0 });
    const b = await new ServiceAccountTokens({ client: without.client, now: () => 0 }).identity(
      'a',
      'team-a',
    );
    await b.assertion();
    expect(await b.federatedCredentialHint()).toContain('issuer https://issuer.from.token/');
    expect(issuerClaim('not a jwt')).toBeUndefined();
    expect(
      federatedCredentialHint({ namespace: 'a', name: 's', clientId: 'c', issuer: undefined }),
    ).toMatch(/oidcIssuerProfile\.issuerUrl/);
  });
});
