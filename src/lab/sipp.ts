import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError, InputError } from '../errors.js';
import { findExecutable, labBinaries } from './binaries.js';
import { canBind, freeUdpTcpPort } from './ports.js';
import type { LabPorts, LabState } from './types.js';

/** The user part Kamailio routes to the SIPp echo device. */
export const sippEchoUser = 'echo';

/**
 * The echo device: a UAS that runs until stopped, echoes RTP (-rtp_echo), answers
 * out-of-call OPTIONS (-aa, our readiness probe) and traces every message it sees.
 */
export function sippEchoArgs(p: { ports: LabPorts; scenarioFile: string; messageTrace: string; errorTrace: string }): string[] {
  return [
    '-sf', p.scenarioFile,
    '-t', 'u1',
    '-i', '127.0.0.1',
    '-p', String(p.ports.sippEcho),
    '-mi', '127.0.0.1',
    '-mp', String(p.ports.sippEchoRtp),
    '-rtp_echo',
    '-aa',
    '-nostdin',
    '-trace_msg', '-message_file', p.messageTrace,
    '-trace_err', '-error_file', p.errorTrace,
    // Keep a long-running lab's traces bounded (bytes).
    '-max_log_size', String(200 * 1024 * 1024),
    // A caller that vanished without BYE must not keep its call open forever (ms; 2 h).
    '-recv_timeout', String(2 * 3600 * 1000),
  ];
}

export interface SippUacOptions {
  /** Who to call through Kamailio: a user ('echo', 'baresip', '1000') or a sip: URI whose user part is used. Scenarios see it as [service]. */
  target: string;
  /** The scenario itself (XML text, not a path). Use [service]@[domain] for the request URI; see sippUacCallScenario. */
  scenarioXml: string;
  /** Calls to place (-m). Default 1. */
  calls?: number;
  /** SIPp stops (and fails) after this long; we kill it 5 s later if it has not. */
  timeoutSeconds: number;
  /** u1: UDP (default), t1: TCP, both to Kamailio's sipUdpTcp port. */
  transport?: 'u1' | 't1';
  extraArgs?: string[];
}

export interface SippUacResult {
  /** SIPp's exit code: 0 all calls succeeded, 1 some failed, 97/99/255 see SIPp's manual; -1 killed by us. */
  exitCode: number;
  successful: number;
  failed: number;
  /** Every message SIPp sent and received (-trace_msg). */
  messageTrace: string;
  stdout: string;
  /** The run's folder: scenario.xml, messages.log, stats.csv, errors.log. */
  runDir: string;
}

let uacRunCounter = 0;

/** Runs a SIPp UAC against the lab's Kamailio and waits for it to finish. */
export async function runSippUac(state: LabState, opts: SippUacOptions): Promise<SippUacResult> {
  const sipp = findExecutable(labBinaries.sipp.name);
  if (!sipp) throw new InfraError(`'sipp' not found on PATH`, `Install it: apt-get install ${labBinaries.sipp.aptPackage}`);
  const service = requestUser(opts.target);
  const calls = opts.calls ?? 1;
  if (!Number.isInteger(calls) || calls < 1) throw new InputError(`calls must be a positive integer, got ${calls}`);
  if (!(opts.timeoutSeconds > 0)) throw new InputError(`timeoutSeconds must be positive, got ${opts.timeoutSeconds}`);

  const runDir = path.join(state.dir, 'sipp-uac', `${Date.now()}-${process.pid}-${++uacRunCounter}`);
  mkdirSync(runDir, { recursive: true });
  const files = {
    scenario: path.join(runDir, 'scenario.xml'),
    messages: path.join(runDir, 'messages.log'),
    stats: path.join(runDir, 'stats.csv'),
    errors: path.join(runDir, 'errors.log'),
  };
  writeFileSync(files.scenario, opts.scenarioXml);
  const localPort = await freeUdpTcpPort();
  // SIPp binds its media port (and +2) even as a UAC: keep it off the echo device's default 6000.
  const mediaPort = await freeMediaPort();
  const args = [
    `127.0.0.1:${state.ports.sipUdpTcp}`,
    '-sf', files.scenario,
    '-s', service,
    '-key', 'domain', state.domain,
    '-m', String(calls),
    '-t', opts.transport ?? 'u1',
    '-i', '127.0.0.1',
    '-p', String(localPort),
    '-mi', '127.0.0.1',
    '-mp', String(mediaPort),
    '-nostdin',
    '-timeout', `${opts.timeoutSeconds}s`,
    '-timeout_error',
    '-trace_msg', '-message_file', files.messages,
    '-trace_stat', '-stf', files.stats,
    '-trace_err', '-error_file', files.errors,
    ...(opts.extraArgs ?? []),
  ];

  const { exitCode, stdout } = await runBounded(sipp, args, runDir, (opts.timeoutSeconds + 5) * 1000);
  const counts = readSippCumulativeCounts(files.stats);
  return { exitCode, successful: counts.successful, failed: counts.failed, messageTrace: files.messages, stdout, runDir };
}

function requestUser(target: string): string {
  const user = /^sips?:([^@;>]+)@/i.exec(target)?.[1] ?? target;
  if (!/^[A-Za-z0-9._~+-]+$/.test(user)) throw new InputError(`target '${target}' is not a SIP user or sip:user@host URI`);
  return user;
}

function runBounded(command: string, args: string[], cwd: string, killAfterMs: number): Promise<{ exitCode: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', (error) => {
      clearTimeout(killer);
      reject(new InfraError(`Cannot run sipp: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ exitCode: code ?? -1, stdout: output });
    });
  });
}

async function freeMediaPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the kernel's ephemeral range (32768+) and away from the lab defaults.
    const base = 20000 + 4 * Math.floor(Math.random() * 2400);
    const free = await Promise.all([0, 1, 2, 3].map((offset) => canBind(base + offset, 'udp')));
    if (free.every(Boolean)) return base;
  }
  throw new InfraError('No free UDP media port for SIPp between 20000 and 29600');
}

/** SIPp's -trace_stat CSV (';'-separated): the cumulative counters of the last row. */
export function parseSippStats(csv: string): { successful: number; failed: number } {
  const rows = csv.split('\n').filter((line) => line.trim() !== '');
  if (rows.length < 2) return { successful: 0, failed: 0 };
  const header = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  const column = (name: string) => {
    const index = header.indexOf(name);
    const value = index >= 0 ? Number(last[index]) : NaN;
    return Number.isFinite(value) ? value : 0;
  };
  return { successful: column('SuccessfulCall(C)'), failed: column('FailedCall(C)') };
}

function readSippCumulativeCounts(file: string): { successful: number; failed: number } {
  try {
    return parseSippStats(readFileSync(file, 'utf8'));
  } catch {
    return { successful: 0, failed: 0 };
  }
}
