// Proves the harness is real: a namespace on the built kube-apiserver, the CRDs read back
// through discovery, and the non-admin operator user limited to deploy/'s RBAC.
import { describe, expect, it } from 'vitest';
import { CertificateResource, IntegrationAccountResource } from '../../src/api/types.ts';
import { KubeApiError, NamespaceType, SecretType, resourcePath } from '../../src/kube/client.ts';
import { adminClient, createNamespace, operatorClient } from '../support/cluster.ts';

interface ApiResourceList {
  groupVersion: string;
  resources: {
    name: string;
    kind: string;
    shortNames?: string[];
    categories?: string[];
    namespaced: boolean;
  }[];
}

describe('test control plane', () => {
  const admin = adminClient();

  it('serves a namespace and the CRDs through discovery', async () => {
    const ns = await createNamespace(admin, 'harness');
    const got = await admin.get<{ metadata: { name: string } }>(
      resourcePath(NamespaceType, { name: ns }),
    );
    expect(got.metadata.name).toBe(ns);

    const groups = await admin.get<{
      groups: { name: string; preferredVersion: { version: string } }[];
    }>('/apis');
    expect(
      groups.groups.find((g) => g.name === 'integration.b2b.dev')?.preferredVersion.version,
    ).toBe('v1alpha1');
    const list = await admin.get<ApiResourceList>('/apis/integration.b2b.dev/v1alpha1');
    const byName = Object.fromEntries(list.resources.map((r) => [r.name, r]));
    expect(byName[CertificateResource.plural]).toMatchObject({
      kind: 'Certificate',
      namespaced: true,
      shortNames: ['b2bcert', 'iacert'],
      categories: ['b2b'],
    });
    expect(byName[IntegrationAccountResource.plural]).toMatchObject({
      kind: 'IntegrationAccount',
      shortNames: ['ia'],
    });
    expect(byName['certificates/status']).toBeDefined();
  });

  it('runs the operator as a non-admin user limited to deploy/ RBAC', async () => {
    const operator = operatorClient();
    const ns = await createNamespace(admin, 'rbac');
    // Allowed: what the operator needs.
    await operator.list(resourcePath(SecretType, { namespace: ns }));
    await operator.list(resourcePath(CertificateResource));
    // Refused: anything else.
    const err = await operator
      .create(resourcePath(NamespaceType), { metadata: { name: `${ns}-x` } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(403);
    const podErr = await operator.list(`/api/v1/namespaces/${ns}/pods`).catch((e: unknown) => e);
    expect((podErr as KubeApiError).status).toBe(403);
  });
});
