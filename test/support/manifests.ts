// Pure checks over the repository's YAML: strict parsing (no duplicate keys, no stray nulls)
// and a walk of CRD schemas. A flow mapping such as `{ description: Of those, how many. }`
// splits at the comma into a cut description and a stray key with a null value; the API
// server accepts that on create but refuses it on re-apply and server-side apply.
import { isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';

export interface YamlProblem {
  file: string;
  problem: string;
}

/** Parses every document strictly; reports syntax errors, duplicate keys and null values. */
export function strictYamlProblems(file: string, text: string): YamlProblem[] {
  const problems: YamlProblem[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, strict: true })) {
    for (const e of [...doc.errors, ...doc.warnings])
      problems.push({ file, problem: `${e.code}: ${e.message.split('\n')[0]}` });
    if (doc.contents) findNulls(doc.contents, '', file, problems);
  }
  return problems;
}

function findNulls(node: Node, path: string, file: string, problems: YamlProblem[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const at = `${path}.${key}`;
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null))
        problems.push({ file, problem: `${at} has no value (null): a broken flow mapping?` });
      else findNulls(pair.value as Node, at, file, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item === null || (isScalar(item) && item.value === null))
        problems.push({ file, problem: `${path}[${i}] is null` });
      else findNulls(item as Node, `${path}[${i}]`, file, problems);
    });
  }
}

/** The keywords of Kubernetes' JSONSchemaProps (apiextensions.k8s.io/v1). */
const openApiKeywords = new Set([
  'id',
  '$schema',
  '$ref',
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'properties',
  'additionalProperties',
  'patternProperties',
  'dependencies',
  'additionalItems',
  'definitions',
  'externalDocs',
  'example',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

const schemaTypes = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks one openAPIV3Schema: known keywords only, a description on every property. */
export function schemaProblems(schema: unknown, path = ''): string[] {
  if (!isSchema(schema)) return [`${path || '<root>'} is not a schema object`];
  const problems: string[] = [];
  for (const key of Object.keys(schema))
    if (!openApiKeywords.has(key)) problems.push(`${path}: unknown keyword "${key}"`);
  if ('type' in schema && !schemaTypes.has(schema.type as string))
    problems.push(`${path}: unknown type ${JSON.stringify(schema.type)}`);
  if ('description' in schema && typeof schema.description !== 'string')
    problems.push(`${path}: description is not a string`);
  if (isSchema(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      const at = `${path}.${name}`;
      // The API server replaces a root `metadata` schema with ObjectMeta's, descriptions included.
      const objectMeta = path.split('.').length === 1 && name === 'metadata';
      if (
        !objectMeta &&
        (!isSchema(child) || typeof child.description !== 'string' || !child.description.trim())
      )
        problems.push(`${at}: no description`);
      problems.push(...schemaProblems(child, at));
    }
  }
  if (schema.items !== undefined) problems.push(...schemaProblems(schema.items, `${path}[]`));
  if (isSchema(schema.additionalProperties))
    problems.push(...schemaProblems(schema.additionalProperties, `${path}{}`));
  for (const combinator of ['allOf', 'oneOf', 'anyOf'] as const) {
    const list = schema[combinator];
    if (Array.isArray(list))
      list.forEach((s, i) => problems.push(...schemaProblems(s, `${path}.${combinator}[${i}]`)));
  }
  return problems;
}

interface CrdDocument {
  kind?: string;
  spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: unknown } }[] };
}

/** Schema problems of every version of a CustomResourceDefinition; [] for other objects. */
export function crdProblems(doc: unknown): string[] {
  const crd = doc as CrdDocument;
  if (crd?.kind !== 'CustomResourceDefinition') return [];
  return (crd.spec?.versions ?? []).flatMap((v) =>
    schemaProblems(v.schema?.openAPIV3Schema, v.name),
  );
}

/** Deleting a CRD deletes every object of its kind: the annotations that keep Helm, Argo CD and
 * Flux from deleting or pruning one, on every path a user installs the CRDs by. */
export const crdKeepAnnotations = {
  'helm.sh/resource-policy': 'keep',
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/** Bytes of a Kubernetes memory quantity such as 1Gi, 512Mi or 500M. */
export function memoryBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? unit[m[2] as keyof typeof unit] : 1);
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}

export interface Deployment {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    replicas?: number;
    template: {
      metadata?: { labels?: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
        containers: Container[];
      };
    };
  };
}

/** What a production Deployment of the operator must have (issue 10); [] when all is there. */
export function operatorDeploymentProblems(deployment: Deployment): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => ok || problems.push(what);
  const pod = deployment.spec.template.spec;
  const c = pod.containers.find((x) => x.name === 'operator');
  if (!c) return ['no container named operator'];
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  expect((deployment.spec.replicas ?? 1) >= 2, 'at least 2 replicas');
  expect(
    (c.args ?? []).includes('--leader-elect') || env.get('B2B_LEADER_ELECT')?.value === 'true',
    'leader election on',
  );
  expect(pod.securityContext?.runAsNonRoot === true, 'runAsNonRoot');
  expect(pod.securityContext?.seccompProfile?.type === 'RuntimeDefault', 'seccomp RuntimeDefault');
  expect(c.securityContext?.readOnlyRootFilesystem === true, 'read-only root filesystem');
  expect(c.securityContext?.allowPrivilegeEscalation === false, 'no privilege escalation');
  expect(c.securityContext?.capabilities?.drop?.includes('ALL') === true, 'capabilities dropped');
  expect(!!c.resources?.requests?.cpu && !!c.resources.requests.memory, 'cpu and memory requests');
  const limit = c.resources?.limits?.memory;
  expect(!!limit, 'a memory limit');
  const heap = /--max-old-space-size=(\d+)/.exec(env.get('NODE_OPTIONS')?.value ?? '');
  if (!heap || !limit) problems.push('NODE_OPTIONS=--max-old-space-size=<MiB>');
  else {
    const share = (Number(heap[1]) * 2 ** 20) / memoryBytes(limit);
    expect(share >= 0.5 && share <= 0.85, `heap cap ${heap[1]} MiB is not 50-85% of ${limit}`);
  }
  const probePort = c.ports?.find((p) => p.name === 'probes');
  const onProbePort = (port: string | number | undefined) =>
    port === 'probes' || port === probePort?.containerPort;
  expect(
    c.livenessProbe?.httpGet?.path === '/healthz' && onProbePort(c.livenessProbe.httpGet.port),
    'liveness /healthz on the probe port',
  );
  expect(
    c.readinessProbe?.httpGet?.path === '/readyz' && onProbePort(c.readinessProbe.httpGet.port),
    'readiness /readyz on the probe port',
  );
  // The operator cancels in-flight work after B2B_GRACEFUL_SHUTDOWN_TIMEOUT; the kubelet's
  // SIGKILL must come later, with time left to release the Lease and exit.
  const shutdown = /^(\d+)s$/.exec(env.get('B2B_GRACEFUL_SHUTDOWN_TIMEOUT')?.value ?? '');
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  expect(
    !!shutdown && grace >= Number(shutdown[1]) + 5 && grace <= 60,
    'terminationGracePeriodSeconds 5-40 s above B2B_GRACEFUL_SHUTDOWN_TIMEOUT (in seconds)',
  );
  expect(
    env.get('POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace',
    'POD_NAMESPACE from the downward API',
  );
  return problems;
}
