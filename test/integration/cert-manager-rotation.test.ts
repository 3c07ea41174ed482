// The kubernetes-vault twin of a Key Vault certificate source: a kubernetes.io/tls Secret that
// cert-manager issues and renews (tls.crt as the certificate, tls.key as the key). A renewal is
// cert-manager's one update of the Secret, certificate and key together; the operator process
// verifies the new key for real and syncs the new certificate, driven with kubectl as users do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { keyPair } from '../support/keys.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { condition, getCertificate, kubectlApply, waitForCondition } from '../support/resources.ts';

const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');

/** The Secret as cert-manager writes it for Certificate `fabrikam-tls`. */
const tlsSecret = (slot: number) => {
  const pem = privateUsable({}, slot).pem;
  return {
    pem,
    manifest: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: 'fabrikam-tls',
        annotations: {
          'cert-manager.io/certificate-name': 'fabrikam-tls',
          'cert-manager.io/issuer-name': 'b2b-ca',
        },
      },
      stringData: {
        'tls.crt': pem,
        'tls.key': keyPair('rsa2048', slot).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      },
    },
  };
};

describe('a cert-manager kubernetes.io/tls Secret as source and key, renewed', () => {
  let admin: KubeClient;
  let ns: string;
  let operator: OperatorProcess;
  const stored = async () => {
    const s = await admin.get<{ data: Record<string, string> }>(
      resourcePath(SecretType, { namespace: ns, name: 'fabrikam-b2bcert' }),
    );
    const text = (k: string) => Buffer.from(s.data[k]!, 'base64').toString();
    return { pem: text('tls.crt'), key: JSON.parse(text('key.json')) as { version: string } };
  };

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'cm-rotation');
    await kubectlApply(ns, {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'contoso' },
      spec: { keyVaults: [{ name: 'in-cluster', kubernetes: {} }] },
    });
    operator = await startOperatorProcess(ns);
  });
  afterAll(async () => operator?.stop());

  it('syncs the renewed certificate with its new key, verified, after cert-manager updates the Secret', async () => {
    const first = tlsSecret(101);
    await kubectlApply(ns, first.manifest);
    await kubectlApply(ns, {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name: 'fabrikam' },
      spec: {
        integrationAccount: { name: 'contoso' },
        type: 'Private',
        certificate: { secretRef: { name: 'fabrikam-tls', key: 'tls.crt' } },
        key: { vault: 'in-cluster', name: 'fabrikam-tls' },
      },
    });
    const before = await waitForCondition(
      admin,
      ns,
      'fabrikam',
      'Ready',
      'True',
      undefined,
      60_000,
    );
    expect(der((await stored()).pem)).toBe(der(first.pem));

    const renewed = tlsSecret(102); // cert-manager: one update, certificate and key together
    await kubectlApply(ns, renewed.manifest);
    const after = await eventually(
      async () => {
        const c = await getCertificate(admin, ns, 'fabrikam');
        return c?.status?.thumbprint && c.status.thumbprint !== before.status?.thumbprint
          ? c
          : undefined;
      },
      'the renewed certificate',
      60_000,
    );
    const synced = await waitForCondition(
      admin,
      ns,
      'fabrikam',
      'Ready',
      'True',
      undefined,
      60_000,
    );
    expect(condition(synced, 'KeyVaultAccessGranted')).toMatchObject({
      status: 'True',
      reason: 'AccessGranted',
    });
    expect(synced.status?.key?.version).not.toBe(before.status?.key?.version);
    expect(after.status?.thumbprint).not.toBe(before.status?.thumbprint);
    await eventually(
      async () => (der((await stored()).pem) === der(renewed.pem) ? true : undefined),
      'the store holding the renewed certificate',
      60_000,
    );
    expect((await stored()).key.version).toBe(synced.status?.key?.version);
  });
});
