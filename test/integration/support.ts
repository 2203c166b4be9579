import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCsv } from '../../src/report/csvRead.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'bin.js');

export function tempDir(prefix = 'callwright-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeScenario(dir: string, name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Chromium and lite agent process PIDs the run logged (needs --log-level debug). */
  browserPids: number[];
}

/** Runs the real CLI as a user would; `onStderr` may act mid-run (send signals, scrape /metrics). */
export function runCli(
  args: string[],
  options: {
    timeoutMs?: number;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
    env?: NodeJS.ProcessEnv;
    /** A command the CLI runs under, e.g. ['setpriv', '--bounding-set', '-net_admin']. */
    wrapper?: string[];
  } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
    const child = spawn(command!, [...prefix, CLI, ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Lite agent processes too: each is a process group of its own, like a browser.
      const browserPids = [...stderr.matchAll(/(?:chromium|lite agent process) started, pid (\d+)/g)].map((m) => Number(m[1]));
      resolvePromise({ code, signal, stdout, stderr, browserPids });
    });
  });
}

/** Live processes whose process group is one of these (Chromium's helpers share the browser's group). */
export function processesInGroups(groups: number[]): number[] {
  const wanted = new Set(groups);
  const alive: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state ppid pgrp ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && wanted.has(Number(pgrp))) alive.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return alive;
}

/** A CSV report as records keyed by its header (the parser `callwright report` uses: quotes, commas and newlines in cells). */
export function readCsv(file: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8').trim());
  return rows.map((row) => Object.fromEntries(row.map((value, i) => [header![i]!, value])));
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
