// Builders and readers for the API's objects in integration tests.
import { findCondition } from '../../src/api/conditions.ts';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
  type CertificateSpec,
  type IntegrationAccount,
  type IntegrationAccountSpec,
} from '../../src/api/types.ts';
import { isNotFound, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { execFile } from 'node:child_process';
import { eventually, testenv } from './cluster.ts';

export function createAccount(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: IntegrationAccountSpec = {},
) {
  return client.create<IntegrationAccount>(
    resourcePath(IntegrationAccountResource, { namespace }),
    {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name },
      spec,
    },
  );
}

export function createCertificate(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: Partial<CertificateSpec> & Pick<CertificateSpec, 'certificate'>,
) {
  return client.create<Certificate>(resourcePath(CertificateResource, { namespace }), {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name },
    spec: { integrationAccount: { name: 'contoso' }, type: 'Public', ...spec },
  });
}

export async function getCertificate(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Certificate | undefined> {
  try {
    return await client.get<Certificate>(resourcePath(CertificateResource, { namespace, name }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function condition(
  obj:
    | {
        status?: {
          conditions?: Certificate['status'] extends infer S
            ? S extends { conditions?: infer C }
              ? C
              : never
            : never;
        };
      }
    | undefined,
  type: string,
) {
  return findCondition(obj?.status?.conditions, type);
}

/** Waits until the certificate's condition `type` has `status` (and `reason`, if given), at the current generation. */
export function waitForCondition(
  client: KubeClient,
  namespace: string,
  name: string,
  type: string,
  status: 'True' | 'False' | 'Unknown',
  reason?: string,
  timeoutMs = 30_000,
): Promise<Certificate> {
  return eventually(
    async () => {
      const c = await getCertificate(client, namespace, name);
      const cond = condition(c, type);
      const current = c?.status?.observedGeneration === c?.metadata.generation;
      return current && cond?.status === status && (reason === undefined || cond.reason === reason)
        ? c
        : undefined;
    },
    `Certificate ${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
    timeoutMs,
  );
}

/** `kubectl apply -f -` as the admin, the way a user applies a manifest. */
export function kubectlApply(namespace: string, manifest: unknown): Promise<string> {
  const { kubectl, adminKubeconfig } = testenv();
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectl,
      ['--kubeconfig', adminKubeconfig, '-n', namespace, 'apply', '-f', '-'],
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin!.end(JSON.stringify(manifest));
  });
}
