/**
 * A lab of a test's own, through the CLI as a user starts one (`callwright lab up` on the test's
 * ports, in its temp folder), and its teardown with the proof that nothing of it is left: no lab
 * process or process group, no Chromium of the test's runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { LabState } from '../../src/lab/index.js';
import { processGroupMembers } from '../../src/lab/processes.js';
import { processesInGroups, readJson, runCli, type CliRun } from './support.js';

export interface TestLab {
  state: LabState;
  /** The lab's process ids, as lab.json gave them. */
  pids: number[];
  up: CliRun;
}

/** `lab up --dir DIR --port-base BASE` plus `extraArgs` (devices, --no-turn); fails the test unless it came up. */
export async function startTestLab(dir: string, portBase: number, extraArgs: readonly string[]): Promise<TestLab> {
  const up = await runCli(['lab', 'up', '--dir', dir, '--port-base', String(portBase), ...extraArgs], { timeoutMs: 60_000 });
  expect(up.code, up.stderr).toBe(0);
  const state = readJson<LabState>(join(dir, 'lab.json'));
  expect(state.wsUrl).toBe(`ws://127.0.0.1:${portBase + 1}`);
  return { state, pids: state.processes.map((p) => p.pid), up };
}

/** `lab down`, then no lab process (nor its group) and no Chromium of `browserPids` may be left. Returns what lab down said. */
export async function stopTestLab(dir: string, labPids: readonly number[], browserPids: readonly number[]): Promise<CliRun> {
  const down = await runCli(['lab', 'down', '--dir', dir], { timeoutMs: 60_000 });
  expect(down.code, down.stderr).toBe(0);
  for (const pid of labPids) {
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `lab pid ${pid}`).toBe(false);
    expect(processGroupMembers(pid)).toEqual([]);
  }
  for (let i = 0; i < 50 && processesInGroups([...browserPids]).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups([...browserPids])).toEqual([]);
  return down;
}

/** The messages of a SIPp -trace_msg file (each with its "UDP message sent/received" header) that carry this Call-ID. */
export function sippMessages(traceFile: string, callId: string): string[] {
  const escaped = callId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return readFileSync(traceFile, 'utf8')
    .split(/^-{20,}.*$/m)
    .filter((block) => new RegExp(`^Call-ID: *${escaped}\\s*$`, 'mi').test(block));
}

/** A log file's content once it holds `text` (or whatever it holds after `timeoutMs`). */
export async function waitForText(file: string, text: string, timeoutMs = 5000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const content = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (content.includes(text) || Date.now() > until) return content;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
