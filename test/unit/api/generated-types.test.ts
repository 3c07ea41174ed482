// The CRDs are the one source of truth: the committed TypeScript types must be exactly what
// the generator makes of them (run `npm run gen:types` after editing crds/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, generatedTypesPath } from '../../../scripts/generate-types.ts';

describe('src/api/generated.ts', () => {
  it('agrees with the CRD schemas in crds/', async () => {
    const fresh = await generateTypes();
    expect(readFileSync(generatedTypesPath, 'utf8')).toBe(fresh);
    expect(fresh).toContain('export interface CertificateSpec');
    expect(fresh).toContain("type: 'Public' | 'Private';");
  });
});
