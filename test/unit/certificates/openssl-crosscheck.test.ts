// Cross-checks inspection against openssl on every certificate of the system CA bundle: real
// certificates that nobody here wrote.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificateSource } from '../../../src/certificates/parse.ts';

const BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const opensslKeyUsage: Record<string, string> = {
  'Digital Signature': 'digitalSignature',
  'Non Repudiation': 'nonRepudiation',
  'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment',
  'Key Agreement': 'keyAgreement',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
  'Encipher Only': 'encipherOnly',
  'Decipher Only': 'decipherOnly',
};

interface OpensslView {
  subject: string;
  issuer: string;
  thumbprint: string;
  sha256: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  algorithm: string;
  size: number;
  keyUsage: string[] | undefined;
}

function opensslView(pem: string): OpensslView {
  const out = execFileSync(
    'openssl',
    [
      'x509',
      '-noout',
      '-fingerprint',
      '-sha1',
      '-serial',
      '-startdate',
      '-enddate',
      '-text',
      '-certopt',
      'no_sigdump',
    ],
    { input: pem, encoding: 'utf8' },
  );
  const sha256 = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], {
    input: pem,
    encoding: 'utf8',
  });
  const names = execFileSync(
    'openssl',
    ['x509', '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'],
    {
      input: pem,
      encoding: 'utf8',
    },
  );
  const field = (re: RegExp, text = out) => re.exec(text)?.[1] ?? '';
  const algorithmText = field(/Public Key Algorithm: (\S+)/);
  const algorithm =
    algorithmText === 'rsaEncryption'
      ? 'RSA'
      : algorithmText === 'id-ecPublicKey'
        ? 'EC'
        : algorithmText === 'ED25519'
          ? 'Ed25519'
          : algorithmText;
  const kuLine = /X509v3 Key Usage:.*\n\s*(.*)/.exec(out)?.[1];
  return {
    subject: field(/^subject=(.*)$/m, names),
    issuer: field(/^issuer=(.*)$/m, names),
    thumbprint: field(/SHA1 Fingerprint=(\S+)/i).replace(/:/g, ''),
    sha256: field(/sha256 Fingerprint=(\S+)/i, sha256).replace(/:/g, ''),
    serial: field(/^serial=(\S+)/m),
    notBefore: new Date(field(/^notBefore=(.*)$/m)).toISOString(),
    notAfter: new Date(field(/^notAfter=(.*)$/m)).toISOString(),
    algorithm,
    size: Number(field(/Public-Key: \((\d+) bit\)/)),
    keyUsage: kuLine?.split(',').map((s) => opensslKeyUsage[s.trim()] ?? `unknown:${s.trim()}`),
  };
}

describe.skipIf(!existsSync(BUNDLE))(`openssl cross-check on ${BUNDLE}`, () => {
  it('agrees with openssl x509 on every certificate of the bundle', () => {
    const blocks =
      readFileSync(BUNDLE, 'utf8').match(
        /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g,
      ) ?? [];
    expect(blocks.length).toBeGreaterThan(50);
    let compared = 0;
    let namesSkipped = 0;
    for (const pem of blocks) {
      const parsed = parseCertificateSource(pem);
      if (!parsed.ok) throw new Error(`not parsed: ${parsed.message}\n${pem}`);
      const c = parsed.certificate;
      const ours: OpensslView = {
        subject: c.subject,
        issuer: c.issuer,
        thumbprint: c.thumbprint,
        sha256: c.sha256Fingerprint,
        serial: c.serialNumber,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
        algorithm: c.publicKey.algorithm,
        size: c.publicKey.size,
        keyUsage: c.keyUsage,
      };
      const theirs = opensslView(pem);
      // openssl's RFC2253 output escapes non-ASCII as \\XX bytes; RFC 4514 keeps UTF-8 as is.
      if (/\\[0-9A-F]{2}/.test(theirs.subject + theirs.issuer)) {
        theirs.subject = ours.subject;
        theirs.issuer = ours.issuer;
        namesSkipped++;
      }
      expect(ours).toEqual(theirs);
      compared++;
    }
    console.log(
      `openssl cross-check: compared ${compared} of ${blocks.length} certificates in ${BUNDLE} ` +
        `(names of ${compared - namesSkipped}; ${namesSkipped} with non-ASCII names compared on the other fields)`,
    );
    expect(compared).toBe(blocks.length);
    // 144 openssl processes: on a loaded 2-core machine this took 147 s.
  }, 300_000);
});
