// What the kubernetes store writes and how it tells a Secret read back from it, as plain data.
import { describe, expect, it } from 'vitest';
import { Labels, type Certificate } from '../../../src/api/types.ts';
import {
  CONTENT_HASH_ANNOTATION,
  desiredSecret,
  differences,
  isHandEdit,
  newSecret,
  ownedBy,
  ownerReferenceDiffers,
  patchFor,
  type StoredSecret,
} from '../../../src/stores/secret-content.ts';

const certificate = (over: Partial<Certificate['spec']> = {}, name = 'fabrikam'): Certificate => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name, namespace: 'b2b', uid: 'uid-1' },
  spec: {
    integrationAccount: { name: 'contoso' },
    type: 'Public',
    certificate: { inline: 'x' },
    ...over,
  },
});
const entry = (c = certificate()) => ({ certificate: c, pem: 'PEM', metadata: { partner: 'f' } });
/** The Secret as the API server returns it after `newSecret`. */
const asStored = (c = certificate()): StoredSecret => {
  const s = newSecret(desiredSecret(entry(c)), 'b2b') as StoredSecret;
  return { ...s, metadata: { ...s.metadata, uid: 's-1', resourceVersion: '7' } };
};

describe('the kubernetes store entry', () => {
  it('holds the names, the uid and the content hash, and nothing differs from itself', () => {
    const stored = asStored();
    expect(stored.metadata?.labels).toEqual({
      [Labels.integrationAccount]: 'contoso',
      [Labels.certificate]: 'fabrikam',
      [Labels.type]: 'Public',
      [Labels.certificateUid]: 'uid-1',
    });
    expect(stored.metadata?.annotations?.[Labels.certificate]).toBe('fabrikam');
    // No ownerReference: deleting the CRD must not let the garbage collector take the Secret.
    expect(stored.metadata?.ownerReferences).toBeUndefined();
    expect(differences(desiredSecret(entry()), stored, certificate())).toEqual([]);
  });

  it('names every hand edit: data, a removed label, an added data key', () => {
    const desired = desiredSecret(entry());
    const stored = asStored();
    const edited: StoredSecret = {
      metadata: {
        ...stored.metadata,
        labels: { [Labels.type]: 'Public', [Labels.certificateUid]: 'uid-1', other: 'kept' },
      },
      data: {
        ...stored.data,
        'tls.crt': Buffer.from('edited').toString('base64'),
        extra: 'eA==',
      },
    };
    expect(differences(desired, edited, certificate()).sort()).toEqual(
      [
        'data extra',
        'data tls.crt',
        `label ${Labels.certificate}`,
        `label ${Labels.integrationAccount}`,
      ].sort(),
    );
    expect(isHandEdit(desired, edited)).toBe(true);
    const patch = patchFor(desired, edited, certificate(), Object.keys(edited.data ?? {}));
    expect(patch).toMatchObject({
      metadata: { resourceVersion: '7', ownerReferences: null },
      data: { extra: null, 'tls.crt': desired.data['tls.crt'] },
    });
  });

  it('is an update, not a hand edit, when the certificate changed', () => {
    const stored = asStored();
    const changed = desiredSecret({ ...entry(), pem: 'NEW' });
    expect(differences(changed, stored, certificate())).toEqual([
      'data tls.crt',
      `annotation ${CONTENT_HASH_ANNOTATION}`,
    ]);
    expect(isHandEdit(changed, stored)).toBe(false);
  });

  it('gives a Retain entry no ownerReference either, knows it by its uid label, and drops only our ownerReference an earlier version wrote', () => {
    const retain = certificate({ deletionPolicy: 'Retain' });
    const stored = asStored(retain);
    expect(stored.metadata?.ownerReferences).toBeUndefined();
    expect(ownedBy(stored, retain)).toBe(true);
    expect(ownedBy({ metadata: { labels: { [Labels.certificate]: 'fabrikam' } } }, retain)).toBe(
      false,
    );
    // An entry an earlier version wrote, with our ownerReference: only ours goes, and that is
    // not a hand edit (no StoreRestored).
    const before: StoredSecret = {
      ...asStored(),
      metadata: {
        ...asStored().metadata,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'other', uid: 'o' },
          {
            apiVersion: 'integration.b2b.dev/v1alpha1',
            kind: 'Certificate',
            name: 'fabrikam',
            uid: 'uid-1',
          },
        ],
      },
    };
    for (const c of [retain, certificate({ deletionPolicy: 'Delete' })]) {
      const desired = desiredSecret(entry(c));
      expect(differences(desired, before, c)).not.toContain('ownerReference');
      expect(ownerReferenceDiffers(desired, before, c)).toBe(true);
      expect(patchFor(desired, before, c)).toMatchObject({
        metadata: { ownerReferences: [{ uid: 'o' }] },
      });
    }
  });

  it('uses short label values for long names and keeps the full names in annotations', () => {
    const name = `${'n'.repeat(100)}`;
    const c = certificate({ integrationAccount: { name: 'a'.repeat(200) } }, name);
    const desired = desiredSecret(entry(c));
    for (const value of Object.values(desired.labels)) expect(value.length).toBeLessThanOrEqual(63);
    expect(desired.annotations[Labels.certificate]).toBe(name);
    expect(desired.annotations[Labels.integrationAccount]).toBe('a'.repeat(200));
  });
});
