// `b2b check api`: waits until the API is usable for this operator, for CI after an install.
// "Installed": discovery serves both kinds and they can be listed (a new CRD answers 429 until
// its storage is ready). "The operator answers": a probe IntegrationAccount created for the
// check is processed by the operator (its status.observedGeneration reaches its generation);
// that proves the whole watch -> reconcile -> status path, with or without leader election.
import {
  CertificateResource,
  GROUP,
  IntegrationAccountResource,
  VERSION,
  type IntegrationAccount,
} from '../api/types.ts';
import { parseGoDuration } from '../certificates/duration.ts';
import { resourcePath, type KubeClient } from '../kube/client.ts';
import { UsageError, flag, parseCliDuration, type ParsedArgs } from './args.ts';
import type { Io } from './main.ts';
import { connect } from './status-command.ts';

const POLL_MS = 1000;
const CLEANUP_MS = 10_000;

export async function runCheckApi(io: Io, args: ParsedArgs): Promise<number> {
  const [what, ...extra] = args.positional;
  if (what !== 'api' || extra.length) throw new UsageError('expected `b2b check api`');
  const waitText = flag(args, 'wait') ?? '2m';
  const waitMs = parseCliDuration(waitText, parseGoDuration);
  if (waitMs === undefined)
    throw new UsageError(`--wait must be a duration such as 2m, not ${waitText}`);
  const format = flag(args, 'output') ?? 'human';
  if (!['human', 'json'].includes(format))
    throw new UsageError(`-o must be human or json, not ${format}`);
  const deadline = Date.now() + waitMs;
  let crds: true | string = 'not checked';
  let operator: true | string = 'not checked';
  try {
    const connected = connect(args);
    const { namespace } = connected;
    // --wait bounds the whole check: a request that hangs ends with it, not after its own timeout.
    const client = connected.client.fenced({ signal: () => untilDeadline(deadline) });
    crds = await until(deadline, () => crdsServed(client, namespace));
    if (crds === true)
      operator = await operatorAnswers(client, connected.client, namespace, deadline);
    if (format === 'json') io.stdout(JSON.stringify({ crds, operator }, null, 2) + '\n');
    else report(io, namespace, crds, operator);
  } catch (err) {
    if (format !== 'json') throw err;
    const error = err instanceof Error ? err.message : String(err);
    io.stdout(JSON.stringify({ crds, operator, error }, null, 2) + '\n');
    return 1;
  }
  return crds === true && operator === true ? 0 : 1;
}

function report(io: Io, namespace: string, crds: true | string, operator: true | string): void {
  if (crds !== true) {
    io.stderr(`error: the CRDs are not served: ${crds}\n`);
    return;
  }
  io.stdout(`The CRDs are installed and served (${GROUP}/${VERSION}).\n`);
  if (operator === true)
    io.stdout(
      `The operator answers: it processed a probe IntegrationAccount in namespace ${namespace}.\n`,
    );
  else io.stderr(`error: the operator does not answer: ${operator}\n`);
}

/** Aborts at the deadline, with a reason that names --wait. */
function untilDeadline(deadline: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('no answer within --wait')),
    Math.max(0, deadline - Date.now()),
  );
  timer.unref();
  return controller.signal;
}

/** Retries `probe` until it returns true or the deadline passes; then its last answer. */
async function until(
  deadline: number,
  probe: () => Promise<true | string>,
): Promise<true | string> {
  for (;;) {
    let answer: true | string;
    try {
      answer = await probe();
    } catch (err) {
      answer = (err as Error).message;
    }
    if (answer === true || Date.now() + POLL_MS > deadline) return answer;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function crdsServed(client: KubeClient, namespace: string): Promise<true | string> {
  const discovery = await client.get<{ resources: { name: string }[] }>(
    `/apis/${GROUP}/${VERSION}`,
  );
  const served = new Set(discovery.resources.map((r) => r.name));
  const missing = ['certificates', 'integrationaccounts'].filter((r) => !served.has(r));
  if (missing.length) return `${GROUP}/${VERSION} does not serve ${missing.join(', ')}`;
  await client.list(resourcePath(CertificateResource, { namespace }), { limit: 1 });
  await client.list(resourcePath(IntegrationAccountResource, { namespace }), { limit: 1 });
  return true;
}

/** `cleanup` deletes the probe account: after the deadline too, so that none is left behind. */
async function operatorAnswers(
  client: KubeClient,
  cleanup: KubeClient,
  namespace: string,
  deadline: number,
): Promise<true | string> {
  const probe = await client.create<IntegrationAccount>(
    resourcePath(IntegrationAccountResource, { namespace }),
    {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'IntegrationAccount',
      metadata: {
        generateName: 'b2b-check-api-',
        labels: { 'app.kubernetes.io/created-by': 'b2b-check-api' },
      },
      spec: { sku: 'Free' },
    },
  );
  const path = resourcePath(IntegrationAccountResource, { namespace, name: probe.metadata.name });
  try {
    return await until(deadline, async () => {
      const seen = await client.get<IntegrationAccount>(path);
      const observed = seen.status?.observedGeneration;
      return observed !== undefined && observed === seen.metadata.generation
        ? true
        : `probe IntegrationAccount ${namespace}/${probe.metadata.name} has no status from the operator yet (is it running and watching ${namespace}?)`;
    });
  } finally {
    await cleanup
      .fenced({ signal: () => AbortSignal.timeout(CLEANUP_MS) })
      .delete(path)
      .catch(() => undefined);
  }
}
