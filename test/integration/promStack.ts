import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { findExecutable } from '../../src/lab/binaries.js';
import { logTail, startDetached, stopProgram, type StartedProcess } from '../../src/lab/processes.js';

// A real Pushgateway and a real Prometheus on 127.0.0.1 for tests: Prometheus
// scrapes the Pushgateway every second with honor_labels (so the pushed job
// and grouping labels run_id/shard stay as pushed), both on free ports, with
// their config and storage in a temp dir, both stopped by pid at the end.

/** The programs, as Debian's packages name them (scripts/setup.sh --lab installs both). */
const PROGRAMS = [
  { name: 'prometheus-pushgateway', aptPackage: 'prometheus-pushgateway' },
  { name: 'prometheus', aptPackage: 'prometheus' },
] as const;

/** Scrape (and so visibility) every second: a test waits seconds, not the default 15. */
const SCRAPE_INTERVAL_SECONDS = 1;
const SCRAPE_JOB = 'pushgateway';

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

export interface PromStack {
  pushgatewayUrl: string;
  prometheusUrl: string;
  /** The two programs' pids (each leads its own process group), to check that nothing is left. */
  pids: number[];
  /** An instant query's one value: undefined when it matches nothing; a query giving several series throws (aggregate it). */
  query(promql: string): Promise<number | undefined>;
  /** An instant query's series with their labels (no __name__). */
  querySeries(promql: string): Promise<PromSeries[]>;
  /** Polls `query` until it gives `expected` (or satisfies it); resolves with that value, or throws with the last one seen. */
  waitFor(promql: string, expected: number | ((value: number | undefined) => boolean), timeoutMs?: number): Promise<number | undefined>;
  /** Stops both programs by pid (SIGTERM, then SIGKILL) and removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Why the stack cannot start here (which package to install), or undefined when it can. */
export function missingPromStack(): string | undefined {
  const missing = PROGRAMS.filter((program) => findExecutable(program.name) === undefined);
  if (missing.length === 0) return undefined;
  return `${missing.map((program) => `'${program.name}' not found on PATH`).join(', ')} (apt-get install ${missing.map((program) => program.aptPackage).join(' ')}, or bash scripts/setup.sh --lab)`;
}

export async function startPromStack(): Promise<PromStack> {
  const missing = missingPromStack();
  if (missing !== undefined) throw new Error(`cannot start Prometheus and the Pushgateway: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'callwright-promstack-'));
  const started: Started[] = [];
  const stop = async () => {
    for (const { program, child } of started.splice(0).reverse()) await stopProgram(child.pid, program);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pushgatewayPort = await freeTcpPort();
    const pushgatewayUrl = `http://127.0.0.1:${pushgatewayPort}`;
    // Empty persistence file: metrics live in memory only, nothing is written outside the temp dir.
    started.push(await startProgram(dir, 'prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${pushgatewayPort}`, '--persistence.file=']));
    await waitUntilReady(pushgatewayUrl, started.at(-1)!, join(dir, 'prometheus-pushgateway.log'));

    const prometheusPort = await freeTcpPort();
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(`127.0.0.1:${pushgatewayPort}`));
    started.push(
      await startProgram(dir, 'prometheus', [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ]),
    );
    await waitUntilReady(prometheusUrl, started.at(-1)!, join(dir, 'prometheus.log'));

    const querySeries = (promql: string) => instantQuery(prometheusUrl, promql);
    const query = async (promql: string) => {
      const series = await querySeries(promql);
      if (series.length > 1) throw new Error(`${promql} gives ${series.length} series, not one: aggregate it (sum, max...)`);
      return series[0]?.value;
    };
    const waitFor: PromStack['waitFor'] = async (promql, expected, timeoutMs = 15_000) => {
      const matches = typeof expected === 'number' ? (value: number | undefined) => value === expected : expected;
      const deadline = Date.now() + timeoutMs;
      let last: number | undefined;
      for (;;) {
        last = await query(promql);
        if (matches(last)) return last;
        if (Date.now() > deadline) throw new Error(`${promql} is still ${String(last)} after ${timeoutMs} ms, expected ${String(expected)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    // Ready is not scraping yet: Prometheus applies new targets at most every 5 s, so its first
    // scrape comes seconds later. A test that pushes right away must not race that.
    await waitFor(`up{job="${SCRAPE_JOB}"}`, 1, 20_000);
    return { pushgatewayUrl, prometheusUrl, pids: started.map(({ child }) => child.pid), query, querySeries, waitFor, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The scrape job a user needs for a Pushgateway: honor_labels keeps job="callwright", run_id and shard as pushed. */
function prometheusConfig(pushgatewayTarget: string): string {
  return `global:
  scrape_interval: ${SCRAPE_INTERVAL_SECONDS}s
  evaluation_interval: ${SCRAPE_INTERVAL_SECONDS}s
scrape_configs:
  - job_name: ${SCRAPE_JOB}
    honor_labels: true
    static_configs:
      - targets: ['${pushgatewayTarget}']
`;
}

interface Started {
  /** The command's base name, which stopProgram checks a pid's command line against. */
  program: string;
  child: StartedProcess;
}

async function startProgram(dir: string, program: string, args: string[]): Promise<Started> {
  const command = findExecutable(program)!;
  const child = await startDetached({ command, args, cwd: dir, logFile: join(dir, `${program}.log`), pidFile: join(dir, `${program}.pid`) });
  return { program: basename(command), child };
}

async function waitUntilReady(url: string, started: Started, logFile: string, timeoutMs = 20_000): Promise<void> {
  let exited: string | undefined;
  void started.child.exited.then((how) => (exited = how));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${started.program} ended (${exited}) before it was ready:\n${logTail(logFile)}`);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${started.program} was not ready at ${url} within ${timeoutMs} ms:\n${logTail(logFile)}`);
}

async function instantQuery(prometheusUrl: string, promql: string): Promise<PromSeries[]> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', promql);
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus refused ${promql}: ${body.error ?? response.status}`);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
  if (resultType !== 'vector') throw new Error(`${promql} gives a ${resultType}, not an instant vector`);
  return (result as { metric: Record<string, string>; value: [number, string] }[]).map(({ metric, value }) => {
    const labels = Object.fromEntries(Object.entries(metric).filter(([label]) => label !== '__name__'));
    return { labels, value: Number(value[1]) };
  });
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
