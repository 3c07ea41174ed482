// Generates src/api/generated.ts from the CRD schemas in crds/: the CRDs are the one source
// of truth for the API's shapes. `npm run gen:types` rewrites the file; a unit test fails
// when the committed file and the CRDs disagree.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
export const generatedTypesPath = `${root}src/api/generated.ts`;

const crdFiles = [
  ['IntegrationAccount', 'crds/integration.b2b.dev_integrationaccounts.yaml'],
  ['Certificate', 'crds/integration.b2b.dev_certificates.yaml'],
] as const;

interface CrdDocument {
  spec: { versions: { name: string; schema: { openAPIV3Schema: JSONSchema } }[] };
}

// Kubernetes-only keywords mean nothing to TypeScript; dropping them keeps the output stable.
function stripKubernetesKeywords(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripKubernetesKeywords);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    out[key] = stripKubernetesKeywords(value);
  }
  return out;
}

export async function generateTypes(): Promise<string> {
  const parts = [
    '/* eslint-disable */',
    '// Generated from crds/ by scripts/generate-types.ts (npm run gen:types). Do not edit.',
    '',
  ];
  for (const [kind, file] of crdFiles) {
    const crd = parse(await readFile(`${root}${file}`, 'utf8')) as CrdDocument;
    const root_ = crd.spec.versions[0]?.schema.openAPIV3Schema;
    if (!root_?.properties) throw new Error(`${file}: no openAPIV3Schema`);
    for (const part of ['spec', 'status'] as const) {
      const schema = stripKubernetesKeywords(root_.properties[part]) as JSONSchema;
      const name = `${kind}${part === 'spec' ? 'Spec' : 'Status'}`;
      const ts = await compile({ ...schema, title: name }, name, {
        bannerComment: '',
        additionalProperties: false,
        maxItems: -1,
        strictIndexSignatures: true,
        format: true,
        style: { singleQuote: true, printWidth: 100, trailingComma: 'all' },
      });
      parts.push(ts.trim(), '');
    }
  }
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(generatedTypesPath, await generateTypes());
  console.log(`wrote ${generatedTypesPath}`);
}
