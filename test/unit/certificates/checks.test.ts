import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/reasons.ts';
import {
  certificateChecks,
  dataEnciphermentForPrivate,
  expiryStatus,
  firstFailure,
  rsaKeyForPrivate,
  verifyCertificateSource,
  withinValidityWindow,
  type CertificateFacts,
} from '../../../src/certificates/checks.ts';
import { parseGoDuration } from '../../../src/certificates/duration.ts';
import { inspectCertificate, type CertificateInfo } from '../../../src/certificates/inspect.ts';
import { privateUsable, selfSigned } from '../../support/certs.ts';
import { buildCertificate, pem } from '../../support/der-builder.ts';
import { keyPair } from '../../support/keys.ts';

const DAY = 86_400_000;
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const inWindow = new Date('2026-06-01T00:00:00Z');

function reasonOf(source: string, type: 'Public' | 'Private', now = inWindow) {
  const verdict = verifyCertificateSource(source, type, now);
  return verdict.ok
    ? 'ok'
    : `${verdict.failure.reason}${verdict.failure.terminal ? ' (terminal)' : ''}`;
}

describe('verifyCertificateSource', () => {
  const good = privateUsable({ notBefore, notAfter }).pem;

  it('accepts a valid Private certificate and the same as Public', () => {
    expect(reasonOf(good, 'Private')).toBe('ok');
    expect(reasonOf(good, 'Public')).toBe('ok');
  });

  it('checks the validity window against the injected clock', () => {
    expect(reasonOf(good, 'Public', new Date(notBefore.getTime() - 1))).toBe(
      'CertificateNotYetValid',
    );
    expect(reasonOf(good, 'Public', notBefore)).toBe('ok');
    expect(reasonOf(good, 'Public', new Date(notAfter.getTime() - 1))).toBe('ok');
    expect(reasonOf(good, 'Public', notAfter)).toBe('CertificateExpired (terminal)');
  });

  it('requires RSA for Private only', () => {
    const ec = selfSigned('ec256', {
      notBefore,
      notAfter,
      keyUsage: ['digitalSignature', 'dataEncipherment'],
    }).pem;
    expect(reasonOf(ec, 'Public')).toBe('ok');
    expect(reasonOf(ec, 'Private')).toBe('UnsupportedKeyAlgorithm (terminal)');
    const ed = selfSigned('ed25519', { notBefore, notAfter, keyUsage: ['dataEncipherment'] }).pem;
    const verdict = verifyCertificateSource(ed, 'Private', inWindow);
    expect(verdict.ok ? '' : verdict.failure.message).toMatch(
      /needs an RSA key .* Ed25519 256-bit/,
    );
  });

  it('refuses an RSA-PSS key for Private: it signs only and cannot decrypt (RSA-OAEP)', () => {
    // SubjectPublicKeyInfo id-RSASSA-PSS (1.2.840.113549.1.1.10), signed by an ordinary RSA CA.
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const der = buildCertificate({
      subjectKey: pss.publicKey,
      signingKey: keyPair('rsa2048').privateKey,
      notBefore,
      notAfter,
      keyUsage: ['digitalSignature', 'dataEncipherment'],
    });
    expect(reasonOf(pem(der), 'Public')).toBe('ok');
    const verdict = verifyCertificateSource(pem(der), 'Private', inWindow);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.failure.reason).toBe('UnsupportedKeyAlgorithm');
    expect(verdict.failure.terminal).toBe(true);
    expect(verdict.failure.message).toMatch(
      /RSA-PSS 2048-bit key \(id-RSASSA-PSS: .*cannot decrypt/,
    );
    expect(verdict.certificate?.publicKey).toEqual({ algorithm: 'RSA-PSS', size: 2048 });
  });

  it('requires Data Encipherment for Private only', () => {
    const noDe = selfSigned('rsa2048', {
      notBefore,
      notAfter,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
    }).pem;
    expect(reasonOf(noDe, 'Public')).toBe('ok');
    const verdict = verifyCertificateSource(noDe, 'Private', inWindow);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.failure.reason).toBe('MissingDataEncipherment');
    expect(verdict.failure.message).toMatch(/Key Usage is digitalSignature, keyEncipherment/);
    expect(verdict.certificate?.thumbprint).toMatch(/^[0-9A-F]{40}$/);

    const noExtension = selfSigned('rsa2048', { notBefore, notAfter }).pem;
    const v2 = verifyCertificateSource(noExtension, 'Private', inWindow);
    expect(v2.ok ? '' : v2.failure.message).toMatch(/no Key Usage extension/);
  });

  it('reports the first failing check in table order', () => {
    const expiredEc = selfSigned('ec256', { notBefore, notAfter }).pem;
    expect(reasonOf(expiredEc, 'Private', new Date('2030-01-01T00:00:00Z'))).toBe(
      'CertificateExpired (terminal)',
    );
    expect(reasonOf('garbage', 'Private')).toBe('InvalidCertificate (terminal)');
  });
});

describe('expiryStatus', () => {
  const cert = inspectCertificate(privateUsable({ notBefore, notAfter }).der);
  const warning = 30 * DAY;

  it('is not expiring before the window and says when the window opens', () => {
    const s = expiryStatus(cert, inWindow, warning);
    expect(s.expiring).toBe(false);
    expect(s.nextTransition?.toISOString()).toBe(
      new Date(notAfter.getTime() - warning).toISOString(),
    );
  });

  it('is expiring inside the window, and next changes at notAfter', () => {
    const s = expiryStatus(cert, new Date(notAfter.getTime() - warning), warning);
    expect(s.expiring).toBe(true);
    expect(s.message).toMatch(/expires at 2027-01-01T00:00:00Z/);
    expect(s.nextTransition?.toISOString()).toBe(notAfter.toISOString());
  });

  it('looks forward to notBefore for a certificate not yet valid', () => {
    const s = expiryStatus(cert, new Date(notBefore.getTime() - DAY), warning);
    expect(s.nextTransition?.toISOString()).toBe(notBefore.toISOString());
  });

  it('waits for notBefore, not Expiring, when a short-lived certificate is not yet valid', () => {
    // Ten days of validity under a 30-day warning: the window is open before notBefore.
    const shortBefore = new Date('2026-06-02T00:00:00Z');
    const shortAfter = new Date('2026-06-12T00:00:00Z');
    const short = inspectCertificate(
      privateUsable({ notBefore: shortBefore, notAfter: shortAfter }).der,
    );
    const s = expiryStatus(short, new Date(shortBefore.getTime() - 3_600_000), warning);
    expect(s.expiring).toBe(false);
    expect(s.nextTransition?.toISOString()).toBe(shortBefore.toISOString());
    expect(s.message).toMatch(/not valid before 2026-06-02T00:00:00Z/);
    const atStart = expiryStatus(short, shortBefore, warning);
    expect(atStart.expiring).toBe(true);
    expect(atStart.nextTransition?.toISOString()).toBe(shortAfter.toISOString());
  });

  it('has nothing left to wait for after notAfter, and is expired rather than expiring', () => {
    const s = expiryStatus(cert, new Date(notAfter.getTime() + 1), warning);
    expect(s.expiring).toBe(false);
    expect(s.expired).toBe(true);
    expect(s.nextTransition).toBeUndefined();
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['720h', 720 * 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['90s', 90_000],
    ['250ms', 250],
  ])('parses %s', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['', 'h', '10', '10d', '1h 30m', '-1h', 'abc'])('refuses %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

// Each row as plain data, cert-manager `policies` style: facts in, failure (or none) out.
describe('certificate check rows', () => {
  const base = inspectCertificate(privateUsable({ notBefore, notAfter }).der);
  const info = (over: Partial<CertificateInfo> = {}): CertificateInfo => ({ ...base, ...over });
  const facts = (
    over: Partial<CertificateInfo> = {},
    type: 'Public' | 'Private' = 'Private',
    now = inWindow,
  ): CertificateFacts => ({ type, certificate: info(over), now });

  describe('withinValidityWindow', () => {
    it.each([
      ['one ms before notBefore', new Date(notBefore.getTime() - 1), 'CertificateNotYetValid'],
      ['at notBefore', notBefore, undefined],
      ['inside the window', inWindow, undefined],
      ['one ms before notAfter', new Date(notAfter.getTime() - 1), undefined],
      ['at notAfter', notAfter, 'CertificateExpired'],
      ['after notAfter', new Date(notAfter.getTime() + DAY), 'CertificateExpired'],
    ])('%s: %s', (_, now, reason) => {
      expect(withinValidityWindow(facts({}, 'Public', now))?.reason).toBe(reason);
    });

    it('says when a certificate becomes usable (time fixes it) and when it expired, terminally', () => {
      expect(withinValidityWindow(facts({}, 'Public', new Date(0)))).toEqual({
        reason: 'CertificateNotYetValid',
        message: 'the certificate is not valid before 2026-01-01T00:00:00Z; it becomes usable then',
        terminal: false,
      });
      expect(withinValidityWindow(facts({}, 'Public', notAfter))).toEqual({
        reason: 'CertificateExpired',
        message:
          'the certificate expired at 2027-01-01T00:00:00Z; renew it and update the certificate source',
        terminal: true,
      });
    });

    it('keeps milliseconds in the message when the date has them', () => {
      const odd = new Date('2026-01-01T00:00:00.500Z');
      const failure = withinValidityWindow(facts({ notBefore: odd }, 'Public', notBefore));
      expect(failure?.message).toContain('2026-01-01T00:00:00.500Z');
    });
  });

  describe('rsaKeyForPrivate', () => {
    it.each([
      ['Public', 'EC', 256, undefined],
      ['Public', 'RSA-PSS', 2048, undefined],
      ['Private', 'RSA', 2048, undefined],
      ['Private', 'EC', 384, 'EC 384-bit key'],
      ['Private', 'Ed25519', 256, 'Ed25519 256-bit key'],
      ['Private', 'Ed448', 456, 'Ed448 456-bit key'],
      ['Private', 'DSA', 2048, 'DSA 2048-bit key'],
      ['Private', 'RSA-PSS', 3072, 'RSA-PSS 3072-bit key'],
      ['Private', 'RSA', 512, 'RSA 512-bit key'],
      ['Private', 'RSA', 1024, 'RSA 1024-bit key'],
      ['Private', 'RSA', 16384, undefined],
      ['Public', 'RSA', 512, undefined],
    ] as const)('%s %s %i: %s', (type, algorithm, size, names) => {
      const failure = rsaKeyForPrivate(facts({ publicKey: { algorithm, size } }, type));
      if (names === undefined) return expect(failure).toBeUndefined();
      expect(failure?.reason).toBe('UnsupportedKeyAlgorithm');
      expect(failure?.terminal).toBe(true);
      expect(failure?.message).toContain(`this certificate has a ${names}`);
    });

    it('explains the RSA-PSS case in words and the others without it', () => {
      expect(rsaKeyForPrivate(facts({ publicKey: { algorithm: 'EC', size: 256 } }))?.message).toBe(
        'a Private certificate needs an RSA key (B2B messages are signed and decrypted with RSA in the vault); this certificate has a EC 256-bit key',
      );
      expect(
        rsaKeyForPrivate(facts({ publicKey: { algorithm: 'RSA-PSS', size: 2048 } }))?.message,
      ).toBe(
        'a Private certificate needs an RSA key (B2B messages are signed and decrypted with RSA in the vault); this certificate has a RSA-PSS 2048-bit key (id-RSASSA-PSS: the key is restricted to PSS signatures and cannot decrypt with RSA-OAEP); reissue it with an rsaEncryption key',
      );
    });
  });

  it('says why an RSA key under 2048 bits cannot be a Private certificate', () => {
    expect(rsaKeyForPrivate(facts({ publicKey: { algorithm: 'RSA', size: 512 } }))?.message).toBe(
      'a Private certificate needs an RSA key of at least 2048 bits (Azure Key Vault holds RSA keys of 2048, 3072 and 4096 bits, and RSA-OAEP-256 does not fit in a smaller one); this certificate has a RSA 512-bit key; reissue it with a larger key',
    );
  });

  describe('dataEnciphermentForPrivate', () => {
    it.each([
      ['Public', undefined, undefined],
      ['Public', [], undefined],
      ['Private', ['dataEncipherment'], undefined],
      ['Private', ['digitalSignature', 'dataEncipherment'], undefined],
      ['Private', undefined, 'it has no Key Usage extension'],
      ['Private', [], 'its Key Usage is empty'],
      ['Private', ['keyEncipherment'], 'its Key Usage is keyEncipherment'],
      [
        'Private',
        ['digitalSignature', 'keyEncipherment'],
        'its Key Usage is digitalSignature, keyEncipherment',
      ],
    ] as const)('%s with %j: %s', (type, keyUsage, has) => {
      const failure = dataEnciphermentForPrivate(
        facts({ keyUsage: keyUsage && [...keyUsage] }, type),
      );
      if (has === undefined) return expect(failure).toBeUndefined();
      expect(failure).toEqual({
        reason: 'MissingDataEncipherment',
        message: `a Private certificate's Key Usage must include Data Encipherment for B2B encryption, but ${has}; reissue the certificate with dataEncipherment`,
        terminal: true,
      });
    });
  });

  it('runs the rows in API.md order', () => {
    expect(certificateChecks).toEqual([
      withinValidityWindow,
      rsaKeyForPrivate,
      dataEnciphermentForPrivate,
    ]);
  });

  it('firstFailure returns the first failing check and runs none after it', () => {
    const calls: string[] = [];
    const pass = (name: string) => () => void calls.push(name);
    const fail = (name: string) => () => {
      calls.push(name);
      return { reason: Reason.QuotaExceeded, message: name, terminal: false };
    };
    expect(firstFailure([pass('a'), fail('b'), fail('c')], {})?.message).toBe('b');
    expect(calls).toEqual(['a', 'b']);
    expect(firstFailure([pass('d')], {})).toBeUndefined();
    expect(firstFailure([], {})).toBeUndefined();
  });
});

describe('verifyCertificateSource verdicts', () => {
  const source = privateUsable({ notBefore, notAfter });

  it('passes the parse result through when every row passes', () => {
    const verdict = verifyCertificateSource(source.pem + source.pem, 'Private', inWindow);
    expect(verdict).toMatchObject({ ok: true, ignoredCertificates: 1 });
    expect(verdict.ok && verdict.certificate.thumbprint).toBe(
      inspectCertificate(source.der).thumbprint,
    );
  });

  it('turns a parse failure into a terminal failure without a certificate', () => {
    expect(verifyCertificateSource('', 'Public', inWindow)).toEqual({
      ok: false,
      failure: {
        reason: 'InvalidCertificate',
        message: 'the certificate source is empty',
        terminal: true,
      },
    });
  });

  it('keeps the inspected certificate with a row failure', () => {
    const verdict = verifyCertificateSource(source.der, 'Public', notAfter);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.failure.reason).toBe('CertificateExpired');
    expect(verdict.certificate?.notAfter.toISOString()).toBe(notAfter.toISOString());
  });
});

describe('expiryStatus messages', () => {
  const cert = inspectCertificate(privateUsable({ notBefore, notAfter }).der);
  const warning = 30 * DAY;
  const warnAt = new Date(notAfter.getTime() - warning);

  it.each([
    [
      'before notBefore',
      new Date(notBefore.getTime() - 1),
      false,
      'the certificate is not valid before 2026-01-01T00:00:00Z; it expires at 2027-01-01T00:00:00Z',
      notBefore,
    ],
    ['at notBefore', notBefore, false, 'the certificate expires at 2027-01-01T00:00:00Z', warnAt],
    [
      'one ms before the window',
      new Date(warnAt.getTime() - 1),
      false,
      'the certificate expires at 2027-01-01T00:00:00Z',
      warnAt,
    ],
    [
      'at the window',
      warnAt,
      true,
      'the certificate expires at 2027-01-01T00:00:00Z; renew it before then',
      notAfter,
    ],
    [
      'one ms before notAfter',
      new Date(notAfter.getTime() - 1),
      true,
      'the certificate expires at 2027-01-01T00:00:00Z; renew it before then',
      notAfter,
    ],
    ['at notAfter', notAfter, false, 'the certificate expired at 2027-01-01T00:00:00Z', undefined],
  ])('%s', (_, now, expiring, message, next) => {
    expect(expiryStatus(cert, now, warning)).toEqual({
      expiring,
      message,
      nextTransition: next,
      ...(now >= notAfter ? { expired: true } : {}),
    });
  });

  it('opens the window at notBefore when the warning is longer than the validity', () => {
    expect(expiryStatus(cert, notBefore, 400 * DAY)).toMatchObject({
      expiring: true,
      nextTransition: notAfter,
    });
  });
});
