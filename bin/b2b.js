#!/usr/bin/env node
// `b2b` and `kubectl-b2b`. The package runs its TypeScript sources directly with Node's type
// stripping, as `npm start` does for the operator; that needs Node 24, the version the project
// pins. Node refuses to strip types under node_modules, so when the package is installed as a
// dependency (npx b2b-certificate-operator) this shim strips its own sources in a load hook.
//
// This file runs on any Node: an older one (the machine's, found first on PATH by the shebang
// or by kubectl) runs it again with the pinned Node of node_modules/.bin when there is one,
// else says in one line what to do. So it imports nothing by name that older Nodes lack: a
// missing named export fails at link time, before any line here runs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const { enableCompileCache, registerHooks, stripTypeScriptTypes } = nodeModule;
const root = new URL('../', import.meta.url).href;
const rootPath = fileURLToPath(root);
const REEXEC = 'B2B_PINNED_NODE_REEXEC';

/** node_modules/.bin/node of this checkout, or of the project that has this package installed. */
function pinnedNodes() {
  const candidates = [join(rootPath, 'node_modules', '.bin', 'node')];
  const inNodeModules = rootPath.lastIndexOf(`${sep}node_modules${sep}`);
  if (inNodeModules >= 0)
    candidates.push(join(rootPath.slice(0, inNodeModules), 'node_modules', '.bin', 'node'));
  return candidates.filter((node) => existsSync(node) && node !== process.execPath);
}

if (!process.features.typescript || !registerHooks || !stripTypeScriptTypes) {
  const [pinned] = process.env[REEXEC] ? [] : pinnedNodes();
  if (pinned) {
    const script = fileURLToPath(import.meta.url);
    const child = spawnSync(pinned, [script, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, [REEXEC]: '1' },
    });
    if (child.signal) process.kill(process.pid, child.signal);
    if (!child.error) process.exit(child.status ?? 1);
  }
  const fix = existsSync(join(rootPath, 'package-lock.json'))
    ? `run \`npm ci\` in ${rootPath.replace(/\/$/, '')} to get the pinned Node in node_modules/.bin, or put Node.js 24 first on PATH`
    : 'put Node.js 24 first on PATH';
  console.error(
    `b2b needs Node.js 24 (it runs TypeScript with Node's type stripping) but runs on Node ${process.version}: ${fix}`,
  );
  process.exit(2);
}

// Caches compiled (and type-stripped) modules in the temp folder: start-up drops from about a
// second to a few hundred milliseconds after the first run.
enableCompileCache();

if (root.includes('/node_modules/')) {
  const ownDependencies = `${root}node_modules/`;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith(root) || url.startsWith(ownDependencies) || !url.endsWith('.ts'))
        return nextLoad(url, context);
      const emitWarning = process.emitWarning;
      process.emitWarning = () => {}; // stripTypeScriptTypes is marked experimental
      try {
        const source = stripTypeScriptTypes(readFileSync(new URL(url), 'utf8'));
        return { format: 'module', source, shortCircuit: true };
      } finally {
        process.emitWarning = emitWarning;
      }
    },
  });
}

const { runFromProcess } = await import('../src/cli/process.ts');
await runFromProcess();
