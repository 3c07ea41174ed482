// spec.adoption: the decision (pure) and each store's reading of an entry it did not write.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Labels, type Certificate } from '../../../src/api/types.ts';
import {
  conflictMessage,
  decideAdoption,
  type AdoptionInput,
  type AdoptionPolicy,
} from '../../../src/stores/adoption.ts';
import {
  adoptedByRecord,
  azureTakeOver,
  contentDifferences,
  desiredBody,
  matchesWithoutMarker,
  sameContent,
  unchangedSinceAdoption,
  type CertificateResource,
} from '../../../src/stores/azure/entry.ts';
import { secretTakeOver, withoutEarlierOwners } from '../../../src/stores/secret-adoption.ts';
import { selfSigned } from '../../support/certs.ts';

const base: AdoptionInput = {
  policy: 'IfIdentical',
  certificate: 'b2b/fabrikam',
  mark: undefined,
  heldBy: undefined,
  differs: [],
};
const decide = (over: Partial<AdoptionInput>) => decideAdoption({ ...base, ...over });
const policies: AdoptionPolicy[] = ['Never', 'IfIdentical', 'Always'];

describe('decideAdoption', () => {
  it('never takes what another controller holds, whatever the policy', () => {
    for (const policy of policies)
      expect(decide({ policy, heldBy: 'Certificate x (cert-manager.io/v1)' })).toMatchObject({
        action: 'conflict',
        because: 'heldBy',
      });
  });

  it('never takes the entry of another Certificate, whatever the policy', () => {
    for (const policy of policies)
      expect(
        decide({ policy, mark: { certificate: 'other/fabrikam', uid: 'u0' }, differs: ['x'] }),
      ).toMatchObject({ action: 'conflict', because: 'otherCertificate', owner: 'other/fabrikam' });
  });

  it('takes over the same namespace/name under another uid, except under Never', () => {
    const mark = { certificate: 'b2b/fabrikam', uid: 'old' };
    for (const policy of ['IfIdentical', 'Always'] as const)
      expect(decide({ policy, mark, differs: ['data tls.crt'] })).toEqual({
        action: 'adopt',
        because: 'sameCertificate',
        previousUid: 'old',
      });
    expect(decide({ policy: 'Never', mark })).toMatchObject({
      action: 'conflict',
      because: 'sameCertificateNever',
    });
  });

  it('unmarked: Never refuses, IfIdentical adopts only identical, Always overwrites', () => {
    expect(decide({ policy: 'Never' })).toMatchObject({ because: 'unmarkedNever' });
    expect(decide({ policy: 'IfIdentical' })).toEqual({ action: 'adopt', because: 'identical' });
    expect(decide({ policy: 'IfIdentical', differs: ['properties.key.keyName'] })).toEqual({
      action: 'conflict',
      because: 'differs',
      differs: ['properties.key.keyName'],
    });
    expect(decide({ policy: 'Always' })).toEqual({ action: 'adopt', because: 'identical' });
    expect(decide({ policy: 'Always', differs: ['data tls.crt'] })).toEqual({
      action: 'overwrite',
      differs: ['data tls.crt'],
    });
  });

  it('says in a conflict which field differs and how to adopt anyway', () => {
    const message = conflictMessage(
      { action: 'conflict', because: 'differs', differs: ['properties.publicCertificate'] },
      { entry: 'Secret x', otherwise: 'delete it' },
    );
    expect(message).toMatch(
      /^Secret x already exists.*differs from it \(properties\.publicCertificate\).*spec\.adoption: Always.*delete it$/,
    );
  });
});

describe('the kubernetes store reading a Secret it did not write', () => {
  const mine = selfSigned('ec256');
  const theirs = selfSigned('ec256');
  const certificate = (adoption?: AdoptionPolicy) =>
    ({
      metadata: { name: 'fabrikam', namespace: 'b2b', uid: 'new-uid' },
      spec: { adoption },
    }) as unknown as Certificate;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const desiredData = { 'tls.crt': b64(mine.pem) };
  const secret = (over: Record<string, unknown> = {}, pem = mine.pem) => ({
    metadata: { name: 'fabrikam-b2bcert', ...over },
    data: { 'tls.crt': b64(pem.replace(/\n/g, '\r\n')) },
  });

  it('adopts an unmarked Secret holding the same certificate (line endings aside) by default', () => {
    expect(secretTakeOver(secret(), certificate(), desiredData)).toMatchObject({
      taken: true,
      event: 'Adopted',
    });
  });

  it('refuses a different one naming data tls.crt, and overwrites it under Always with its thumbprint', () => {
    const refused = secretTakeOver(secret({}, theirs.pem), certificate(), desiredData);
    expect(refused).toMatchObject({ taken: false });
    expect(refused.message).toMatch(/\(data tls\.crt\).*spec\.adoption: Always/);
    const overwritten = secretTakeOver(secret({}, theirs.pem), certificate('Always'), desiredData);
    expect(overwritten).toMatchObject({ taken: true, event: 'Overwritten' });
    const held = createHash('sha1').update(theirs.der).digest('hex').toUpperCase();
    expect(overwritten.message).toContain(`thumbprint ${held}`);
  });

  it('takes over a Secret marked for this name under an earlier uid (label or ownerReference)', () => {
    const byLabel = secret({
      labels: { [Labels.certificate]: 'fabrikam', [Labels.certificateUid]: 'old-uid' },
    });
    const byOwner = secret({
      ownerReferences: [
        {
          apiVersion: 'integration.b2b.dev/v1alpha1',
          kind: 'Certificate',
          name: 'fabrikam',
          uid: 'old-uid',
          controller: true,
        },
      ],
    });
    for (const s of [byLabel, byOwner]) {
      const verdict = secretTakeOver(s, certificate(), { 'tls.crt': b64(theirs.pem) });
      expect(verdict).toMatchObject({ taken: true, event: 'Adopted' });
      expect(verdict.message).toMatch(/earlier Certificate of this name \(uid old-uid\)/);
    }
    expect(withoutEarlierOwners(byOwner, certificate()).metadata?.ownerReferences).toEqual([]);
    expect(secretTakeOver(byLabel, certificate('Never'), desiredData)).toMatchObject({
      taken: false,
    });
  });

  it('never takes a Secret another controller owns, or one not of type Opaque, even under Always', () => {
    const certManaged = secret({
      ownerReferences: [
        {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          name: 'x',
          uid: 'u',
          controller: true,
        },
      ],
    });
    const tls = { ...secret(), type: 'kubernetes.io/tls' };
    for (const s of [certManaged, tls]) {
      const verdict = secretTakeOver(s, certificate('Always'), desiredData);
      expect(verdict.taken).toBe(false);
      expect(verdict.message).toMatch(/never takes it, whatever spec\.adoption says/);
    }
  });
});

describe('the azure store reading an entry it did not write', () => {
  const certificate = (adoption?: AdoptionPolicy) =>
    ({
      metadata: { name: 'fabrikam', namespace: 'b2b', uid: 'new-uid' },
      spec: { adoption },
    }) as unknown as Certificate;
  const vault = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv';
  const der = Buffer.from('a certificate').toString('base64');
  const desired = desiredBody(certificate(), {
    derBase64: der,
    metadata: { partner: 'fabrikam' },
    key: { vaultResourceId: vault, name: 'signing', version: 'abc123' },
  });
  const portal: CertificateResource = {
    properties: {
      publicCertificate: der,
      metadata: { owner: 'portal' },
      key: {
        keyVault: { id: vault.toLowerCase() },
        keyName: 'Signing',
        keyVersion: 'ABC123',
      },
    },
  };
  const words = { entry: 'the certificate fabrikam', otherwise: 'delete it in Azure' };

  it('finds a Private entry identical though IDs, key name and version differ in case', () => {
    expect(contentDifferences(portal, desired)).toEqual([]);
  });

  it('names each key field that differs', () => {
    const other = {
      properties: { ...portal.properties, key: { keyVault: { id: vault }, keyName: 'x' } },
    };
    expect(contentDifferences(other, desired)).toEqual([
      'properties.key.keyName',
      'properties.key.keyVersion',
    ]);
  });

  it('adopts an entry that holds everything (key IDs, name and version in other case) without a write, recording what it held', () => {
    const held = { properties: { ...portal.properties, metadata: { partner: 'fabrikam' } } };
    expect(matchesWithoutMarker(held, desired)).toBe(true);
    const verdict = azureTakeOver(held, certificate(), desired, words);
    expect(verdict).toMatchObject({ taken: true, event: 'Adopted', body: undefined });
    if (!verdict.taken || !verdict.record) throw new Error('adopted without a record');
    expect(verdict.message).toMatch(/no write was needed/);
    expect(unchangedSinceAdoption(held, verdict.record)).toBe(true);
    // Recorded in the status, the unmarked entry is this Certificate's (not under Never).
    const ref = '/subscriptions/s/x/certificates/fabrikam';
    const recorded = (adoption?: AdoptionPolicy) =>
      ({
        ...certificate(adoption),
        status: { store: { ref: ref.toUpperCase(), adopted: verdict.record } },
      }) as unknown as Certificate;
    expect(adoptedByRecord(held, recorded(), ref)).toEqual(verdict.record);
    expect(adoptedByRecord(held, recorded('Never'), ref)).toBeUndefined();
    expect(adoptedByRecord(held, recorded(), `${ref}-other`)).toBeUndefined();
    expect(adoptedByRecord(held, certificate(), ref)).toBeUndefined();
    const marked = {
      properties: {
        ...held.properties,
        metadata: { b2bOperator: { certificate: 'b2b/other', uid: 'u' } },
      },
    };
    expect(adoptedByRecord(marked, recorded(), ref)).toBeUndefined();
    // Changed in Azure since: no longer what was adopted.
    const changed = { properties: { ...held.properties, metadata: { partner: 'x' } } };
    expect(unchangedSinceAdoption(changed, verdict.record)).toBe(false);
  });

  it('adopts an identical entry whose metadata differs with one PUT of what the Certificate says', () => {
    expect(matchesWithoutMarker(portal, desired)).toBe(false);
    const verdict = azureTakeOver(portal, certificate(), desired, words);
    expect(verdict).toMatchObject({ taken: true, event: 'Adopted', body: desired });
    if (!verdict.taken || !verdict.body) throw new Error('adopted without a body');
    expect(verdict.message).toMatch(/written once with the operator's marker and spec\.metadata/);
    expect(sameContent(verdict.body, desired)).toBe(true);
  });

  it('overwrites a different entry under Always, naming the thumbprint it held', () => {
    const other = { properties: { ...portal.properties, publicCertificate: 'b3RoZXI=' } };
    const refused = azureTakeOver(other, certificate(), desired, words);
    expect(refused.taken).toBe(false);
    expect(refused.message).toMatch(/\(properties\.publicCertificate\).*spec\.adoption: Always/);
    const verdict = azureTakeOver(other, certificate('Always'), desired, words);
    expect(verdict).toMatchObject({ taken: true, event: 'Overwritten', body: desired });
    const held = createHash('sha1').update('other').digest('hex').toUpperCase();
    expect(verdict.message).toContain(`thumbprint ${held}`);
  });
});
