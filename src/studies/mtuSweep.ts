/**
 * The MTU sweep (CONTEXT.md field failure 2): INVITEs of growing size from a browser (and, to
 * pin the threshold down, from SIPp) to a UDP device through Kamailio, once with Kamailio's
 * RFC 3261 18.1.1 fallback off and once on. Per size: the INVITE bytes, what Kamailio sent to
 * the device and over which transport, the SIP outcome and the time it took.
 *
 * The device (baresip, UDP and TCP) sits behind a lossy path when this machine allows it
 * (lossyPath.ts: a network namespace whose nftables drop IP fragments); otherwise on loopback,
 * where UDP delivery cannot break and only the transport switch shows. The report says which.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallResult, StepResult } from '../results.js';
import { runScenario } from '../runner/run.js';
import { parseScenario } from '../scenario/index.js';
import { baresipAccounts, baresipArgs, baresipConfig } from '../lab/baresip.js';
import { requireLabToolchain } from '../lab/binaries.js';
import { kamailioSends } from '../lab/kamailioLog.js';
import { labDown, labUp } from '../lab/lab.js';
import { labDomain } from '../lab/labOptions.js';
import { createLossyPath, droppedFragments, inNamespaceArgs, lossyPathUnavailable, removeLossyPath, type LossyPath } from '../lab/lossyPath.js';
import { isRunning, startDetached, stopProgram } from '../lab/processes.js';
import { sipOptionsPing, waitUntil } from '../lab/readiness.js';
import { runSippUac } from '../lab/sipp.js';
import { parseSippTrace, sippInviteOutcome } from '../lab/sippTrace.js';
import { sippUacCallScenario } from '../lab/sippUacScenario.js';
import type { LabPorts, LabState } from '../lab/types.js';

/** A browser offer of the sweep: each grows the INVITE with video, codecs or extra lines. */
export interface BrowserOffer {
  label: string;
  video: boolean;
  codecs?: string[];
  extraSdp?: string[];
}

export const defaultBrowserOffers: readonly BrowserOffer[] = [
  { label: 'audio, PCMU only', video: false, codecs: ['PCMU'] },
  { label: 'audio, every codec', video: false },
  { label: 'audio+video, PCMU and VP8', video: true, codecs: ['PCMU', 'VP8'] },
  {
    label: 'audio+video, every codec, b= lines',
    video: true,
    extraSdp: ['b=AS:3000', 'b=TIAS:2500000', 'b=RS:1000', 'b=RR:3000'],
  },
];

/** Sizes SIPp's INVITE is padded to as Kamailio forwards it: around Kamailio's udp_mtu (1300) and a 1500 path MTU (1472 bytes of UDP payload). */
export const defaultSippSizes: readonly number[] = [1200, 1300, 1400, 1472, 1500, 4000];

/** The sweep's own lab ports: clear of a default lab (5060, 8080...) the user may be running. */
export const mtuSweepPorts: LabPorts = {
  sipUdpTcp: 5260,
  ws: 8280,
  wss: 8643,
  rtpengineNg: 22422,
  rtpMin: 31000,
  rtpMax: 31199,
  sippEcho: 5270,
  sippEchoRtp: 6100,
  baresip: 5280,
  baresipRtpMin: 10100,
  baresipRtpMax: 10199,
};

export interface MtuSweepOptions {
  outDir: string;
  logger: Logger;
  ports?: Partial<LabPorts>;
  /** MTU of the lossy path. Default 1500 (Ethernet). */
  pathMtu?: number;
  /** 'auto': a lossy path when the machine allows it (root, ip, nft), else loopback. 'off': loopback. */
  lossyPath?: 'auto' | 'off';
  browserOffers?: readonly BrowserOffer[];
  sippSizes?: readonly number[];
  chromium?: string;
  signal?: AbortSignal;
}

export interface MtuSweepRow {
  fallback: 'off' | 'on';
  client: 'browser' | 'sipp';
  offer: string;
  /** The INVITE as the client sent it (browser: over its WebSocket, the authenticated one). */
  inviteBytes?: number;
  /** The INVITE as Kamailio sent it to the device. */
  forwardedBytes?: number;
  /** The transport Kamailio used to the device (from its onsend_route log). */
  transport?: string;
  sipStatus?: number;
  outcome: string;
  /** The device answered (a provisional or final answer of its own came back). */
  delivered: boolean;
  /** INVITE sent -> final answer, whatever it was. */
  finalResponseSeconds?: number;
  /** Call started -> established (browser calls that got through). */
  setupSeconds?: number;
  /** IP fragments the lossy path dropped during this call. */
  fragmentsDropped?: number;
  runDir: string;
}

export interface MtuSweepPath {
  kind: 'lossy' | 'loopback';
  /** Why there is no lossy path (loopback only). */
  reason?: string;
  mtu?: number;
  description: string;
}

export interface MtuSweepResult {
  rows: MtuSweepRow[];
  path: MtuSweepPath;
  csvFile: string;
  markdownFile: string;
  /** One-line findings, also at the end of the markdown report. */
  findings: string[];
}

/** The user part Kamailio routes to the sweep's device. */
const deviceUser = 'mtu';

export async function runMtuSweep(options: MtuSweepOptions): Promise<MtuSweepResult> {
  const outDir = path.resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const { logger } = options;
  const ports: LabPorts = { ...mtuSweepPorts, ...definedOnly(options.ports ?? {}) };
  const pathMtu = options.pathMtu ?? 1500;
  const unavailable = options.lossyPath === 'off' ? 'turned off (--no-lossy-path)' : lossyPathUnavailable();
  const rows: MtuSweepRow[] = [];
  let lossy: LossyPath | undefined;
  let device: { pid: number } | undefined;
  let sweepPath: MtuSweepPath;
  try {
    if (unavailable === undefined) {
      lossy = await createLossyPath({ mtu: pathMtu });
      device = await startNamespaceDevice(lossy, ports, outDir);
      sweepPath = {
        kind: 'lossy',
        mtu: pathMtu,
        description:
          `baresip in network namespace ${lossy.namespace} at ${lossy.deviceAddress}:${ports.baresip} (UDP and TCP), behind a veth pair ` +
          `with MTU ${pathMtu} from Kamailio's ${lossy.hostAddress}; nftables in the namespace drop every IP fragment, as many real paths do.`,
      };
    } else {
      sweepPath = {
        kind: 'loopback',
        reason: unavailable,
        description:
          `baresip on 127.0.0.1:${ports.baresip} (UDP and TCP) over loopback: no lossy path (${unavailable}). Loopback's MTU is 65536 and it ` +
          'delivers fragments, so UDP delivery does not break here at any size; only the transport Kamailio picks shows.',
      };
    }
    logger.info(`MTU sweep: ${sweepPath.description}`);
    for (const fallback of ['off', 'on'] as const) {
      if (options.signal?.aborted) break;
      rows.push(...(await sweepOneLab({ ...options, outDir, ports, fallback, lossy })));
    }
  } finally {
    if (device) await stopProgram(device.pid, 'baresip');
    if (lossy) await removeLossyPath(lossy);
  }
  if (options.signal?.aborted) throw new InfraError('MTU sweep stopped', 'Run it again to completion for a report.');

  const findings = summarize(rows, sweepPath, pathMtu);
  const csvFile = path.join(outDir, 'mtu-sweep.csv');
  const markdownFile = path.join(outDir, 'mtu-sweep.md');
  writeFileSync(csvFile, toCsv(rows));
  writeFileSync(markdownFile, toMarkdown(rows, sweepPath, findings));
  return { rows, path: sweepPath, csvFile, markdownFile, findings };
}

async function sweepOneLab(
  options: MtuSweepOptions & { outDir: string; ports: LabPorts; fallback: 'off' | 'on'; lossy: LossyPath | undefined },
): Promise<MtuSweepRow[]> {
  const { outDir, ports, fallback, lossy, logger } = options;
  const labDir = path.join(outDir, `lab-fallback-${fallback}`);
  const state = await labUp({
    dir: labDir,
    ports,
    mtuFallback: fallback === 'on',
    devices: lossy ? [] : ['baresip'],
    listenAddresses: lossy ? [lossy.hostAddress] : [],
    routes: lossy ? [{ userPart: deviceUser, host: lossy.deviceAddress, port: ports.baresip }] : [],
  });
  const target = lossy ? deviceUser : 'baresip';
  const deviceHost = lossy ? lossy.deviceAddress : '127.0.0.1';
  const rows: MtuSweepRow[] = [];
  const context: RowContext = { state, fallback, target, deviceHost, lossy, labDir, logger };
  try {
    logger.info(`fallback ${fallback}: lab up in ${labDir}`);
    // SIPp first: its plain offer, then padded to the sizes asked for as Kamailio forwards them.
    const plain = await sippRow(context, 'SIPp, plain audio offer', 0);
    rows.push(plain);
    const base = plain.forwardedBytes;
    for (const size of options.sippSizes ?? defaultSippSizes) {
      if (options.signal?.aborted) break;
      if (base === undefined) break;
      rows.push(await sippRow(context, `SIPp, padded to ${size} bytes`, Math.max(0, size - base)));
    }
    for (const [index, offer] of (options.browserOffers ?? defaultBrowserOffers).entries()) {
      if (options.signal?.aborted) break;
      rows.push(await browserRow(context, offer, index, options));
    }
  } finally {
    await labDown(labDir);
  }
  return rows;
}

interface RowContext {
  state: LabState;
  fallback: 'off' | 'on';
  target: string;
  deviceHost: string;
  lossy: LossyPath | undefined;
  labDir: string;
  logger: Logger;
}

async function sippRow(context: RowContext, offer: string, paddingBytes: number): Promise<MtuSweepRow> {
  const { state, fallback, target, deviceHost, lossy } = context;
  const fragmentsBefore = lossy ? await droppedFragments(lossy) : undefined;
  const result = await runSippUac(state, {
    target,
    scenarioXml: sippUacCallScenario({ sdpPaddingBytes: paddingBytes, callDurationMs: 200 }),
    // Kamailio's INVITE timer (fr_timer 5 s) answers 408 well before this.
    timeoutSeconds: 15,
    transport: 't1',
  });
  const outcome = sippInviteOutcome(parseSippTrace(readFileSync(result.messageTrace, 'utf8')));
  const forwarded = outcome.callId ? forwardedInvite(context.labDir, outcome.callId, deviceHost) : undefined;
  const row: MtuSweepRow = {
    fallback,
    client: 'sipp',
    offer,
    ...(outcome.inviteBytes === undefined ? {} : { inviteBytes: outcome.inviteBytes }),
    ...(forwarded ? { forwardedBytes: forwarded.bytes, transport: forwarded.proto } : {}),
    ...(outcome.status === undefined ? {} : { sipStatus: outcome.status }),
    outcome: outcome.status === undefined ? 'no final answer' : `${outcome.status} ${outcome.reason ?? ''}`.trim(),
    delivered: deliveredToDevice(outcome.status, outcome.provisional),
    ...(outcome.finalResponseSeconds === undefined ? {} : { finalResponseSeconds: outcome.finalResponseSeconds }),
    ...(lossy && fragmentsBefore !== undefined ? { fragmentsDropped: (await droppedFragments(lossy)) - fragmentsBefore } : {}),
    runDir: result.runDir,
  };
  context.logger.info(`  fallback ${fallback}: ${describeRow(row)}`);
  return row;
}

async function browserRow(context: RowContext, offer: BrowserOffer, index: number, options: MtuSweepOptions): Promise<MtuSweepRow> {
  const { state, fallback, target, deviceHost, lossy } = context;
  const user = state.users[0];
  if (!user) throw new InfraError('The lab has no users to call from');
  const runDir = path.join(options.outDir, `runs`, `fallback-${fallback}-browser-${index + 1}`);
  mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, 'scenario.yaml');
  const yaml = browserScenarioYaml({ name: `mtu-fallback-${fallback}-browser-${index + 1}`, wsUrl: state.wsUrl, user: user.user, password: user.password, target, offer });
  writeFileSync(file, yaml);
  const fragmentsBefore = lossy ? await droppedFragments(lossy) : undefined;
  const outcome = await runScenario({
    scenario: parseScenario(yaml, file),
    outDir: runDir,
    logger: quiet(context.logger),
    ...(options.chromium ? { chromium: options.chromium } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const call: CallResult | undefined = outcome.calls[0];
  const step: StepResult | undefined = outcome.steps.find((s) => s.kind === 'call');
  const forwarded = call?.sipCallId ? forwardedInvite(context.labDir, call.sipCallId, deviceHost) : undefined;
  const status = call?.sipStatus;
  const reached = call?.timeTo180Seconds !== undefined;
  const row: MtuSweepRow = {
    fallback,
    client: 'browser',
    offer: `browser, ${offer.label}`,
    ...(call?.inviteBytes === undefined ? {} : { inviteBytes: call.inviteBytes }),
    ...(forwarded ? { forwardedBytes: forwarded.bytes, transport: forwarded.proto } : {}),
    ...(status === undefined ? {} : { sipStatus: status }),
    outcome: status === undefined ? (call?.failureDetail ?? 'no final answer') : status === 200 ? '200 OK' : (call?.failureDetail?.replace(/^.*SIP /, '') ?? String(status)),
    delivered: deliveredToDevice(status, reached ? [180] : []),
    ...(step ? { finalResponseSeconds: step.durationSeconds } : {}),
    ...(call?.setupSeconds === undefined ? {} : { setupSeconds: call.setupSeconds }),
    ...(lossy && fragmentsBefore !== undefined ? { fragmentsDropped: (await droppedFragments(lossy)) - fragmentsBefore } : {}),
    runDir,
  };
  context.logger.info(`  fallback ${fallback}: ${describeRow(row)}`);
  return row;
}

/** The scenario of one browser size: register, call the device until it answers (or fails), hang up. */
export function browserScenarioYaml(p: { name: string; wsUrl: string; user: string; password: string; target: string; offer: BrowserOffer }): string {
  const list = (items: readonly string[] | undefined) => (items ? `[${items.map((item) => JSON.stringify(item)).join(', ')}]` : undefined);
  const callFields = [
    `from: caller`,
    `to: "sip:${p.target}@${labDomain}"`,
    `video: ${p.offer.video}`,
    ...(p.offer.codecs ? [`codecs: ${list(p.offer.codecs)}`] : []),
    ...(p.offer.extraSdp ? [`extraSdp: ${list(p.offer.extraSdp)}`] : []),
    'until: established',
    // Kamailio answers 408 after its 5 s INVITE timer when the INVITE is lost.
    'timeout: 15s',
  ];
  return `# Generated by callwright lab mtu-sweep: ${p.offer.label}
name: ${p.name}
target: { url: "${p.wsUrl}", domain: ${labDomain} }
roles:
  caller:
    accounts:
      - { user: "${p.user}", password: "${p.password}" }
steps:
  - register: caller
  - call: { ${callFields.join(', ')} }
  - hangup: caller
`;
}

function forwardedInvite(labDir: string, callId: string, deviceHost: string): { bytes: number; proto: string } | undefined {
  let log = '';
  try {
    log = readFileSync(path.join(labDir, 'kamailio.log'), 'utf8');
  } catch {
    return undefined;
  }
  const send = kamailioSends(log, callId).find((s) => s.method === 'INVITE' && s.host === deviceHost);
  return send ? { bytes: send.bytes, proto: send.proto } : undefined;
}

/** A final answer other than the proxy's own timeout/transport errors, or any 18x, came from the device. */
function deliveredToDevice(status: number | undefined, provisional: readonly number[]): boolean {
  if (provisional.some((s) => s >= 180)) return true;
  if (status === undefined) return false;
  return status < 300 || ![408, 477, 478, 500, 503].includes(status);
}

async function startNamespaceDevice(lossy: LossyPath, ports: LabPorts, outDir: string): Promise<{ pid: number }> {
  const tools = requireLabToolchain(['baresip']);
  const dir = path.join(outDir, 'device');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config'), baresipConfig({ ports, moduleDir: tools.baresipModuleDir ?? '/usr/lib/baresip/modules', address: lossy.deviceAddress }));
  writeFileSync(path.join(dir, 'accounts'), baresipAccounts(deviceUser, lossy.deviceAddress));
  const { command, args } = inNamespaceArgs(lossy, tools.baresip ?? 'baresip', baresipArgs(dir));
  const log = path.join(dir, 'baresip.log');
  writeFileSync(log, '');
  const started = await startDetached({ command, args, logFile: log, pidFile: path.join(dir, 'baresip.pid'), cwd: dir });
  const ready = await waitUntil(
    async () => (await sipOptionsPing(ports.baresip, `sip:${deviceUser}@${lossy.deviceAddress}:${ports.baresip}`, 500, lossy.deviceAddress)) !== undefined,
    15_000,
    started.exited,
  );
  if (!ready.ready) {
    await stopProgram(started.pid, 'baresip');
    throw new InfraError(`baresip in ${lossy.namespace} did not come up: ${ready.reason}`, `See ${log}`);
  }
  if (!isRunning(started.pid, 'baresip')) throw new InfraError(`baresip in ${lossy.namespace} exited`, `See ${log}`);
  return { pid: started.pid };
}

function summarize(rows: readonly MtuSweepRow[], sweepPath: MtuSweepPath, pathMtu: number): string[] {
  const findings: string[] = [];
  const off = rows.filter((r) => r.fallback === 'off' && r.forwardedBytes !== undefined);
  const udpDelivered = off.filter((r) => r.transport === 'udp' && r.delivered).map((r) => r.forwardedBytes!);
  const udpLost = off.filter((r) => r.transport === 'udp' && !r.delivered).map((r) => r.forwardedBytes!);
  if (udpLost.length > 0) {
    findings.push(
      `Fallback off: UDP delivery broke between ${Math.max(0, ...udpDelivered.filter((b) => b < Math.min(...udpLost)))} bytes (largest delivered) ` +
        `and ${Math.min(...udpLost)} bytes (smallest lost); a ${pathMtu}-byte path MTU carries at most ${pathMtu - 28} bytes of SIP in one UDP datagram. ` +
        `Lost INVITEs ended in ${[...new Set(off.filter((r) => !r.delivered).map((r) => r.outcome))].join(', ')}.`,
    );
  } else if (off.length > 0) {
    findings.push(
      `Fallback off: every INVITE (up to ${Math.max(...off.map((r) => r.forwardedBytes!))} bytes) went over UDP and reached the device` +
        (sweepPath.kind === 'loopback' ? ' (loopback delivers any size: no lossy path on this machine).' : '.'),
    );
  }
  const browsersOff = rows.filter((r) => r.fallback === 'off' && r.client === 'browser');
  const smallestBrowser = Math.min(...browsersOff.map((r) => r.forwardedBytes ?? Infinity));
  if (Number.isFinite(smallestBrowser) && smallestBrowser > pathMtu - 28) {
    findings.push(
      sweepPath.kind === 'lossy'
        ? `Even the smallest browser INVITE (${smallestBrowser} bytes as forwarded) is over ${pathMtu - 28} bytes: over UDP on such a path, no browser call gets through.`
        : `Even the smallest browser INVITE (${smallestBrowser} bytes as forwarded) is over ${pathMtu - 28} bytes: on a real path with MTU ${pathMtu} that drops fragments, no browser call would get through over UDP (loopback delivered it).`,
    );
  }
  const on = rows.filter((r) => r.fallback === 'on' && r.forwardedBytes !== undefined);
  const overLimit = on.filter((r) => r.forwardedBytes! > 1300);
  if (overLimit.length > 0) {
    const tcp = overLimit.filter((r) => r.transport === 'tcp');
    const ok = overLimit.filter((r) => r.delivered);
    findings.push(
      `Fallback on: ${tcp.length} of ${overLimit.length} INVITEs over 1300 bytes went to the device over TCP; ${ok.length} of them reached it` +
        `${ok.length === overLimit.length ? '' : ` (others: ${[...new Set(overLimit.filter((r) => !r.delivered).map((r) => r.outcome))].join(', ')})`}; ` +
        `${on.filter((r) => r.forwardedBytes! <= 1300 && r.transport === 'udp').length} at or under 1300 bytes stayed on UDP.`,
    );
  }
  return findings;
}

const columns: [header: string, value: (row: MtuSweepRow) => string | number | boolean | undefined][] = [
  ['fallback', (r) => r.fallback],
  ['client', (r) => r.client],
  ['offer', (r) => r.offer],
  ['invite_bytes', (r) => r.inviteBytes],
  ['forwarded_bytes', (r) => r.forwardedBytes],
  ['transport', (r) => r.transport],
  ['sip_status', (r) => r.sipStatus],
  ['outcome', (r) => r.outcome],
  ['delivered', (r) => r.delivered],
  ['final_response_s', (r) => (r.finalResponseSeconds === undefined ? undefined : r.finalResponseSeconds.toFixed(3))],
  ['setup_s', (r) => (r.setupSeconds === undefined ? undefined : r.setupSeconds.toFixed(3))],
  ['fragments_dropped', (r) => r.fragmentsDropped],
  ['run_dir', (r) => r.runDir],
];

export function toCsv(rows: readonly MtuSweepRow[]): string {
  const cell = (value: string | number | boolean | undefined) => {
    const text = value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.map(([header]) => header).join(','), ...rows.map((row) => columns.map(([, value]) => cell(value(row))).join(','))].join('\n') + '\n';
}

function toMarkdown(rows: readonly MtuSweepRow[], sweepPath: MtuSweepPath, findings: readonly string[]): string {
  const table = (fallback: 'off' | 'on') => {
    const header = '| client | offer | INVITE bytes | to device bytes | transport | outcome | final answer s | setup s | fragments dropped |';
    const rule = '|---|---|---:|---:|---|---|---:|---:|---:|';
    const lines = rows
      .filter((r) => r.fallback === fallback)
      .map(
        (r) =>
          `| ${r.client} | ${r.offer} | ${r.inviteBytes ?? ''} | ${r.forwardedBytes ?? ''} | ${r.transport ?? ''} | ${r.outcome} | ` +
          `${r.finalResponseSeconds?.toFixed(3) ?? ''} | ${r.setupSeconds?.toFixed(3) ?? ''} | ${r.fragmentsDropped ?? ''} |`,
      );
    return [header, rule, ...lines].join('\n');
  };
  return `# MTU sweep: INVITE size, Kamailio's transport and the SIP outcome

Path to the device: ${sweepPath.description}

Kamailio: fallback **on** is \`udp_mtu=1300\` + \`udp_mtu_try_proto=TCP\` (RFC 3261 18.1.1:
a request over 1300 bytes goes over TCP); **off** sends every size over UDP. "to device bytes" and "transport" come from
Kamailio's onsend_route log; "INVITE bytes" is what the client sent (the browser over its WebSocket); "final answer s"
runs from the INVITE to its final answer (Kamailio answers 408 after its 5 s INVITE timer when nothing comes back).

## Fallback off

${table('off')}

## Fallback on

${table('on')}

## Findings

${findings.map((f) => `- ${f}`).join('\n') || '- (no rows)'}
`;
}

function describeRow(row: MtuSweepRow): string {
  return `${row.offer}: ${row.inviteBytes ?? '?'} bytes, ${row.forwardedBytes ?? '?'} to the device over ${row.transport ?? '?'} -> ${row.outcome}`;
}

/** The runs' own FAIL lines are expected data here: keep them at debug. */
function quiet(logger: Logger): Logger {
  return { level: logger.level, error: logger.error, warn: logger.debug, info: logger.debug, debug: logger.debug };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
