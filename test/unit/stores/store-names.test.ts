// Names derived for the store always fit Kubernetes' limits, and stay as they were when they fit.
import { describe, expect, it } from 'vitest';
import { labelValueFor, secretNameFor } from '../../../src/stores/store-names.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('store names', () => {
  it('keeps names that fit as they are', () => {
    expect(secretNameFor('fabrikam')).toBe('fabrikam-b2bcert');
    expect(secretNameFor('a'.repeat(245))).toBe(`${'a'.repeat(245)}-b2bcert`);
    expect(labelValueFor('contoso')).toBe('contoso');
    expect(labelValueFor('b'.repeat(63))).toBe('b'.repeat(63));
  });

  it('shortens longer names with a hash of the whole name, valid and distinct', () => {
    const long = (tail: string) => `${'partner.'.repeat(31)}x-${tail}`; // 252 characters
    for (const name of [
      long('one'),
      long('two'),
      `${'a'.repeat(233)}.bcdefghijklmn`,
      `${'d'.repeat(233)}-x.e-f-g-h-i-j-k`,
    ]) {
      const secret = secretNameFor(name);
      expect(secret.length).toBeLessThanOrEqual(253);
      expect(secret).toMatch(DNS_SUBDOMAIN);
      expect(secret.endsWith('-b2bcert')).toBe(true);
      const label = labelValueFor(name);
      expect(label.length).toBeLessThanOrEqual(63);
      expect(label).toMatch(LABEL_VALUE);
    }
    expect(secretNameFor(long('one'))).not.toBe(secretNameFor(long('two')));
    expect(labelValueFor(long('one'))).not.toBe(labelValueFor(long('two')));
    expect(secretNameFor(long('one'))).toBe(secretNameFor(long('one')));
  });
});
