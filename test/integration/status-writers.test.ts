// Status is shared: conditions of types the operator does not own belong to other writers
// (policy engines, GitOps tools, people) and survive the operator's status writes.
import { describe, expect, it } from 'vitest';
import { CertificateResource } from '../../src/api/types.ts';
import { resourcePath } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { startOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  waitForCondition,
} from '../support/resources.ts';

describe('status written by others', () => {
  it("keeps another writer's condition through the operator's status writes", async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'status-writers');
    const op = await startOperator(ns);
    try {
      await createAccount(admin, ns, 'contoso');
      await createCertificate(admin, ns, 'partner', {
        certificate: { inline: selfSigned('ec256').pem },
      });
      const ready = await waitForCondition(admin, ns, 'partner', 'Ready', 'True');
      const audited = {
        type: 'example.com/Audited',
        status: 'True',
        reason: 'Reviewed',
        message: 'reviewed by the partner team',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: ready.metadata.generation,
      };
      await admin.patch(
        resourcePath(CertificateResource, {
          namespace: ns,
          name: 'partner',
          subresource: 'status',
        }),
        { status: { conditions: [...(ready.status?.conditions ?? []), audited] } },
      );
      // A spec change makes the operator write status again (a new observedGeneration).
      await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'partner' }), {
        spec: { metadata: { partner: 'fabrikam' } },
      });
      const after = await waitForCondition(admin, ns, 'partner', 'Ready', 'True');
      expect(after.metadata.generation).toBeGreaterThan(ready.metadata.generation!);
      expect(condition(after, 'example.com/Audited')).toEqual(audited);
      // and the operator does not fight over it: no status write for a foreign condition.
      const statusWrites = () =>
        op.requests.filter(
          (r) => r.method === 'PATCH' && r.path.endsWith('/certificates/partner/status'),
        ).length;
      const count = statusWrites();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(statusWrites()).toBe(count);
    } finally {
      await op.stop();
    }
  });
});
