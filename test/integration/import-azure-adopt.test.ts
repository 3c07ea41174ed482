// The migration end to end: entries added in Azure by hand (and one an earlier cluster wrote)
// are imported with `b2b import azure`, applied, and adopted by the operator process against the
// ARM test server. What it costs in Azure: one PUT per entry (the marker: ARM has no partial
// update of a certificate), no change of the certificate, key or user metadata, and no PUT after.
// Needs spec.adoption (branch day2-adopt, merged into main).
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
import { adminClient, createNamespace } from '../support/cluster.ts';
import { kubectl, repoRoot, succeeded } from '../support/kubectl.ts';
import { OidcTokenEndpoint } from '../support/oidc.ts';
import { waitForCondition } from '../support/resources.ts';

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

  it('adopts each imported entry with one PUT that changes nothing but the marker, then writes nothing', async () => {
    const before = new Map(
      Object.keys(certs).map((name) => [
        name,
        arm.certificate(accountId, name) as unknown as Entry,
      ]),
    );
    const imported = await importManifests();
    expect(imported.stderr).toContain('imported 3 certificates');
    expect(imported.code).toBe(0);
    succeeded(await kubectl(['apply', '--server-side', '-f', '-'], imported.stdout));
    expect(arm.writes()).toEqual([]);

    op = startOperatorProcess(ns, arm, { recheckInterval: '3s' });
    const names = {
      fabrikam: 'fabrikam',
      Partner_X: kubernetesName('Partner_X'),
      earlier: 'earlier',
    };
    for (const name of Object.values(names))
      await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 90_000);

    const puts = arm.writes();
    expect(puts.map((c) => c.method)).toEqual(['PUT', 'PUT', 'PUT']);
    expect(puts.map((c) => c.path.split('/').pop()).sort()).toEqual(Object.keys(certs).sort());
    for (const [azureName, name] of Object.entries(names)) {
      const now = arm.certificate(accountId, azureName) as unknown as Entry;
      const was = before.get(azureName)!;
      expect(now.properties.publicCertificate).toBe(was.properties.publicCertificate);
      expect(now.properties.key).toEqual(was.properties.key);
      const { b2bOperator: marker, ...userMetadata } = now.properties.metadata ?? {};
      const userMetadataBefore = Object.fromEntries(
        Object.entries(was.properties.metadata ?? {}).filter(([k]) => k !== 'b2bOperator'),
      );
      expect(userMetadata).toEqual(userMetadataBefore);
      const certificate = await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready');
      expect(marker).toMatchObject({
        certificate: `${ns}/${name}`,
        uid: certificate.metadata.uid,
      });
    }
    // Steady state: rechecks every 3 s, no PUT.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(arm.writes()).toHaveLength(3);
  });
});
