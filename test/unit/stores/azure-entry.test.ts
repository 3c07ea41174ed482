// The azure store's entry: marker, ownership, difference and drift (pure).
import { describe, expect, it } from 'vitest';
import type { Certificate } from '../../../src/api/types.ts';
import {
  desiredBody,
  drifted,
  driftDescription,
  ownedBy,
  sameContent,
} from '../../../src/stores/azure/entry.ts';

const certificate = {
  metadata: { name: 'fabrikam', namespace: 'b2b', uid: 'uid-1' },
  spec: {},
} as unknown as Certificate;
const vault = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv';
const content = {
  derBase64: 'MIIB',
  metadata: { partner: 'fabrikam' },
  key: { vaultResourceId: vault, name: 'k', version: 'v1' },
};

/** What ARM answers after our PUT: IDs in other casing, read-only fields added. */
function asArmAnswers(body: ReturnType<typeof desiredBody>) {
  return {
    id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Logic/integrationAccounts/ia/certificates/fabrikam',
    properties: {
      ...body.properties,
      key: {
        ...body.properties.key!,
        keyVault: {
          id: vault
            .replace('resourceGroups', 'resourcegroups')
            .replace('Microsoft.KeyVault', 'microsoft.keyvault'),
          name: 'kv',
          type: 'Microsoft.KeyVault/vaults',
        },
      },
      createdTime: '2026-01-01T00:00:00Z',
      changedTime: '2026-01-01T00:00:00Z',
    },
  };
}

describe('the azure store entry', () => {
  const desired = desiredBody(certificate, content);

  it('carries the marker with namespace/name and uid in metadata', () => {
    expect(desired.properties.metadata).toMatchObject({
      partner: 'fabrikam',
      b2bOperator: { certificate: 'b2b/fabrikam', uid: 'uid-1' },
    });
    expect(desired.properties.key).toEqual({
      keyVault: { id: vault },
      keyName: 'k',
      keyVersion: 'v1',
    });
  });

  it('sees no difference in what ARM answers, though its IDs have other casing', () => {
    const current = asArmAnswers(desired);
    expect(ownedBy(current, certificate)).toBe(true);
    expect(sameContent(current, desired)).toBe(true);
    expect(drifted(current)).toBe(false);
  });

  it('is foreign without our marker or with another uid', () => {
    expect(ownedBy({ properties: { publicCertificate: 'x' } }, certificate)).toBe(false);
    const other = desiredBody(
      { ...certificate, metadata: { ...certificate.metadata, uid: 'uid-2' } },
      content,
    );
    expect(ownedBy(other, certificate)).toBe(false);
  });

  it('detects drift when our entry was changed in Azure, and names the fields', () => {
    const current = asArmAnswers(desired);
    current.properties.metadata = { ...current.properties.metadata, partner: 'mallory' };
    expect(drifted(current)).toBe(true);
    expect(sameContent(current, desired)).toBe(false);
    expect(driftDescription(current, desired)).toEqual(['metadata']);
  });

  it('is an update, not drift, when the spec changed', () => {
    const current = asArmAnswers(desired);
    const next = desiredBody(certificate, { ...content, key: { ...content.key, version: 'v2' } });
    expect(drifted(current)).toBe(false);
    expect(sameContent(current, next)).toBe(false);
  });
});
