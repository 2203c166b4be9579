import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { InfraError } from '../errors.js';

export interface StartedProcess {
  pid: number;
  /** Resolves with the exit code (or signal) if the process ends while we still watch it. */
  exited: Promise<string>;
}

/**
 * Starts a program detached, in its own process group, with stdout and stderr appended
 * to a log file and its pid written to a pid file, so it outlives `callwright lab up`.
 */
export async function startDetached(p: {
  command: string;
  args: readonly string[];
  logFile: string;
  pidFile: string;
  cwd: string;
}): Promise<StartedProcess> {
  const logFd = openSync(p.logFile, 'a');
  try {
    const child = spawn(p.command, p.args, { cwd: p.cwd, detached: true, stdio: ['ignore', logFd, logFd] });
    const spawned = once(child, 'spawn').then(() => undefined);
    const failed = once(child, 'error').then(([error]) => error as Error);
    const outcome = await Promise.race([spawned, failed]);
    if (outcome instanceof Error || child.pid === undefined) {
      throw new InfraError(`Cannot start ${p.command}: ${outcome instanceof Error ? outcome.message : 'no pid'}`);
    }
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${String(code)}`));
    });
    child.unref();
    writeFileSync(p.pidFile, `${child.pid}\n`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(logFd);
  }
}

/** The pids of the process group led by `pid` (our detached children lead their own). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** True when the pid runs (not a zombie) and its command line names the expected program. */
export function isRunning(pid: number, program: string): boolean {
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z') return false;
  try {
    // Guards against a recycled pid (e.g. after a reboot) that now belongs to something else.
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0.endsWith(program);
  } catch {
    return false;
  }
}

/**
 * Stops a program we started, with the children it forked (same process group): SIGTERM to
 * the leader (which stops its own children, e.g. Kamailio's), wait up to graceMs, then
 * SIGKILL whatever is left. Only pids whose command line names the program are signalled.
 * Returns true when none is left.
 */
export async function stopProgram(pgid: number, program: string, graceMs = 5000): Promise<boolean> {
  const ours = () => processGroupMembers(pgid).filter((pid) => isRunning(pid, program));
  const running = ours();
  if (running.length === 0) return true;
  // Wait for the whole group: a member that is exiting already has an empty command line, so
  // `ours` no longer sees it although it is still there (seen in CI right after lab down).
  const members = () => processGroupMembers(pgid);
  for (const pid of running.includes(pgid) ? [pgid] : running) signal(pid, 'SIGTERM');
  if (await waitUntilNone(members, graceMs)) return true;
  for (const pid of ours()) signal(pid, 'SIGKILL');
  return waitUntilNone(members, 2000);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function waitUntilNone(list: () => number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (list().length === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

interface ProcStat {
  state: string;
  pgrp: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may contain spaces: parse after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last lines of a log, for error messages. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
