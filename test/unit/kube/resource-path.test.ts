// Object names come from users' specs (a Secret reference, a vault key's Secret). URLs resolve
// dot segments, so a name of '.' or '..' would address something else: the whole collection
// (a LIST, or a DELETE of every Secret in the namespace) or the namespace itself.
import { describe, expect, it } from 'vitest';
import { SecretType, resourcePath } from '../../../src/kube/client.ts';

describe('resourcePath', () => {
  it('keeps a name inside its path segment', () => {
    expect(resourcePath(SecretType, { namespace: 'a', name: 'x/../../b' })).toBe(
      '/api/v1/namespaces/a/secrets/x%2F..%2F..%2Fb',
    );
  });

  it.each(['.', '..'])('refuses the name %j, which a URL would resolve away', (name) => {
    expect(() => resourcePath(SecretType, { namespace: 'a', name })).toThrow(
      `"${name}" is not a valid object name`,
    );
    expect(() => resourcePath(SecretType, { namespace: name })).toThrow(
      `"${name}" is not a valid object name`,
    );
  });
});
