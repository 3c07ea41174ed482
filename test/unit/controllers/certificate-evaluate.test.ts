// Every row of the certificate controller's check chain as plain data (cert-manager's `policies`
// tests are the model): facts in, the failing row's reason, message and condition out.
import { describe, expect, it } from 'vitest';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import {
  evaluateCertificate,
  expiryWarningMs,
  vaultOf,
  type CertificateFacts,
} from '../../../src/controllers/certificate/evaluate.ts';
import { privateUsable, selfSigned } from '../../support/certs.ts';

const HOUR = 3_600_000;
const now = new Date('2026-06-01T00:00:00Z');
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const publicPem = selfSigned('ec256', { notBefore, notAfter }).pem;
const privatePem = privateUsable({ notBefore, notAfter }).pem;

type Vaults = NonNullable<IntegrationAccount['spec']['keyVaults']>;
const azureVault = (name: string, vaultUrl: string): Vaults[number] => ({
  name,
  azure: { vaultUrl, auth: { managedIdentity: {} } },
});

function account(
  over: { sku?: 'Basic' | 'Standard'; keyVaults?: Vaults; ready?: 'True' | 'False' } = {},
): IntegrationAccount {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name: 'contoso', namespace: 'b2b', generation: 1 },
    spec: {
      ...(over.sku ? { sku: over.sku } : {}),
      keyVaults: over.keyVaults ?? [azureVault('main', 'https://kv.vault.azure.net')],
    },
    status: {
      observedGeneration: 1,
      conditions: over.ready
        ? [
            {
              type: 'Ready',
              status: over.ready,
              reason: 'Ready',
              message: '',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ]
        : [],
    },
  };
}

function certificate(spec: Partial<Certificate['spec']> = {}): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: 'fabrikam', namespace: 'b2b', generation: 1 },
    spec: {
      integrationAccount: { name: 'contoso' },
      type: 'Public',
      certificate: { inline: publicPem },
      ...spec,
    },
  };
}

const privateSpec = (vault = 'main'): Partial<Certificate['spec']> => ({
  type: 'Private',
  certificate: { inline: privatePem },
  key: { vault, name: 'fabrikam-signing' },
});

function facts(over: Partial<CertificateFacts> = {}): CertificateFacts {
  const c = over.certificate ?? certificate();
  return {
    certificate: c,
    account: account({ ready: 'True' }),
    quota: { rank: 0, quota: 2 },
    source: { found: true, data: c.spec.certificate.inline ?? '' },
    now,
    allowedVaultHosts: [],
    ...over,
  };
}

const failureOf = (over: Partial<CertificateFacts>) => evaluateCertificate(facts(over)).failure;

describe('evaluateCertificate rows', () => {
  it('passes a Public certificate with nothing to report', () => {
    const e = evaluateCertificate(facts());
    expect(e.failure).toBeUndefined();
    expect(e.verdict?.ok).toBe(true);
    expect(e.info?.publicKey).toEqual({ algorithm: 'EC', size: 256 });
    expect(e.vault).toBeUndefined();
  });

  it('account exists: waits, on Ready, naming the account and namespace', () => {
    expect(failureOf({ account: undefined })).toEqual({
      reason: 'IntegrationAccountNotFound',
      message: 'IntegrationAccount contoso does not exist in namespace b2b; waiting for it',
      terminal: false,
      waiting: true,
      condition: 'Ready',
    });
  });

  it('account Ready: waits when the account is not Ready', () => {
    expect(failureOf({ account: account({ ready: 'False' }) })).toEqual({
      reason: 'IntegrationAccountNotReady',
      message: `IntegrationAccount contoso is not Ready (Ready: ); waiting for it`,
      terminal: false,
      waiting: true,
      condition: 'Ready',
    });
  });

  it.each([
    ['IdentityNotAllowed', true],
    ['ServiceAccountNotFound', false],
    ['ServiceAccountNotAnnotated', false],
  ])(
    "account Ready: the account identity reason %s is the certificate's own",
    (reason, terminal) => {
      const notReady = account({ ready: 'False' });
      notReady.status!.conditions![0]!.reason = reason;
      expect(failureOf({ account: notReady })).toMatchObject({
        reason,
        terminal,
        condition: 'Ready',
      });
    },
  );

  it.each([
    ['no Ready condition', account()],
    ['no status', { ...account(), status: undefined }],
  ])('account Ready: waits, Progressing (no warning), when the account has %s', (_, a) => {
    expect(failureOf({ account: a })).toEqual({
      reason: 'Progressing',
      message: 'IntegrationAccount contoso has no status yet; waiting for its first status',
      terminal: false,
      waiting: true,
      condition: 'Ready',
    });
  });

  it.each([
    [0, 1, undefined],
    [1, 2, undefined],
    [2, 2, 'this is number 3'],
    [5, 2, 'this is number 6'],
  ])('under quota: rank %i of quota %i: %s', (rank, quota, says) => {
    const failure = failureOf({ quota: { rank, quota } });
    if (says === undefined) return expect(failure).toBeUndefined();
    expect(failure).toEqual({
      reason: 'QuotaExceeded',
      message: `IntegrationAccount contoso (sku Standard) holds at most ${quota} certificates and ${says} (certificates already in the store first, then by creation time); delete a certificate or choose a larger sku`,
      terminal: true,
      condition: 'Ready',
    });
  });

  it('under quota: names the account sku', () => {
    const basic = account({ sku: 'Basic', ready: 'True' });
    expect(failureOf({ account: basic, quota: { rank: 1, quota: 1 } })?.message).toMatch(
      /^IntegrationAccount contoso \(sku Basic\) holds at most 1 certificates and this is number 2 /,
    );
  });

  it('source found: waits on CertificateValid with the source message', () => {
    expect(
      failureOf({ source: { found: false, message: 'Secret partner has no key tls.crt' } }),
    ).toEqual({
      reason: 'CertificateSourceNotFound',
      message: 'Secret partner has no key tls.crt',
      terminal: false,
      waiting: true,
      condition: 'CertificateValid',
    });
    const e = evaluateCertificate(facts({ source: { found: false, message: 'x' } }));
    expect(e.verdict).toBeUndefined();
    expect(e.info).toBeUndefined();
    expect(e.expiry).toBeUndefined();
  });

  it.each([
    ['garbage', 'Public', now, 'InvalidCertificate'],
    [publicPem, 'Public', notAfter, 'CertificateExpired'],
    [publicPem, 'Public', new Date(notBefore.getTime() - 1), 'CertificateNotYetValid'],
    [publicPem, 'Private', now, 'UnsupportedKeyAlgorithm'],
    [selfSigned('rsa2048', { notBefore, notAfter }).pem, 'Private', now, 'MissingDataEncipherment'],
  ] as const)('certificate valid: %#: %s %s at %s fails with %s', (pem, type, at, reason) => {
    const c = certificate({
      type,
      certificate: { inline: pem },
      ...(type === 'Private' ? { key: { vault: 'main', name: 'k' } } : {}),
    });
    const e = evaluateCertificate(facts({ certificate: c, now: at }));
    // Not yet valid: time fixes it, so it waits (no Stalled) for the requeue at notBefore.
    const terminal = reason !== 'CertificateNotYetValid';
    expect(e.failure).toMatchObject({ reason, terminal, condition: 'CertificateValid' });
    expect(e.verdict?.ok).toBe(false);
    expect(e.failure?.message).toBe(e.verdict && !e.verdict.ok ? e.verdict.failure.message : '');
  });

  it('vault configured: an unknown key.vault is VaultNotConfigured on KeyVaultAccessGranted', () => {
    const e = evaluateCertificate(facts({ certificate: certificate(privateSpec('other')) }));
    expect(e.failure).toEqual({
      reason: 'VaultNotConfigured',
      message:
        'key.vault other is not a vault of IntegrationAccount contoso (its spec.keyVaults: main)',
      terminal: true,
      condition: 'KeyVaultAccessGranted',
    });
    expect(e.vault).toBeUndefined();
    expect(e.info).toBeDefined();
  });

  it('vault host allowed: an unknown host is VaultHostNotAllowed', () => {
    const evil = account({
      ready: 'True',
      keyVaults: [azureVault('main', 'https://evil.example.com')],
    });
    expect(failureOf({ certificate: certificate(privateSpec()), account: evil })).toMatchObject({
      reason: 'VaultHostNotAllowed',
      terminal: true,
      condition: 'KeyVaultAccessGranted',
    });
  });

  it('passes a Private certificate with its vault connection', () => {
    const e = evaluateCertificate(facts({ certificate: certificate(privateSpec()) }));
    expect(e.failure).toBeUndefined();
    expect(e.vault).toEqual({
      name: 'main',
      kind: 'azure',
      vaultUrl: 'https://kv.vault.azure.net',
      extraHost: false,
      azureAuth: { managedIdentity: {} },
    });
  });

  it.each([
    ['account', { account: undefined }, 'IntegrationAccountNotFound'],
    ['account Ready', { account: account({ ready: 'False' }) }, 'IntegrationAccountNotReady'],
    // A certificate that can never be stored takes no quota place: a waiting source, here.
    [
      'quota',
      {
        quota: { rank: 9, quota: 1 },
        source: { found: false, message: 'gone' },
        certificate: certificate(),
      },
      'QuotaExceeded',
    ],
    ['source', { source: { found: false, message: 'gone' } }, 'CertificateSourceNotFound'],
    ['certificate', { source: { found: true, data: 'x' } }, 'InvalidCertificate'],
  ] as [string, Partial<CertificateFacts>, string][])(
    'runs in table order: a failing %s row wins over every later one',
    (row, over, reason) => {
      // Every later row fails too: a quota of 0, bad data, an unknown vault.
      const later: Partial<CertificateFacts> = {
        quota: { rank: 0, quota: 0 },
        source: { found: true, data: 'garbage' },
        certificate: certificate(privateSpec('other')),
      };
      const steps = ['account', 'account Ready', 'quota', 'source', 'certificate'];
      const rest = Object.fromEntries(
        Object.entries(later).filter(([key]) => {
          const owner = { quota: 'quota', source: 'source', certificate: 'certificate' }[key]!;
          return steps.indexOf(owner) > steps.indexOf(row);
        }),
      );
      expect(failureOf({ ...rest, ...over })?.reason).toBe(reason);
    },
  );
});

describe('vaultOf', () => {
  const vaultFacts = (c: Certificate, a: IntegrationAccount | undefined, hosts: string[] = []) => ({
    certificate: c,
    account: a,
    allowedVaultHosts: hosts,
  });

  it('is undefined for a Public certificate and for a Private one without a key', () => {
    expect(vaultOf(vaultFacts(certificate({ key: { vault: 'main', name: 'k' } }), account()))).toBe(
      undefined,
    );
    expect(vaultOf(vaultFacts(certificate({ type: 'Private' }), account()))).toBeUndefined();
  });

  it('lists the account vaults, or none, when key.vault is unknown', () => {
    const two = account({
      keyVaults: [azureVault('a', 'https://a.vault.azure.net'), { name: 'b', kubernetes: {} }],
    });
    expect(vaultOf(vaultFacts(certificate(privateSpec('x')), two))).toEqual({
      ok: false,
      failure: {
        reason: 'VaultNotConfigured',
        message:
          'key.vault x is not a vault of IntegrationAccount contoso (its spec.keyVaults: a, b)',
        terminal: true,
      },
    });
    const none = { ...account(), spec: {} };
    expect(vaultOf(vaultFacts(certificate(privateSpec('x')), none))).toMatchObject({
      failure: { message: expect.stringMatching(/\(its spec\.keyVaults: none\)$/) as string },
    });
    expect(
      vaultOf(vaultFacts(certificate(privateSpec('x')), account({ keyVaults: [] }))),
    ).toMatchObject({ failure: { message: expect.stringMatching(/: none\)$/) as string } });
    expect(vaultOf(vaultFacts(certificate(privateSpec('x')), undefined))).toMatchObject({
      ok: false,
      failure: { reason: 'VaultNotConfigured' },
    });
  });

  it('connects a kubernetes vault to the certificate namespace', () => {
    const k8s = account({ keyVaults: [{ name: 'main', kubernetes: {} }] });
    expect(vaultOf(vaultFacts(certificate(privateSpec()), k8s))).toEqual({
      ok: true,
      vault: { name: 'main', kind: 'kubernetes', vaultUrl: 'kubernetes://b2b', extraHost: false },
    });
  });

  it('picks the named vault among several', () => {
    const several = account({
      keyVaults: [
        azureVault('first', 'https://first.vault.azure.net'),
        azureVault('main', 'https://main.vault.azure.net'),
      ],
    });
    expect(vaultOf(vaultFacts(certificate(privateSpec()), several))).toMatchObject({
      ok: true,
      vault: { name: 'main', vaultUrl: 'https://main.vault.azure.net' },
    });
  });

  it('allows an extra host from --allowed-vault-hosts and says so', () => {
    const emulator = account({ keyVaults: [azureVault('main', 'https://localhost:8443')] });
    expect(vaultOf(vaultFacts(certificate(privateSpec()), emulator, ['localhost:8443']))).toEqual({
      ok: true,
      vault: {
        name: 'main',
        kind: 'azure',
        vaultUrl: 'https://localhost:8443',
        extraHost: true,
        azureAuth: { managedIdentity: {} },
      },
    });
  });

  it('refuses a host outside Azure and the allowed list, and a vault without a URL', () => {
    const emulator = account({ keyVaults: [azureVault('main', 'https://localhost:8443')] });
    expect(vaultOf(vaultFacts(certificate(privateSpec()), emulator))).toEqual({
      ok: false,
      failure: {
        reason: 'VaultHostNotAllowed',
        message: expect.stringMatching(
          /^key vault main: vault host localhost:8443 is not an Azure Key Vault host/,
        ) as string,
        terminal: true,
      },
    });
    const noUrl = account({ keyVaults: [{ name: 'main' }] });
    expect(vaultOf(vaultFacts(certificate(privateSpec()), noUrl))).toEqual({
      ok: false,
      failure: {
        reason: 'VaultHostNotAllowed',
        message: 'key vault main: vault URL "" is not a URL',
        terminal: true,
      },
    });
  });
});

describe('expiry warning', () => {
  it.each([
    [undefined, 720 * HOUR],
    ['', 720 * HOUR],
    ['48h', 48 * HOUR],
    ['90m', 1.5 * HOUR],
    ['ten days', 720 * HOUR],
  ])('expiryWarning %j is %i ms', (expiryWarning, ms) => {
    const c = certificate(expiryWarning === undefined ? {} : { expiryWarning });
    expect(expiryWarningMs(c)).toBe(ms);
  });

  it('applies the certificate expiryWarning to the expiry status', () => {
    const at = new Date(notAfter.getTime() - 47 * HOUR);
    const soon = evaluateCertificate(
      facts({ certificate: certificate({ expiryWarning: '48h' }), now: at }),
    );
    expect(soon.expiry).toEqual({
      expiring: true,
      message: 'the certificate expires at 2027-01-01T00:00:00Z; renew it before then',
      nextTransition: notAfter,
    });
    const later = evaluateCertificate(
      facts({ certificate: certificate({ expiryWarning: '24h' }), now: at }),
    );
    expect(later.expiry?.expiring).toBe(false);
    expect(later.expiry?.nextTransition).toEqual(new Date(notAfter.getTime() - 24 * HOUR));
  });

  it('reports expiry for a certificate that failed a later row, and none without one', () => {
    const e = evaluateCertificate(facts({ quota: { rank: 3, quota: 1 } }));
    expect(e.failure?.reason).toBe('QuotaExceeded');
    expect(e.expiry?.expiring).toBe(false);
    const bad = evaluateCertificate(facts({ source: { found: true, data: 'x' } }));
    expect(bad.info).toBeUndefined();
    expect(bad.expiry).toBeUndefined();
  });
});
