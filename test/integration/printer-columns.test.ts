// `kubectl get ia`, as the API server prints it from the CRD's printer columns: how many of the
// account's certificates are Ready out of how many, and the first vault it cannot use.
import { beforeAll, describe, expect, it } from 'vitest';
import { IntegrationAccountResource } from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { kubectl } from '../support/kubectl.ts';

const at = '2026-12-01T00:00:00Z';

describe('kubectl get integrationaccounts', () => {
  let admin: KubeClient;
  let ns: string;
  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'columns');
  });

  it('shows Ready certificates of the total, and the first unusable vault', async () => {
    await admin.create(resourcePath(IntegrationAccountResource, { namespace: ns }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'contoso', namespace: ns },
      spec: { sku: 'Basic' },
    });
    await admin.patch(
      resourcePath(IntegrationAccountResource, {
        namespace: ns,
        name: 'contoso',
        subresource: 'status',
      }),
      {
        status: {
          observedGeneration: 1,
          storeType: 'kubernetes',
          conditions: [
            { type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: at },
          ],
          certificates: { total: 3, ready: 2, quota: 2 },
          keyVaults: [
            { name: 'main', reachable: true, reason: 'Reachable', lastCheckedTime: at },
            { name: 'typo', reachable: false, reason: 'VaultHostNotAllowed', lastCheckedTime: at },
          ],
        },
      },
    );
    const got = await kubectl(['get', 'ia', 'contoso', '-n', ns]);
    expect(got.code, got.stderr).toBe(0);
    const [header, row] = got.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/));
    const cell = (column: string) => row?.[header?.indexOf(column) ?? -1];
    expect(cell('CERTIFICATES')).toBe('3');
    expect(cell('READY CERTIFICATES')).toBe('2');
    expect(cell('UNUSABLE VAULT')).toBe('typo');
    expect(cell('READY')).toBe('True');
  });
});
