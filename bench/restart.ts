// The restart phase of `make bench`: a new operator process over N existing Ready certificates.
// Confirmed = reconciled by the new process: it sets a certificate's ready-status series on every
// reconcile, and a fresh process has none, so N series with condition="True" mean every one was
// looked at and found Ready. Its request counter says what that cost.
import type { ChildProcess } from 'node:child_process';

const READY_SERIES = /^b2b_certificate_ready_status\{[^}]*condition="True"\} 1$/gm;
const REQUESTS = /^b2b_kube_api_requests_total\{([^}]*)\} (\S+)$/gm;

export async function restartPhase(
  start: (port: number) => ChildProcess,
  count: number,
): Promise<{ seconds: number; listening: number; requests: number; writes: number }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const started = performance.now();
  const child = start(port);
  let listening: number | undefined; // loaded its modules, serving /metrics
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      let text: string;
      try {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        continue; // not listening yet
      }
      listening ??= (performance.now() - started) / 1000;
      if ((text.match(READY_SERIES)?.length ?? 0) < count) continue;
      const seconds = (performance.now() - started) / 1000;
      let requests = 0;
      let writes = 0;
      for (const [, labels, value] of text.matchAll(REQUESTS)) {
        requests += Number(value);
        if (/method="(POST|PUT|PATCH|DELETE)"/.test(labels!)) writes += Number(value);
      }
      return { seconds, listening, requests, writes };
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
