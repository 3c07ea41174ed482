// `b2b validate` on the shared table of certificate cases (test/support/certificate-cases.ts),
// without a cluster; cli-verdicts.test.ts checks the same table against the running operator.
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCrds } from '../../../src/cli/crd-schema.ts';
import { parseManifests } from '../../../src/cli/input.ts';
import { validateObjects } from '../../../src/cli/validate.ts';
import { caseManifests, certificateCases } from '../../support/certificate-cases.ts';

describe('b2b validate on the certificate cases', () => {
  const stream = caseManifests('cases')
    .map((m) => stringify(m))
    .join('---\n');
  const input = parseManifests('cases.yaml', stream);
  const results = validateObjects(input.objects, loadCrds(), {
    now: new Date(),
    warnExpiringMs: undefined,
    allowedVaultHosts: [],
    namespace: 'default',
  });

  it.each(certificateCases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const result = results.find((r) => r.kind === 'Certificate' && r.name === name);
    expect(result).toMatchObject({ namespace: 'cases', ...c.cli });
    if (c.cli.level === 'fail') expect(result?.reason).toBe(c.operator);
  });

  it('judges accounts as the account controller does: a vault host not allowed is a warning (the vault’s certificates fail), quota is a concern of the certificates', () => {
    const accounts = results.filter((r) => r.kind === 'IntegrationAccount');
    expect(accounts.map((a) => [a.name, a.level, a.reason])).toEqual([
      ['contoso', 'pass', 'Ready'],
      ['small', 'pass', 'Ready'],
      ['evil', 'warn', 'VaultHostNotAllowed'],
    ]);
  });
});
