#!/usr/bin/env node
// `b2b` and `kubectl-b2b`: the package runs its TypeScript sources directly with Node's type
// stripping, as `npm start` does for the operator; that needs Node 24 (the version the
// project pins).
if (!process.features.typescript) {
  console.error(
    `b2b needs Node.js 24 or newer (it runs TypeScript with Node's type stripping); this is Node ${process.version}`,
  );
  process.exit(2);
}
const { runFromProcess } = await import('../src/cli/process.ts');
await runFromProcess();
