// 10,000 random mutations of valid DER and PEM inputs: each gets a verdict, never an exception,
// and none takes more than 250 ms: a guard against input-driven blow-ups, not a benchmark (a GC
// pause on a loaded 2-core machine reached 68 ms). The seed is printed, so a failure can be replayed.
import { describe, expect, it } from 'vitest';
import { verifyCertificateSource } from '../../../src/certificates/checks.ts';
import { privateUsable, selfSigned } from '../../support/certs.ts';

const ITERATIONS = 10_000;
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing the parser and checks', () => {
  it(`gives a verdict for ${ITERATIONS} mutated inputs (seed ${seed})`, () => {
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);
    const seeds = [
      privateUsable(),
      selfSigned('ec256', { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] }),
      selfSigned('ed25519'),
    ];

    const mutateBytes = (input: Buffer): Buffer => {
      const out = Buffer.from(input);
      switch (int(5)) {
        case 0: // flip bits
          for (let i = 0, n = 1 + int(8); i < n; i++) out[int(out.length)]! ^= 1 << int(8);
          return out;
        case 1: // truncate
          return out.subarray(0, int(out.length));
        case 2: {
          // insert random bytes
          const at = int(out.length);
          return Buffer.concat([
            out.subarray(0, at),
            Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))),
            out.subarray(at),
          ]);
        }
        case 3: // overwrite a length-like byte with an extreme value
          out[int(Math.min(out.length, 64))] = [0x00, 0x7f, 0x80, 0x81, 0x84, 0xff][int(6)]!;
          return out;
        default: {
          // duplicate a slice
          const start = int(out.length);
          const end = start + int(out.length - start);
          return Buffer.concat([out.subarray(0, end), out.subarray(start, end), out.subarray(end)]);
        }
      }
    };

    let verdicts = 0;
    let slowest = 0;
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const base = seeds[int(seeds.length)]!;
      const mutatedDer = mutateBytes(base.der);
      const form = int(3);
      const input: string | Buffer =
        form === 0
          ? mutatedDer
          : form === 1
            ? mutatedDer.toString('base64')
            : mutateBytes(Buffer.from(base.pem)).toString('latin1');
      const started = performance.now();
      let verdict;
      try {
        verdict = verifyCertificateSource(input, int(2) ? 'Public' : 'Private', new Date());
      } catch (err) {
        throw new Error(`iteration ${i} (seed ${seed}) threw: ${String(err)}`);
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      expect(elapsed, `iteration ${i} (seed ${seed}) took ${elapsed} ms`).toBeLessThan(250);
      if (verdict.ok) accepted++;
      else expect(verdict.failure.message.length).toBeGreaterThan(0);
      verdicts++;
    }
    console.log(
      `fuzz: ${verdicts} verdicts (${accepted} accepted), slowest ${slowest.toFixed(2)} ms, seed ${seed}`,
    );
    expect(verdicts).toBe(ITERATIONS);
  });
});
