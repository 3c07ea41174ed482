// The migration end to end: entries added in Azure by hand (and one an earlier cluster wrote)
// are imported with `b2b import azure`, applied, and adopted by the operator process against the
// ARM test server. What it costs in Azure: nothing. The imported manifests say exactly what each
// entry holds, so each is adopted on the record of status.store.adopted without a PUT, PATCH or
// DELETE (the ARM server's request log proves it); the marker comes with the next write needed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesName } from '../../src/cli/import-azure.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { kubectl, repoRoot, succeeded } from '../support/kubectl.ts';
import { OidcTokenEndpoint } from '../support/oidc.ts';
import { condition, getCertificate, waitForCondition } from '../support/resources.ts';

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';

interface Entry {
  properties: { publicCertificate: string; metadata?: Record<string, unknown>; key?: unknown };
}

describe('b2b import azure, applied: the operator adopts every entry', () => {
  let admin: KubeClient;
  let ns: string;
  let arm: ArmTestServer;
  let op: OperatorProcess | undefined;
  const oidc = new OidcTokenEndpoint();
  let accountId: string;
  let dir: string;
  const certs = {
    fabrikam: selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }),
    Partner_X: selfSigned('ec256', {}, 1),
    earlier: selfSigned('rsa2048', {}, 2),
  };

  function importManifests(): Promise<{ code: number; stdout: string; stderr: string }> {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, `${readFileSync(arm.caFile, 'utf8')}\n${oidc.certificatePem}`);
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [
          join(repoRoot, 'bin/b2b.js'),
          'import',
          'azure',
          accountId,
          '-n',
          ns,
          '--auth',
          'managedIdentity',
          '--azure-arm-endpoint',
          arm.url,
        ],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            NODE_EXTRA_CA_CERTS: caFile,
            AZURE_AUTHORITY_HOST: oidc.authorityHost,
            AZURE_TENANT_ID: 'import-tenant',
            AZURE_CLIENT_ID: 'import-client',
            AZURE_CLIENT_SECRET: 'import-secret',
          },
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  }

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'importadopt');
    dir = mkdtempSync(join(tmpdir(), 'b2b-import-adopt-'));
    arm = await new ArmTestServer().start();
    await oidc.start();
    arm.acceptForeignTokens = true;
    accountId = arm.addAccount(SUB, RG, 'contoso-ia', 'Standard');
    arm.putForeign(accountId, 'fabrikam', {
      properties: {
        publicCertificate: certs.fabrikam.der.toString('base64'),
        metadata: { partner: 'fabrikam' },
      },
    });
    arm.putForeign(accountId, 'Partner_X', {
      properties: { publicCertificate: certs.Partner_X.der.toString('base64') },
    });
    arm.putForeign(accountId, 'earlier', {
      properties: {
        publicCertificate: certs.earlier.der.toString('base64'),
        metadata: {
          b2bOperator: { certificate: `${ns}/earlier`, uid: 'uid-of-a-lost-cluster' },
        },
      },
    });
  });

  afterEach(() => {
    expect(arm.invalidBodies).toEqual([]);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    await arm?.stop();
    await oidc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adopts every imported entry with zero writes to Azure: Ready and Synced, each status recording the entry it holds', async () => {
    const before = new Map(
      Object.keys(certs).map((name) => [
        name,
        structuredClone(arm.certificate(accountId, name)) as unknown as Entry,
      ]),
    );
    const imported = await importManifests();
    expect(imported.stderr).toContain('imported 3 certificates');
    expect(imported.code).toBe(0);
    succeeded(await kubectl(['apply', '--server-side', '-f', '-'], imported.stdout));

    op = startOperatorProcess(ns, arm, { recheckInterval: '3s' });
    const names = {
      fabrikam: 'fabrikam',
      Partner_X: kubernetesName('Partner_X'),
      earlier: 'earlier',
    };
    for (const [azureName, name] of Object.entries(names)) {
      await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 90_000);
      const certificate = await eventually(async () => {
        const c = await getCertificate(admin, ns, name);
        return c?.status?.store?.adopted ? c : undefined;
      }, `status.store.adopted of ${name}`);
      expect(condition(certificate, 'Synced')?.status).toBe('True');
      expect(certificate.status?.store?.ref?.toLowerCase()).toBe(
        `${accountId}/certificates/${azureName}`.toLowerCase(),
      );
      // Azure holds what it held, byte for byte: the marker too (the earlier cluster's, or none).
      expect(arm.certificate(accountId, azureName)).toEqual(before.get(azureName));
    }
    const writes = () => arm.calls.filter((c) => ['PUT', 'PATCH', 'DELETE'].includes(c.method));
    expect(writes()).toEqual([]);
    // Steady state: rechecks every 3 s, still no write.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(writes()).toEqual([]);
    expect(arm.calls.filter((c) => c.method === 'GET').length).toBeGreaterThan(3);
  });
});
