// Every CEL rule of the CRDs in crds/ fires in `b2b validate` with the CRD's own message, and
// the schema checks (types, enums, patterns, sizes, unknown fields, defaults) act as the API
// server's do.
import { describe, expect, it } from 'vitest';
import { compileRule } from '../../../src/cli/cel.ts';
import {
  celRules,
  loadCrds,
  validateAgainstSchema,
  type Schema,
} from '../../../src/cli/crd-schema.ts';
import { parseManifests } from '../../../src/cli/input.ts';
import { validateObjects } from '../../../src/cli/validate.ts';
import { ruleCases, transitionRules } from '../../support/crd-rule-cases.ts';

const crds = loadCrds();
const schemaOf = (kind: string) => crds.find((c) => c.kind === kind)!.versions.get('v1alpha1')!;
const validate = (manifest: Record<string, unknown>) =>
  validateAgainstSchema(schemaOf(String(manifest.kind)), manifest);

describe('CEL rules of crds/', () => {
  const all = crds.flatMap((crd) => [...crd.versions.values()].flatMap((s) => celRules(s)));

  it('finds the rules in the CRD files', () => {
    expect(all.length).toBeGreaterThanOrEqual(7);
  });

  it('has a breaking case for every rule, except transition rules which apply on update', () => {
    const covered = new Set([...ruleCases.map((c) => c.rule), ...transitionRules]);
    expect(all.map((r) => r.rule).filter((rule) => !covered.has(rule))).toEqual([]);
  });

  it.each(ruleCases.map((c) => [c.what, c] as const))('refuses %s', (_, c) => {
    const { errors } = validate(c.manifest);
    const fired = errors.find((e) => e.rule === c.rule);
    expect(fired, JSON.stringify(errors)).toBeDefined();
    expect(fired?.message).toMatch(/^Invalid value: "object": /);
    const [result] = validateObjects(
      parseManifests('x.yaml', JSON.stringify(c.manifest)).objects,
      crds,
      {
        now: new Date(),
        warnExpiringMs: undefined,
        allowedVaultHosts: [],
        namespace: 'default',
      },
    );
    expect(result).toMatchObject({ level: 'fail', reason: 'Invalid' });
    expect(result?.message).toContain(fired!.message);
  });

  it('accepts a Private certificate whose source is a Key Vault certificate, without key', () => {
    const manifest = {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name: 'c' },
      spec: {
        integrationAccount: { name: 'a' },
        type: 'Private',
        certificate: { keyVault: { vault: 'main', name: 'fabrikam-signing', version: '' } },
      },
    };
    expect(validate(manifest).errors).toEqual([]);
    const bad = {
      ...manifest,
      spec: { ...manifest.spec, certificate: { keyVault: { vault: 'main', name: 'a/b' } } },
    };
    expect(validate(bad).errors.map((e) => e.field)).toContain('spec.certificate.keyVault.name');
  });

  it('skips transition rules (oldSelf) on create', () => {
    const manifest = {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name: 'c' },
      spec: { integrationAccount: { name: 'a' }, type: 'Public', certificate: { inline: 'x' } },
    };
    expect(validate(manifest).errors).toEqual([]);
  });
});

describe('the structural schema', () => {
  const certificate = (spec: Record<string, unknown>) => ({
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: 'c' },
    spec: {
      integrationAccount: { name: 'a' },
      type: 'Public',
      certificate: { inline: 'x' },
      ...spec,
    },
  });
  const messages = (m: Record<string, unknown>) =>
    validate(m).errors.map((e) => `${e.field}: ${e.message}`);

  it('fills defaults before validating', () => {
    const { value } = validate(certificate({ certificate: { secretRef: { name: 's' } } }));
    expect(value).toMatchObject({
      spec: {
        deletionPolicy: 'Delete',
        expiryWarning: '720h',
        certificate: { secretRef: { key: 'tls.crt' } },
      },
    });
  });

  it('refuses wrong enums, types, patterns, sizes, missing and unknown fields', () => {
    expect(messages(certificate({ type: 'Secret' }))).toEqual([
      'spec.type: Unsupported value: "Secret": supported values: "Public", "Private"',
    ]);
    expect(messages(certificate({ expiryWarning: '30 days' }))[0]).toMatch(
      /^spec.expiryWarning: Invalid value: "30 days": should match/,
    );
    expect(messages(certificate({ certificate: { inline: 'x'.repeat(65537) } }))).toEqual([
      'spec.certificate.inline: Too long: may not be more than 65536 bytes',
    ]);
    expect(messages(certificate({ deletionPolicy: 3 }))).toEqual([
      'spec.deletionPolicy: Invalid value: "integer": must be of type string',
    ]);
    expect(messages(certificate({ partner: 'x' }))).toEqual(['spec.partner: unknown field']);
    expect(
      messages({ ...certificate({}), spec: { type: 'Public', certificate: { inline: 'x' } } }),
    ).toEqual(['spec.integrationAccount: Required value']);
    expect(
      messages({
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'IntegrationAccount',
        metadata: { name: 'a' },
        spec: {
          keyVaults: [
            { name: 'v', kubernetes: {} },
            { name: 'v', kubernetes: {} },
          ],
        },
      }),
    ).toEqual(['spec.keyVaults[1]: Duplicate value: ["v"]']);
  });
});

describe('CEL beyond the rules of crds/ today', () => {
  const holds = (rule: string, self: unknown) =>
    compileRule(rule).evaluate(self, { type: 'object' });

  it('evaluates the string functions, macros and optionals Kubernetes offers', () => {
    expect(
      holds("self.name.matches('^[a-z]+$') && self.name.startsWith('con')", { name: 'contoso' }),
    ).toBe(true);
    expect(holds("self.name.lowerAscii().split('o').size() == 3", { name: 'COntOs' })).toBe(true);
    expect(holds("self.name.replace('o', '0') == 'c0nt0s0'", { name: 'contoso' })).toBe(true);
    expect(
      holds("self.name.charAt(0) == 'c' && self.name.indexOf('t') == 3", { name: 'contoso' }),
    ).toBe(true);
    expect(
      holds('isURL(self.url) && self.tags.all(t, t.size() < 5)', {
        url: 'https://a.example',
        tags: ['a'],
      }),
    ).toBe(true);
    expect(holds("self.?missing.orValue('x') == 'x'", {})).toBe(true);
    expect(holds("self.name.endsWith('x')", { name: 'contoso' })).toBe(false);
  });

  it('reports a rule it cannot evaluate as checked at apply time, not as a failure', () => {
    const schema: Schema = {
      type: 'object',
      properties: { size: { type: 'string' } },
      'x-kubernetes-validations': [{ rule: "quantity(self.size).isLessThan(quantity('1Gi'))" }],
    };
    const { errors } = validateAgainstSchema(schema, { size: '1Mi' });
    expect(errors).toMatchObject([
      { unevaluated: true, message: expect.stringMatching(/is checked at apply time/) as string },
    ]);
  });
});
