#!/usr/bin/env node
// `b2b` and `kubectl-b2b`. The package runs its TypeScript sources directly with Node's type
// stripping, as `npm start` does for the operator; that needs Node 24, the version the project
// pins. Node refuses to strip types under node_modules, so when the package is installed as a
// dependency (npx b2b-certificate-operator) this shim strips its own sources in a load hook.
import { readFileSync } from 'node:fs';
import { enableCompileCache, registerHooks, stripTypeScriptTypes } from 'node:module';

if (!process.features.typescript) {
  console.error(
    `b2b needs Node.js 24 or newer (it runs TypeScript with Node's type stripping); this is Node ${process.version}`,
  );
  process.exit(2);
}

// Caches compiled (and type-stripped) modules in the temp folder: start-up drops from about a
// second to a few hundred milliseconds after the first run.
enableCompileCache();

const root = new URL('../', import.meta.url).href;
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
