// Reading manifests the way kubectl does: files, folders (recursively, *.yaml, *.yml, *.json),
// and `-` for standard input; multi-document YAML streams and `kind: List` are split into
// objects, each remembering the file and line it came from (for SARIF annotations).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';

export interface SourceObject {
  file: string;
  line: number;
  object: Record<string, unknown>;
}

export interface InputProblem {
  file: string;
  line: number;
  message: string;
}

export interface ReadResult {
  objects: SourceObject[];
  problems: InputProblem[];
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Files a path names: itself, or the manifests under a folder in name order. */
export function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return manifestFiles(child);
      return MANIFEST.test(entry.name) ? [child] : [];
    });
}

export function readManifests(paths: readonly string[], stdin: () => string): ReadResult {
  const result: ReadResult = { objects: [], problems: [] };
  for (const path of paths) {
    if (path === '-') {
      collect(result, 'stdin', stdin());
      continue;
    }
    let files: string[];
    try {
      files = manifestFiles(path);
    } catch (err) {
      result.problems.push({ file: path, line: 1, message: (err as Error).message });
      continue;
    }
    for (const file of files) collect(result, file, readFileSync(file, 'utf8'));
  }
  return result;
}

/** Splits one text (YAML stream or JSON) into objects. */
export function parseManifests(file: string, text: string): ReadResult {
  const result: ReadResult = { objects: [], problems: [] };
  collect(result, file, text);
  return result;
}

function collect(result: ReadResult, file: string, text: string): void {
  const lineCounter = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    const start = doc.contents?.range[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    const error = doc.errors[0];
    if (error) {
      result.problems.push({ file, line, message: `not valid YAML: ${error.message}` });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    for (const object of listItems(value)) {
      if (isObject(object)) result.objects.push({ file, line, object });
      else result.problems.push({ file, line, message: 'a document that is not an object' });
    }
  }
}

function listItems(value: unknown): unknown[] {
  if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List')) {
    return Array.isArray(value.items) ? value.items.flatMap(listItems) : [];
  }
  return [value];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
