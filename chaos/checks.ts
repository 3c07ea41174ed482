// The chaos run's checks: pure functions from what was declared (workload.ts) and what the
// cluster holds to PASS/FAIL with counts.
import type { KeyObject } from 'node:crypto';
import type { Certificate } from '../src/api/types.ts';
import { countBy, type PlannedCertificate } from './workload.ts';

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface StoreSecret {
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

/** 'Ready', or the reason of Ready=False; 'pending' while the current generation is unseen. */
export function verdictOf(c: Certificate | undefined): string {
  if (!c) return 'gone';
  if (c.metadata.deletionTimestamp) return 'terminating';
  if (c.status?.observedGeneration !== c.metadata.generation) return 'pending';
  const ready = c.status?.conditions?.find((x) => x.type === 'Ready');
  if (!ready) return 'pending';
  return ready.status === 'True' ? 'Ready' : ready.reason;
}

/** `kind/name` -> resourceVersion. */
export type Snapshot = Map<string, string>;

const some = (items: string[]) =>
  items.length ? ` (${items.slice(0, 5).join('; ')}${items.length > 5 ? '; …' : ''})` : '';

export function checkVerdicts(
  planned: PlannedCertificate[],
  actual: Certificate[],
  converged: boolean,
): Check {
  const byName = new Map(actual.map((c) => [c.metadata.name, c]));
  const wrong: string[] = [];
  const living = planned.filter((c) => !c.deleted);
  for (const c of living) {
    const got = verdictOf(byName.get(c.name));
    if (got !== c.verdict) wrong.push(`${c.name}: ${got}, deserves ${c.verdict}`);
  }
  const counts = Object.entries(countBy(living, (c) => c.verdict))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return {
    name: 'every Certificate reaches the verdict its content deserves',
    pass: wrong.length === 0 && converged,
    detail: `${living.length - wrong.length}/${living.length} as deserved (${counts}); ${wrong.length} wrong${some(wrong)}`,
  };
}

const derOf = (tlsCrt: string | undefined) => {
  const pemText = Buffer.from(tlsCrt ?? '', 'base64').toString();
  const body = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pemText)?.[1];
  return body ? Buffer.from(body.replace(/\s/g, ''), 'base64') : Buffer.alloc(0);
};

/**
 * One entry per certificate that has (or had, for a broken edit) a good version and is not
 * deleted with Delete; its content is that version's; no entry has an ownerReference, and
 * Retain also drops the certificate-uid label.
 */
export function checkStore(planned: PlannedCertificate[], store: StoreSecret[]): Check[] {
  const entries = new Map<string, StoreSecret[]>();
  for (const s of store) {
    const owner =
      s.metadata.annotations?.['integration.b2b.dev/certificate'] ??
      s.metadata.labels?.['integration.b2b.dev/certificate'] ??
      '';
    entries.set(owner, [...(entries.get(owner) ?? []), s]);
  }
  const plannedNames = new Set(planned.map((c) => c.name));
  const problems: string[] = [];
  const halfWritten: string[] = [];
  let expectedEntries = 0;
  let retained = 0;
  for (const c of planned) {
    const found = entries.get(c.name) ?? [];
    if (!c.storeDer) {
      if (found.length) problems.push(`${c.name}: ${found.length} entries, expected none`);
      continue;
    }
    expectedEntries++;
    if (found.length !== 1) {
      problems.push(`${c.name}: ${found.length} entries, expected 1`);
      continue;
    }
    const s = found[0]!;
    const uidLabel = s.metadata.labels?.['integration.b2b.dev/certificate-uid'];
    const owned = (s.metadata.ownerReferences ?? []).length > 0;
    if (c.retained) {
      retained++;
      if (uidLabel || owned) problems.push(`${c.name}: retained entry still claims an owner`);
    } else {
      if (!uidLabel) problems.push(`${c.name}: entry without its certificate-uid label`);
      // No entry carries an ownerReference: uninstalling must never garbage-collect one.
      if (owned)
        problems.push(`${c.name}: ownerReference on the entry, policy ${c.deletionPolicy}`);
    }
    if (!derOf(s.data?.['tls.crt']).equals(c.storeDer)) halfWritten.push(`${c.name}: tls.crt`);
    if (!s.data?.['metadata.json'] || !s.metadata.annotations?.['integration.b2b.dev/content-hash'])
      halfWritten.push(`${c.name}: metadata.json or content hash missing`);
    if (c.storeKey) {
      const key = JSON.parse(
        Buffer.from(s.data?.['key.json'] ?? '', 'base64').toString() || '{}',
      ) as {
        vault?: string;
        name?: string;
        version?: string;
      };
      if (key.vault !== c.storeKey.vault || key.name !== c.storeKey.name || !key.version)
        halfWritten.push(`${c.name}: key.json ${JSON.stringify(key)}`);
    } else if (s.data?.['key.json']) halfWritten.push(`${c.name}: key.json on a Public entry`);
  }
  const strays = [...entries.keys()].filter((n) => !plannedNames.has(n));
  for (const n of strays) problems.push(`${n}: an entry for no planned certificate`);
  const deletedDelete = planned.filter((c) => c.deleted && !c.retained).length;
  return [
    {
      name: 'store: exactly one entry per Ready certificate, none for deleted ones (unless Retain)',
      pass: problems.length === 0,
      detail: `${store.length} entries; expected ${expectedEntries} (${retained} retained after deletion), none for ${deletedDelete} deleted with Delete; ${problems.length} problems${some(problems)}`,
    },
    {
      name: 'store: no half-written entry (content matches the certificate)',
      pass: halfWritten.length === 0,
      detail: `${store.length - halfWritten.length}/${store.length} entries complete and matching${some(halfWritten)}`,
    },
  ];
}

export function checkDeletions(planned: PlannedCertificate[], actual: Certificate[]): Check {
  const byName = new Map(actual.map((c) => [c.metadata.name, c]));
  const stuck = planned.filter((c) => c.deleted && byName.has(c.name)).map((c) => c.name);
  const terminating = actual
    .filter((c) => c.metadata.deletionTimestamp)
    .map((c) => `${c.metadata.name} (${(c.metadata.finalizers ?? []).join(',')})`);
  const deleted = planned.filter((c) => c.deleted).length;
  return {
    name: 'no finalizer left on a deleted object (nothing stuck Terminating)',
    pass: stuck.length === 0 && terminating.length === 0,
    detail: `${deleted - stuck.length}/${deleted} deleted certificates gone; ${terminating.length} Terminating${some([...stuck, ...terminating])}`,
  };
}

export function checkForeign(before: Map<string, string>, after: Map<string, string>): Check {
  const changed = [...before].filter(([name, v]) => after.get(name) !== v).map(([n]) => n);
  return {
    name: 'no foreign object changed',
    pass: changed.length === 0,
    detail: `${before.size - changed.length}/${before.size} foreign Secrets with store-like names unchanged (resourceVersion, labels, annotations, owners, data)${some(changed)}`,
  };
}

export function checkQuiet(before: Snapshot, after: Snapshot, seconds: number): Check {
  const written: string[] = [];
  for (const [key, rv] of after) if (before.get(key) !== rv) written.push(key);
  for (const key of before.keys()) if (!after.has(key)) written.push(`${key} (deleted)`);
  return {
    name: 'no status flapping after convergence',
    pass: written.length === 0,
    detail: `${before.size} objects (Certificates, accounts, Secrets, Events) watched for ${seconds} s: ${written.length} writes${some(written)}`,
  };
}

export interface Needle {
  what: string;
  text: string;
}

/** Pieces of every private key (PEM bodies, PKCS#1 and PKCS#8, and the JWK's d) and credential. */
export function secretNeedles(keys: KeyObject[], pemKeys: string[]): Needle[] {
  const needles: Needle[] = [{ what: 'a PEM private key header', text: 'PRIVATE KEY-----' }];
  const bodyLines = (pemText: string) =>
    pemText
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .slice(1, 3); // the first line is mostly the algorithm's header, the same for every key
  keys.forEach((k, i) => {
    for (const type of ['pkcs8', 'pkcs1'] as const)
      for (const line of bodyLines(k.export({ type, format: 'pem' }) as string))
        needles.push({ what: `private key ${i} (${type} PEM body)`, text: line });
    const d = k.export({ format: 'jwk' }).d;
    if (d) needles.push({ what: `private key ${i} (JWK d)`, text: d.slice(0, 40) });
  });
  pemKeys.forEach((p, i) => {
    for (const line of bodyLines(p))
      needles.push({ what: `kubeconfig client key ${i} (PEM body)`, text: line });
  });
  return needles;
}

export function checkNoSecrets(
  needles: Needle[],
  haystacks: { where: string; text: string }[],
): Check {
  const hits: string[] = [];
  let bytes = 0;
  for (const h of haystacks) {
    bytes += h.text.length;
    for (const n of needles) if (h.text.includes(n.text)) hits.push(`${n.what} in ${h.where}`);
  }
  const groups = countBy(haystacks, (h) => h.where.split(' ')[0]!);
  return {
    name: 'no private key material or token in logs, events, statuses or store',
    pass: hits.length === 0,
    detail: `${needles.length} needles (${needles.filter((n) => n.what.startsWith('private key')).length} from the run's private keys) searched in ${(bytes / 1e6).toFixed(1)} MB (${Object.entries(
      groups,
    )
      .map(([k, v]) => `${v} ${k}${v > 1 ? 's' : ''}`)
      .join(', ')}): ${hits.length} found${some(hits)}`,
  };
}
