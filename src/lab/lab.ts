import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError, InputError } from '../errors.js';
import { baresipAccounts, baresipArgs, baresipConfig, baresipUser } from './baresip.js';
import { requireLabToolchain, type LabToolchain } from './binaries.js';
import { ensureSelfSignedCertificate } from './certificates.js';
import { coturnArgs, coturnConfig, labTurnCredentials, stunBindingPing, turnSecretsFile } from './coturn.js';
import { kamailioConfig, kamailioTlsConfig, kamailioUsersFile, type KamailioDeviceRoute } from './kamailioConfig.js';
import { labDomain, resolveLabOptions, type LabTurnPorts, type ResolvedLabOptions } from './labOptions.js';
import { busyPorts, type PortClaim } from './ports.js';
import { isRunning, logTail, startDetached, stopProgram, type StartedProcess } from './processes.js';
import { rtpenginePing, sipOptionsPing, tcpAccepts, waitUntil } from './readiness.js';
import { rtpengineArgs, rtpengineConfig } from './rtpengineConfig.js';
import { sippEchoArgs, sippEchoUser } from './sipp.js';
import { sippEchoScenarioXml } from './sippEchoScenario.js';
import { readLabState, stateFilePath, writeLabState } from './stateFile.js';
import type { LabDevice, LabOptions, LabProcess, LabState, LabStatus, LabTurn } from './types.js';

/** How long each component may take to answer its readiness probe. */
const readyTimeoutMs = 15_000;

/**
 * Starts the lab in options.dir: rtpengine, the devices, coturn (options.turn), then Kamailio
 * (its rtpengine module probes rtpengine at startup). Each is detached with its own pid file
 * and log, and checked with a real request before labUp returns. On any failure everything
 * started is stopped.
 */
export async function labUp(options: LabOptions): Promise<LabState> {
  const resolved = resolveLabOptions(options);
  const { dir } = resolved;
  mkdirSync(dir, { recursive: true });
  await refuseIfRunning(dir);
  const tools = requireLabToolchain(resolved.devices, { turn: resolved.turn !== undefined });
  await refuseBusyPorts(resolved);

  const certificate = await ensureSelfSignedCertificate({ dir, domain: labDomain, openssl: tools.openssl });
  const turn = resolved.turn ? labTurn(resolved.dir, resolved.turn) : undefined;
  const files = writeLabFiles(resolved, tools, certificate, turn);
  const state: LabState = {
    dir,
    ports: resolved.ports,
    domain: labDomain,
    wsUrl: `ws://127.0.0.1:${resolved.ports.ws}`,
    wssUrl: `wss://127.0.0.1:${resolved.ports.wss}`,
    users: resolved.users,
    extraUsers: resolved.extraUsers,
    devices: labDevices(resolved, files),
    processes: [],
    mtuFallback: resolved.mtuFallback,
    ...(turn ? { turn } : {}),
    tls: certificate,
    startedAt: new Date().toISOString(),
  };
  writeLabState(state);

  const start = async (name: string, program: string, args: string[]): Promise<StartedProcess> => {
    const log = path.join(dir, `${name}.log`);
    const pidFile = path.join(dir, `${name}.pid`);
    writeFileSync(log, '');
    const started = await startDetached({ command: program, args, logFile: log, pidFile, cwd: dir });
    state.processes.push({ name, pid: started.pid, log, program, pidFile });
    writeLabState(state); // after each start, so labDown can stop a half-started lab
    return started;
  };

  try {
    // Settled from the start: a failure elsewhere must not leave a rejection unhandled.
    const waits: Promise<PromiseSettledResult<void>>[] = [];
    const watch = (readiness: Promise<void>) => waits.push(Promise.allSettled([readiness]).then(([outcome]) => outcome!));
    const rtpengine = await start('rtpengine', tools.rtpengine, rtpengineArgs(files.rtpengineConfig));
    if (resolved.devices.includes('sipp-echo') && tools.sipp) {
      const sipp = await start('sipp-echo', tools.sipp, sippEchoArgs({ ports: resolved.ports, ...files.sippEcho }));
      watch(ready(state, 'sipp-echo', sipp, async () => (await sipOptionsPing(resolved.ports.sippEcho, `sip:${sippEchoUser}@127.0.0.1:${resolved.ports.sippEcho}`)) !== undefined));
    }
    if (resolved.devices.includes('baresip') && tools.baresip) {
      const baresip = await start('baresip', tools.baresip, baresipArgs(files.baresipDir));
      watch(ready(state, 'baresip', baresip, async () => (await sipOptionsPing(resolved.ports.baresip, `sip:${baresipUser}@127.0.0.1:${resolved.ports.baresip}`)) !== undefined));
    }
    if (turn && tools.turnserver && files.coturnConfig) {
      const coturn = await start('coturn', tools.turnserver, coturnArgs(files.coturnConfig));
      watch(ready(state, 'coturn', coturn, async () => (await stunBindingPing(turn.port)) && (await tcpAccepts(turn.port))));
    }
    await ready(state, 'rtpengine', rtpengine, () => rtpenginePing(resolved.ports.rtpengineNg));

    const kamailio = await start('kamailio', tools.kamailio, ['-DD', '-E', '-f', files.kamailioConfig, '-m', '256', '-M', '16', '-Y', dir]);
    watch(
      ready(state, 'kamailio', kamailio, async () => {
        const status = await sipOptionsPing(resolved.ports.sipUdpTcp, `sip:127.0.0.1:${resolved.ports.sipUdpTcp}`);
        if (!status?.startsWith('SIP/2.0 200')) return false;
        const accepting = await Promise.all([resolved.ports.sipUdpTcp, resolved.ports.ws, resolved.ports.wss].map((port) => tcpAccepts(port)));
        return accepting.every(Boolean);
      }),
    );
    const outcomes = await Promise.all(waits);
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    return state;
  } catch (error) {
    await stopAll(state.processes);
    removeRunFiles(dir, state.processes);
    throw error;
  }
}

/** Stops exactly what labUp started in dir (pids from its pid files, checked against /proc), newest first. */
export async function labDown(dir: string): Promise<{ stopped: string[] }> {
  const state = readLabState(dir);
  if (!state) return { stopped: [] };
  const stopped: string[] = [];
  const stuck: string[] = [];
  for (const proc of [...state.processes].reverse()) {
    const pid = readPidFile(proc.pidFile) ?? proc.pid;
    const program = path.basename(proc.program);
    const wasRunning = isRunning(pid, program);
    if (await stopProgram(pid, program)) {
      if (wasRunning) stopped.push(proc.name);
    } else {
      stuck.push(`${proc.name} (pid ${pid})`);
    }
  }
  if (stuck.length > 0) {
    throw new InfraError(`Could not stop ${stuck.join(', ')}`, `Stop them by hand: kill -KILL <pid>; the state stays in ${stateFilePath(dir)}`);
  }
  removeRunFiles(path.resolve(dir), state.processes);
  return { stopped };
}

/** The lab's state plus which of its processes still run; undefined when no lab was started in dir. */
export async function labStatus(dir: string): Promise<LabStatus | undefined> {
  const state = readLabState(dir);
  if (!state) return undefined;
  const running = Object.fromEntries(state.processes.map((proc) => [proc.name, isRunning(proc.pid, path.basename(proc.program))]));
  return { ...state, running };
}

async function refuseIfRunning(dir: string): Promise<void> {
  const status = await labStatus(dir);
  if (status && Object.values(status.running).some(Boolean)) {
    throw new InputError(`A lab is already running in ${dir}`, `Stop it first: callwright lab down --dir ${dir}`);
  }
  if (status) removeRunFiles(dir, status.processes); // leftovers of a lab that died
}

async function refuseBusyPorts(resolved: ResolvedLabOptions): Promise<void> {
  const { ports, devices } = resolved;
  const claims: PortClaim[] = [
    { port: ports.sipUdpTcp, protocol: 'udp', owner: 'Kamailio SIP' },
    { port: ports.sipUdpTcp, protocol: 'tcp', owner: 'Kamailio SIP' },
    { port: ports.ws, protocol: 'tcp', owner: 'Kamailio ws' },
    { port: ports.wss, protocol: 'tcp', owner: 'Kamailio wss' },
    { port: ports.rtpengineNg, protocol: 'udp', owner: 'rtpengine ng' },
  ];
  if (devices.includes('sipp-echo')) {
    claims.push(
      { port: ports.sippEcho, protocol: 'udp', owner: 'SIPp echo SIP' },
      { port: ports.sippEchoRtp, protocol: 'udp', owner: 'SIPp echo RTP' },
      { port: ports.sippEchoRtp + 2, protocol: 'udp', owner: 'SIPp echo RTP' },
    );
  }
  if (devices.includes('baresip')) {
    claims.push({ port: ports.baresip, protocol: 'udp', owner: 'baresip SIP' }, { port: ports.baresip, protocol: 'tcp', owner: 'baresip SIP' });
  }
  if (resolved.turn) {
    claims.push({ port: resolved.turn.port, protocol: 'udp', owner: 'coturn TURN' }, { port: resolved.turn.port, protocol: 'tcp', owner: 'coturn TURN' });
  }
  const busy = await busyPorts(claims);
  if (busy.length > 0) {
    throw new InfraError(
      `Ports in use on 127.0.0.1: ${busy.map((c) => `${c.port}/${c.protocol} (${c.owner})`).join(', ')}`,
      'Stop what holds them (another lab? callwright lab status) or choose other ports.',
    );
  }
}

interface LabFiles {
  kamailioConfig: string;
  rtpengineConfig: string;
  coturnConfig?: string;
  baresipDir: string;
  sippEcho: { scenarioFile: string; messageTrace: string; errorTrace: string };
}

/** The relay's ports and a fresh secret: each lab gets credentials of its own. */
function labTurn(dir: string, ports: LabTurnPorts): LabTurn {
  const credentials = labTurnCredentials(Date.now());
  return {
    urls: [`turn:127.0.0.1:${ports.port}?transport=udp`, `turn:127.0.0.1:${ports.port}?transport=tcp`],
    port: ports.port,
    relayMin: ports.relayMin,
    relayMax: ports.relayMax,
    realm: labDomain,
    ...credentials,
    secretsFile: path.join(dir, 'turn.env'),
  };
}

function writeLabFiles(resolved: ResolvedLabOptions, tools: LabToolchain, certificate: { certificate: string; privateKey: string }, turn: LabTurn | undefined): LabFiles {
  const { dir, ports } = resolved;
  const file = (name: string) => path.join(dir, name);
  const devices: KamailioDeviceRoute[] = [];
  if (resolved.devices.includes('sipp-echo')) devices.push({ userPart: sippEchoUser, host: '127.0.0.1', port: ports.sippEcho });
  if (resolved.devices.includes('baresip')) devices.push({ userPart: baresipUser, host: '127.0.0.1', port: ports.baresip });
  devices.push(...resolved.routes);

  writeFileSync(file('kamailio-users.cfg'), kamailioUsersFile([...resolved.users, ...resolved.extraUsers]), { mode: 0o600 });
  writeFileSync(file('kamailio-tls.cfg'), kamailioTlsConfig(certificate.certificate, certificate.privateKey));
  writeFileSync(
    file('kamailio.cfg'),
    kamailioConfig({
      dir,
      moduleDir: tools.kamailioModuleDir,
      domain: labDomain,
      ports,
      mtuFallback: resolved.mtuFallback,
      devices,
      usersFile: file('kamailio-users.cfg'),
      tlsConfigFile: file('kamailio-tls.cfg'),
      listenAddresses: resolved.listenAddresses,
    }),
  );
  writeFileSync(file('rtpengine.conf'), rtpengineConfig({ ports, pidFile: file('rtpengine.pid') }));
  writeFileSync(file('sipp-echo.xml'), sippEchoScenarioXml());

  const baresipDir = file('baresip');
  mkdirSync(baresipDir, { recursive: true });
  writeFileSync(path.join(baresipDir, 'config'), baresipConfig({ ports, moduleDir: tools.baresipModuleDir ?? '/usr/lib/baresip/modules' }));
  writeFileSync(path.join(baresipDir, 'accounts'), baresipAccounts());

  if (turn) {
    // Both hold the secret: only the lab's user may read them (rmSync first: writeFileSync keeps an old file's mode).
    for (const name of ['coturn.conf', 'turn.env']) rmSync(file(name), { force: true });
    writeFileSync(file('coturn.conf'), coturnConfig({ turn, userDb: file('coturn.db'), pidFile: file('coturn.pid') }), { mode: 0o600 });
    writeFileSync(turn.secretsFile, turnSecretsFile(turn, dir), { mode: 0o600 });
  }

  return {
    kamailioConfig: file('kamailio.cfg'),
    rtpengineConfig: file('rtpengine.conf'),
    ...(turn ? { coturnConfig: file('coturn.conf') } : {}),
    baresipDir,
    sippEcho: { scenarioFile: file('sipp-echo.xml'), messageTrace: file('sipp-echo-messages.log'), errorTrace: file('sipp-echo-errors.log') },
  };
}

function labDevices(resolved: ResolvedLabOptions, files: LabFiles): LabDevice[] {
  const devices: LabDevice[] = [];
  if (resolved.devices.includes('sipp-echo')) {
    devices.push({
      name: 'sipp-echo',
      uri: `sip:${sippEchoUser}@${labDomain}`,
      transport: 'udp',
      address: `127.0.0.1:${resolved.ports.sippEcho}`,
      trace: files.sippEcho.messageTrace,
    });
  }
  if (resolved.devices.includes('baresip')) {
    devices.push({
      name: 'baresip',
      uri: `sip:${baresipUser}@${labDomain}`,
      transport: 'udp',
      address: `127.0.0.1:${resolved.ports.baresip}`,
      trace: path.join(resolved.dir, 'baresip.log'),
    });
  }
  return devices;
}

async function ready(state: LabState, name: string, started: StartedProcess, probe: () => Promise<boolean>): Promise<void> {
  const outcome = await waitUntil(probe, readyTimeoutMs, started.exited);
  if (outcome.ready) return;
  const proc = state.processes.find((p) => p.name === name);
  const log = proc?.log ?? '';
  throw new InfraError(`${name} did not come up: ${outcome.reason}. Last lines of ${log}:\n${logTail(log)}`, `See ${log}; the configs are in ${state.dir}`);
}

async function stopAll(processes: readonly LabProcess[]): Promise<void> {
  for (const proc of [...processes].reverse()) await stopProgram(proc.pid, path.basename(proc.program));
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function removeRunFiles(dir: string, processes: readonly LabProcess[]): void {
  for (const proc of processes) rmSync(proc.pidFile, { force: true });
  rmSync(stateFilePath(dir), { force: true });
}
