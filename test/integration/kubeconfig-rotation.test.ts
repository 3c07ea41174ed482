// A kubeconfig whose client certificate files are replaced (rotated) while the operator runs:
// the operator picks the new certificate up without a restart and without a failed request.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, testenv } from '../support/cluster.ts';
import { startOperator } from '../support/operator.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';

/** A client certificate for `user`, signed by the test control plane's client CA. */
function issueClientCertificate(dir: string, user: string): { cert: string; key: string } {
  const pki = join(testenv().dir, 'pki');
  const key = join(dir, `${user}.key`);
  const csr = join(dir, `${user}.csr`);
  const cert = join(dir, `${user}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-subj',
      `/CN=${user}`,
      '-out',
      csr,
    ],
    { stdio: 'pipe' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(pki, 'client-ca.crt'),
      '-CAkey',
      join(pki, 'client-ca.key'),
      '-set_serial',
      String(Date.now()),
      '-days',
      '1',
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Replaces a file at once (write then rename), as a secret volume or cert-manager does. */
function replace(file: string, content: string): void {
  writeFileSync(`${file}.new`, content);
  renameSync(`${file}.new`, file);
}

const bindUser = (user: string) => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `rotation-${user}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'b2b-operator' },
    subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
  },
];

describe('a rotated kubeconfig client certificate', () => {
  it('is used for new requests without a restart, before the old one stops working', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'rotation');
    await createAccount(admin, ns, 'contoso');
    const dir = mkdtempSync(join(testenv().dir, 'rotation-'));
    const suffix = Date.now().toString(36);
    const [oldUser, newUser] = [`rotation-old-${suffix}`, `rotation-new-${suffix}`];
    for (const user of [oldUser, newUser])
      for (const binding of bindUser(user))
        await admin.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding);
    const old = issueClientCertificate(dir, oldUser);
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    writeFileSync(certFile, old.cert);
    writeFileSync(keyFile, old.key);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      readFileSync(testenv().operatorKubeconfig, 'utf8')
        .replace(/client-certificate: .*/, `client-certificate: ${certFile}`)
        .replace(/client-key: .*/, `client-key: ${keyFile}`),
    );
    const op = await startOperator(ns, { kubeconfig });
    try {
      await createCertificate(admin, ns, 'before', {
        certificate: { inline: selfSigned('ec256').pem },
      });
      await waitForCondition(admin, ns, 'before', 'Ready', 'True');
      // Rotate: new files in place, then the old identity loses its rights.
      const fresh = issueClientCertificate(dir, newUser);
      replace(keyFile, fresh.key);
      replace(certFile, fresh.cert);
      const rotatedAt = op.requests.length;
      await new Promise((r) => setTimeout(r, 12_000)); // the client rereads its files every 10 s
      await admin.delete(
        `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rotation-${oldUser}`,
      );
      await createCertificate(admin, ns, 'after', {
        certificate: { inline: selfSigned('ec256').pem },
      });
      await waitForCondition(admin, ns, 'after', 'Ready', 'True');
      const refused = op.requests
        .slice(rotatedAt)
        .filter((r) => r.status === 401 || r.status === 403);
      expect(refused).toEqual([]);
    } finally {
      await op.stop();
      await admin
        .delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rotation-${newUser}`)
        .catch(() => undefined);
    }
  });
});
