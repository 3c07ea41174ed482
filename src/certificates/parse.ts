// Parsing of what users actually have: PEM (one certificate or a bundle), base64 of DER
// (a .cer file), or raw DER bytes. Data in, verdict out; never throws.
import { createPrivateKey } from 'node:crypto';
import { inspectCertificate, type CertificateInfo } from './inspect.ts';

// A Secret or ConfigMap holds at most 1 MiB (the API server's limit), and a CA bundle in one
// is often over 64 KiB; inline sources are held to 64 KiB by the CRD schema.
export const MAX_SOURCE_BYTES = 1024 * 1024;

export type ParseFailureReason = 'InvalidCertificate' | 'PrivateKeyInCertificate';

export type ParseResult =
  | { ok: true; certificate: CertificateInfo; ignoredCertificates: number }
  | { ok: false; reason: ParseFailureReason; message: string };

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 #]+)-----/g;
const PEM_END = /-----END ([A-Z0-9 #]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

const invalid = (message: string): ParseResult => ({
  ok: false,
  reason: 'InvalidCertificate',
  message,
});
const privateKeyFound = (what: string): ParseResult => ({
  ok: false,
  reason: 'PrivateKeyInCertificate',
  message: `the certificate source holds a private key (${what}); remove it: private keys stay in the key vault and must not be part of a certificate source`,
});

/** Parses a certificate source (text or bytes) and inspects the certificate it holds. */
export function parseCertificateSource(input: string | Uint8Array): ParseResult {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > MAX_SOURCE_BYTES) {
    return invalid(
      `the certificate source is ${size} bytes; at most ${MAX_SOURCE_BYTES} (1 MiB) are accepted`,
    );
  }
  if (typeof input !== 'string' && input[0] === 0x30) return parseDer(input, 'DER');
  const text = (typeof input === 'string' ? input : Buffer.from(input).toString('utf8'))
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .trim();
  if (text.length === 0) return invalid('the certificate source is empty');
  if (text.includes('-----BEGIN ')) return parsePem(text);
  return parseBase64Der(text);
}

function parsePem(text: string): ParseResult {
  const labels = [...text.matchAll(PEM_BEGIN)].map((m) => m[1]!);
  const keyLabel = labels.find((label) => label.includes('PRIVATE KEY'));
  if (keyLabel) return privateKeyFound(`a PEM block of type ${keyLabel}`);

  const blocks = pemBlocks(text);
  const mismatched = blocks.find((b) => b.label !== b.endLabel);
  if (mismatched) {
    return invalid(`PEM block BEGIN ${mismatched.label} ends with END ${mismatched.endLabel}`);
  }
  if (blocks.length < labels.length) {
    return invalid(
      'the PEM text is truncated: a -----BEGIN----- line has no matching -----END----- line',
    );
  }
  const certificates = blocks.filter((b) => b.label === 'CERTIFICATE');
  const first = certificates[0];
  if (!first) {
    const found = [...new Set(blocks.map((b) => b.label))].join(', ');
    return invalid(
      `the PEM text holds no CERTIFICATE block (found: ${found}); expected -----BEGIN CERTIFICATE-----`,
    );
  }
  const body = first.body.replace(/\s+/g, '');
  if (!BASE64_BODY.test(body) || body.length % 4 !== 0) {
    return invalid('the first CERTIFICATE block is not valid base64');
  }
  const result = parseDer(Buffer.from(body, 'base64'), 'the first CERTIFICATE block');
  return result.ok ? { ...result, ignoredCertificates: certificates.length - 1 } : result;
}

interface PemBlock {
  label: string;
  body: string;
  endLabel: string;
}

/**
 * The BEGIN..END blocks in one pass. A single regex with a lazy body rescans the rest of the
 * text from every BEGIN line that has no END: 1 MiB of such lines took 26 s.
 */
function pemBlocks(text: string): PemBlock[] {
  const begin = new RegExp(PEM_BEGIN.source, 'g');
  const end = new RegExp(PEM_END.source, 'g');
  const blocks: PemBlock[] = [];
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    end.lastIndex = begin.lastIndex;
    const e = end.exec(text);
    if (!e) break; // no END after this BEGIN, so none after a later one either
    blocks.push({ label: m[1]!, body: text.slice(begin.lastIndex, e.index), endLabel: e[1]! });
    begin.lastIndex = end.lastIndex;
  }
  return blocks;
}

function parseBase64Der(text: string): ParseResult {
  const body = text.replace(/\s+/g, '');
  if (!BASE64_BODY.test(body) || body.length % 4 !== 0) {
    return invalid(
      'the certificate source is neither PEM (-----BEGIN CERTIFICATE-----) nor base64 of a DER certificate',
    );
  }
  return parseDer(Buffer.from(body, 'base64'), 'the base64 DER');
}

function parseDer(der: Uint8Array, what: string): ParseResult {
  try {
    return { ok: true, certificate: inspectCertificate(der), ignoredCertificates: 0 };
  } catch (err) {
    if (isPrivateKeyDer(der)) return privateKeyFound(`${what} is a private key`);
    const detail = err instanceof Error ? err.message : String(err);
    return invalid(`${what} is not an X.509 certificate: ${detail}`);
  }
}

/** A DER private key (PKCS#8, PKCS#1 or SEC1) pasted where a certificate belongs. */
function isPrivateKeyDer(der: Uint8Array): boolean {
  const key = Buffer.from(der);
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key, format: 'der', type });
      return true;
    } catch (err) {
      // An encrypted PKCS#8 key parses far enough to ask for its passphrase.
      if ((err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') return true;
    }
  }
  return false;
}
