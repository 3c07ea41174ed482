import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expiryStatus, verifyCertificateSource } from '../../../src/certificates/checks.ts';
import { parseGoDuration } from '../../../src/certificates/duration.ts';
import { inspectCertificate } from '../../../src/certificates/inspect.ts';
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
      'CertificateNotYetValid (terminal)',
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

  it('has nothing left to wait for after notAfter', () => {
    const s = expiryStatus(cert, new Date(notAfter.getTime() + 1), warning);
    expect(s.expiring).toBe(true);
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
