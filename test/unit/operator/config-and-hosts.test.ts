import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/operator/config.ts';
import { checkVaultHost } from '../../../src/vaults/hosts.ts';
import { createLogger } from '../../../src/operator/log.ts';

describe('parseConfig', () => {
  it('has the defaults of API.md', () => {
    expect(parseConfig([], {})).toMatchObject({
      watchNamespaces: [],
      watchLabelSelector: '',
      leaderElect: false,
      leaderElectionId: 'b2b-certificate-operator',
      concurrency: 4,
      recheckIntervalMs: 3_600_000,
      allowedVaultHosts: [],
      metricsBindAddress: ':8080',
      healthProbeBindAddress: ':8081',
      logLevel: 'info',
    });
  });

  it('reads flags, and B2B_<FLAG> environment variables under them', () => {
    const c = parseConfig(
      ['--leader-elect', '--concurrency=8', '--allowed-vault-hosts', 'localhost:8443, kv.local'],
      {
        B2B_WATCH_NAMESPACE: 'b2b',
        B2B_CONCURRENCY: '2',
        B2B_RECHECK_INTERVAL: '90s',
      },
    );
    expect(c).toMatchObject({
      leaderElect: true,
      concurrency: 8,
      watchNamespaces: ['b2b'],
      recheckIntervalMs: 90_000,
      allowedVaultHosts: ['localhost:8443', 'kv.local'],
    });
  });

  it('takes a list of namespaces, and a label selector that gives the shard a Lease of its own', () => {
    const a = parseConfig(
      ['--watch-namespace', 'edi, as2', '--watch-label-selector=integration.b2b.dev/shard=a'],
      {},
    );
    expect(a.watchNamespaces).toEqual(['edi', 'as2']);
    expect(a.watchLabelSelector).toBe('integration.b2b.dev/shard=a');
    expect(a.leaderElectionId).toMatch(
      /^b2b-certificate-operator-integration\.b2b\.dev-shard-a-[0-9a-f]{8}$/,
    );
    const notA = parseConfig(['--watch-label-selector=integration.b2b.dev/shard!=a'], {});
    expect(notA.leaderElectionId).not.toBe(a.leaderElectionId);
    // A Lease name given explicitly is kept as written.
    const named = parseConfig(
      ['--watch-label-selector=integration.b2b.dev/shard=a', '--leader-election-id=shard-a'],
      {},
    );
    expect(named.leaderElectionId).toBe('shard-a');
  });

  it.each([
    ['--watch-label-selector=shard in a', /--watch-label-selector: cannot read "shard in a"/],
    ['--watch-namespace=b2b,Not_A_Namespace', /"Not_A_Namespace" is not a namespace name/],
  ])('refuses %s, saying why', (arg, message) => {
    expect(() => parseConfig([arg], {})).toThrow(message);
  });

  it.each([['--concurrency=0'], ['--recheck-interval=soon'], ['--log-level=loud'], ['--nope']])(
    'refuses %s clearly',
    (arg) => {
      expect(() => parseConfig([arg], {})).toThrow(ConfigError);
    },
  );
});

describe('checkVaultHost', () => {
  it.each([
    'https://contoso-kv.vault.azure.net',
    'https://contoso-kv.vault.azure.cn/',
    'https://contoso-kv.vault.usgovcloudapi.net',
    'https://contoso.managedhsm.azure.net',
  ])('allows the Azure Key Vault host %s', (url) => {
    expect(checkVaultHost(url, [])).toEqual({ allowed: true, extraHost: false });
  });

  it.each([
    ['https://evil.example.com', /not an Azure Key Vault host/],
    ['https://vault.azure.net.evil.com', /not an Azure Key Vault host/],
    ['https://.vault.azure.net', /not a URL|not an Azure/],
    ['http://contoso.vault.azure.net', /must use https/],
    ['https://user:pw@contoso.vault.azure.net', /credentials/],
    ['https://contoso.vault.azure.net:8443', /not an Azure Key Vault host/],
    ['not a url', /not a URL/],
  ])('refuses %s', (url, message) => {
    const v = checkVaultHost(url, []);
    expect(v.allowed).toBe(false);
    expect(v.allowed ? '' : v.message).toMatch(message);
  });

  it('allows --allowed-vault-hosts entries, by host or host:port, and says so', () => {
    expect(checkVaultHost('https://localhost:8443', ['localhost:8443'])).toEqual({
      allowed: true,
      extraHost: true,
    });
    expect(checkVaultHost('https://localhost:9443', ['localhost'])).toEqual({
      allowed: true,
      extraHost: true,
    });
    expect(checkVaultHost('https://localhost:9443', ['localhost:8443']).allowed).toBe(false);
  });
});

describe('logger', () => {
  it('writes JSON lines and redacts fields that look like secrets', () => {
    const lines: string[] = [];
    const log = createLogger('info', { logger: 't' }, (l) => lines.push(l));
    log.debug('hidden');
    log.info('hello', { token: 'abc', privateKeyPem: 'x', name: 'n' });
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      level: 'info',
      msg: 'hello',
      logger: 't',
      token: '[redacted]',
      privateKeyPem: '[redacted]',
      name: 'n',
    });
  });
});
