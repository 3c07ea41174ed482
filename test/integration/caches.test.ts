// What the operator's caches hold: no Secret data in any form, nothing it never reads.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { startOperator } from '../support/operator.ts';

function kubectlApply(manifest: object): void {
  execFileSync(testenv().kubectl, ['--kubeconfig', testenv().adminKubeconfig, 'apply', '-f', '-'], {
    input: JSON.stringify(manifest),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

describe('the metadata-only caches', () => {
  it('hold no Secret data after `kubectl apply` (last-applied-configuration dropped)', async () => {
    const ns = await createNamespace(adminClient(), 'caches');
    const secretValue = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1zdGF5LW91dA=='; // base64
    const configValue = 'a-configmap-value-nobody-caches';
    kubectlApply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'applied',
        namespace: ns,
        labels: { team: 'b2b' },
        annotations: { 'example.com/note': 'not read by the operator' },
      },
      data: { 'tls.key': secretValue },
    });
    kubectlApply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: ns },
      data: { 'ca.crt': configValue },
    });
    kubectlApply({
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: { name: 'contoso', namespace: ns },
      spec: {},
    });
    const op = await startOperator(ns);
    try {
      const secret = await eventually(
        () => Promise.resolve(op.operator.secrets.get(`${ns}/applied`)),
        'the Secret in the cache',
      );
      const configMap = await eventually(
        () => Promise.resolve(op.operator.configMaps.get(`${ns}/applied`)),
        'the ConfigMap in the cache',
      );
      const account = await eventually(
        () => Promise.resolve(op.operator.accounts.get(`${ns}/contoso`)),
        'the account in the cache',
      );
      const cachedSecret = JSON.stringify(secret);
      expect(cachedSecret).not.toContain(secretValue);
      expect(cachedSecret).not.toContain('last-applied-configuration');
      expect(cachedSecret).not.toContain('example.com/note');
      expect(cachedSecret).not.toContain('managedFields');
      expect(secret.metadata?.labels).toEqual({ team: 'b2b' }); // what the operator reads stays
      const cachedConfigMap = JSON.stringify(configMap);
      expect(cachedConfigMap).not.toContain(configValue);
      expect(cachedConfigMap).not.toContain('last-applied-configuration');
      // Through the watch too: a re-applied Secret.
      const newValue = 'bmV3LXNlY3JldC12YWx1ZS1hZnRlci1hLXdhdGNoLWV2ZW50';
      const before = secret.metadata?.resourceVersion;
      kubectlApply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'applied', namespace: ns, labels: { team: 'b2b' } },
        data: { 'tls.key': newValue },
      });
      const updated = await eventually(() => {
        const s = op.operator.secrets.get(`${ns}/applied`);
        return Promise.resolve(s?.metadata?.resourceVersion !== before ? s : undefined);
      }, 'the updated Secret in the cache');
      expect(JSON.stringify(updated)).not.toContain(newValue);
      expect(JSON.stringify(updated)).not.toContain('last-applied-configuration');
      const cachedAccount = JSON.stringify(account);
      expect(cachedAccount).not.toContain('last-applied-configuration');
      expect(cachedAccount).not.toContain('managedFields');
    } finally {
      await op.stop();
    }
  });
});
