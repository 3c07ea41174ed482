import { describe, expect, it } from 'vitest';
import {
  LabelSelectorError,
  matchesLabels,
  parseLabelSelector,
} from '../../../src/runtime/label-selector.ts';

const matches = (selector: string, labels?: Record<string, string>) =>
  matchesLabels(parseLabelSelector(selector), labels);

describe('label selectors, as the API server reads them', () => {
  it('equality, inequality and sets; an absent label is "not equal" and "not in"', () => {
    expect(matches('integration.b2b.dev/shard=a', { 'integration.b2b.dev/shard': 'a' })).toBe(true);
    expect(matches('integration.b2b.dev/shard==a', { 'integration.b2b.dev/shard': 'b' })).toBe(
      false,
    );
    expect(matches('integration.b2b.dev/shard=a', undefined)).toBe(false);
    expect(matches('shard!=a', {})).toBe(true);
    expect(matches('shard!=a', { shard: 'a' })).toBe(false);
    expect(matches('shard in (a, b)', { shard: 'b' })).toBe(true);
    expect(matches('shard notin (a,b)', { shard: 'b' })).toBe(false);
    expect(matches('shard notin (a,b)', {})).toBe(true);
    expect(matches('shard notin (a,b)', { shard: 'c' })).toBe(true);
  });

  it('existence, and every clause must hold', () => {
    expect(matches('shard', { shard: '' })).toBe(true);
    expect(matches('!shard', { shard: 'a' })).toBe(false);
    expect(matches('!shard', {})).toBe(true);
    expect(matches('team=edi,shard in (a,b)', { team: 'edi', shard: 'a' })).toBe(true);
    expect(matches('team=edi,shard in (a,b)', { team: 'as2', shard: 'a' })).toBe(false);
    expect(matches('', { anything: 'x' })).toBe(true);
  });

  it('refuses what the API server would refuse, naming the part', () => {
    expect(() => parseLabelSelector('shard=a b')).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector('sh ard')).toThrow(/sh ard/);
    expect(() => parseLabelSelector('shard in a,b')).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector('-shard=a')).toThrow(/invalid label key "-shard"/);
    expect(() => parseLabelSelector('shard=a*')).toThrow(/invalid label value "a\*"/);
  });
});
