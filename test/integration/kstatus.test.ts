// Our conditions as GitOps tools read them: Flux's kstatus library (sigs.k8s.io/cli-utils,
// built from the Go module proxy as hack/kstatus) computes Current, InProgress or Failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationAccountResource } from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { kstatus } from '../support/kubectl.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';

describe('kstatus (Flux) reading our status', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'kstatus');
    await createAccount(admin, ns, 'contoso');
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('reads Ready as Current, Stalled as Failed, waiting as InProgress', async () => {
    await createCertificate(admin, ns, 'ready', {
      certificate: { inline: selfSigned('ec256').pem },
    });
    await createCertificate(admin, ns, 'stalled', { certificate: { inline: 'not a certificate' } });
    await createCertificate(admin, ns, 'waiting', {
      certificate: { secretRef: { name: 'not-yet' } },
    });
    expect(kstatus(await waitForCondition(admin, ns, 'ready', 'Ready', 'True'))).toBe('Current');
    expect(
      kstatus(await waitForCondition(admin, ns, 'stalled', 'Ready', 'False', 'InvalidCertificate')),
    ).toBe('Failed');
    expect(
      kstatus(
        await waitForCondition(admin, ns, 'waiting', 'Ready', 'False', 'CertificateSourceNotFound'),
      ),
    ).toBe('InProgress');
    const account = await admin.get(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
    );
    expect(kstatus(account)).toBe('Current');
  });

  it('reads a spec change not yet observed as InProgress', async () => {
    const c = await waitForCondition(admin, ns, 'ready', 'Ready', 'True');
    const unobserved = {
      ...c,
      metadata: { ...c.metadata, generation: (c.metadata.generation ?? 1) + 1 },
    };
    expect(kstatus(unobserved)).toBe('InProgress');
  });
});
