import type { Argv } from 'yargs';
import { ExitCode, InfraError, InputError } from '../../errors.js';
import type { LabDeviceName, LabPorts, LabState, LabStatus } from '../../lab/index.js';
import { createLogger, type LogLevel } from '../../log.js';
import type { CallwrightCommand } from '../command.js';

export interface LabArgs {
  action: 'up' | 'down' | 'status' | 'mtu-sweep' | 'call';
  dir: string;
  'mtu-fallback': boolean;
  devices: (LabDeviceName | 'none')[];
  turn: boolean;
  'port-base'?: number;
  out: string;
  'path-mtu': number;
  'lossy-path': boolean;
  chromium?: string;
  sizes?: string;
  offers?: string;
  to?: string;
  seconds: number;
  wait: number;
  dtmf?: string;
  'log-level': LogLevel;
}

/** One command with an action, so bin.ts registers it like any other: `callwright lab up|down|status|mtu-sweep|call`. */
export const labCommand: CallwrightCommand<LabArgs> = {
  command: 'lab <action>',
  describe: 'Start, stop or show the real interop lab (Kamailio, rtpengine, a SIPp echo device, baresip, a coturn TURN relay) on 127.0.0.1',
  builder: (yargs: Argv) =>
    yargs
      .positional('action', {
        choices: ['up', 'down', 'status', 'mtu-sweep', 'call'] as const,
        demandOption: true,
        describe:
          'up: start and wait until ready; down: stop what up started; status: show it; mtu-sweep: INVITE sizes vs. path MTU, with Kamailio\'s TCP fallback off and on (its own labs); ' +
          'call: a SIP device (SIPp, plain RTP, echoing what it hears) calls a lab user through Kamailio',
      })
      .option('dir', { type: 'string', default: '.lab', describe: 'working dir for configs, pid files, logs and lab.json' })
      .option('mtu-fallback', {
        type: 'boolean',
        default: false,
        describe: 'Kamailio sends requests over 1300 bytes by TCP instead of UDP (udp_mtu=1300, udp_mtu_try_proto=TCP); the UDP-only echo device then takes no browser call (477)',
      })
      .option('devices', {
        type: 'array',
        string: true,
        choices: ['sipp-echo', 'baresip', 'none'],
        default: ['sipp-echo', 'baresip'],
        describe: 'SIP devices to start beside Kamailio and rtpengine',
      })
      .option('turn', {
        type: 'boolean',
        default: true,
        describe: 'start a coturn TURN relay on 127.0.0.1 (its credentials in <dir>/turn.env, for run --secrets); --no-turn: none',
      })
      .option('port-base', { type: 'number', describe: 'every lab port from this one: SIP base, ws +1, wss +2, ng +3, echo +4, baresip +5, TURN +6, TURN relays +20..+99, RTP +100.. (default: 5060, 8080...; mtu-sweep: 5260, 8280...)' })
      .option('out', { type: 'string', default: 'reports/mtu-sweep', describe: 'mtu-sweep: folder for mtu-sweep.csv, mtu-sweep.md, its labs and its runs' })
      .option('path-mtu', { type: 'number', default: 1500, describe: 'mtu-sweep: MTU of the path to the device' })
      .option('lossy-path', {
        type: 'boolean',
        default: true,
        describe: 'mtu-sweep: put the device in a network namespace that drops IP fragments (needs root, ip, nft); --no-lossy-path: loopback',
      })
      .option('chromium', { type: 'string', describe: 'mtu-sweep: Chromium/Chrome binary for the browser calls' })
      .option('sizes', {
        type: 'string',
        describe: 'mtu-sweep: sizes (bytes, as Kamailio forwards it) SIPp pads its INVITE to, comma-separated, or none (default 1200,1300,1400,1472,1500,4000)',
      })
      .option('offers', {
        type: 'string',
        describe: 'mtu-sweep: browser offers by number, comma-separated, or none: 1 audio PCMU only, 2 audio every codec, 3 audio+video PCMU and VP8, 4 audio+video every codec and b= lines (default all)',
      })
      .option('to', { type: 'string', describe: 'call: the lab user (or device) to call, e.g. 1001' })
      .option('seconds', { type: 'number', default: 6, describe: 'call: how long the call stays up before the device hangs up' })
      .option('wait', { type: 'number', default: 30, describe: 'call: keep retrying this many seconds while the user is not registered yet (404/480)' })
      .option('dtmf', { type: 'string', describe: 'call: RFC 4733 digits the device sends after the answer' })
      .option('log-level', { choices: ['error', 'warn', 'info', 'debug'] as const, default: 'info' as LogLevel })
      .example('$0 lab up', 'start the lab in ./.lab with the default ports')
      .example('$0 lab up --mtu-fallback --devices baresip', 'large INVITEs go to the devices over TCP (RFC 3261 18.1.1)')
      .example('$0 lab up --port-base 15060 --dir .lab2', 'a second lab beside the first')
      .example('$0 lab call --to 1001 --seconds 6', 'a SIP device calls the browser registered as 1001 (scenarios/lab/device-to-browser.yaml)')
      .example('$0 lab down', 'stop it')
      .example('$0 lab mtu-sweep --out reports/mtu', 'the MTU sweep report: reports/mtu/mtu-sweep.md and .csv') as unknown as Argv<LabArgs>,
  run: async (args) => {
    // Loaded lazily: other commands and --help need none of the lab machinery.
    const lab = await import('../../lab/index.js');
    const print = (line = '') => process.stdout.write(`${line}\n`);
    const ports = args['port-base'] === undefined ? undefined : portsFrom(args['port-base'], lab.labPortsFrom);
    switch (args.action) {
      case 'up': {
        const devices = args.devices.filter((d): d is LabDeviceName => d !== 'none');
        const state = await lab.labUp({ dir: args.dir, mtuFallback: args['mtu-fallback'], devices, turn: args.turn, ...(ports ? { ports } : {}) });
        print(`lab up in ${state.dir}`);
        printState(state, print);
        print(`stop it with: callwright lab down --dir ${args.dir}`);
        return ExitCode.pass;
      }
      case 'down': {
        const { stopped } = await lab.labDown(args.dir);
        print(stopped.length > 0 ? `stopped: ${stopped.join(', ')}` : `no lab running in ${args.dir}`);
        return ExitCode.pass;
      }
      case 'status': {
        const status = await lab.labStatus(args.dir);
        if (!status) {
          print(`no lab in ${args.dir} (start one with: callwright lab up --dir ${args.dir})`);
          return ExitCode.pass;
        }
        print(`lab in ${status.dir}, started ${status.startedAt}`);
        printState(status, print);
        const down = Object.entries(status.running).filter(([, running]) => !running);
        // A lab with a dead component is broken infrastructure for whoever uses it.
        return down.length === 0 ? ExitCode.pass : ExitCode.infrastructure;
      }
      case 'call': {
        if (!args.to) throw new InputError('lab call: --to is required (a lab user such as 1001, or a device: echo, baresip)');
        const state = await lab.labStatus(args.dir);
        if (!state) throw new InputError(`lab call: no lab in ${args.dir}`, `Start one: callwright lab up --dir ${args.dir}`);
        if (!state.running.kamailio) throw new InfraError(`lab call: Kamailio of the lab in ${args.dir} is not running`, `Restart the lab: callwright lab down --dir ${args.dir} && callwright lab up --dir ${args.dir}`);
        if (!Number.isFinite(args.wait) || args.wait < 0) throw new InputError(`--wait: expected seconds >= 0, got ${args.wait}`);
        const result = await lab.callFromDevice(state, {
          target: args.to,
          seconds: args.seconds,
          waitSeconds: args.wait,
          ...(args.dtmf ? { dtmf: args.dtmf } : {}),
        });
        const answer = result.status === undefined ? 'no final answer' : `${result.status} ${result.reason ?? ''}`.trim();
        print(`device call to sip:${args.to}@${state.domain}: ${answer}, ${result.succeeded ? `held ${args.seconds} s and hung up` : 'FAILED'} (${result.attempts} attempt${result.attempts > 1 ? 's' : ''})`);
        print(`  Call-ID ${result.callId ?? '?'}, INVITE ${result.inviteBytes ?? '?'} bytes; SIPp trace: ${result.messageTrace}`);
        return result.succeeded ? ExitCode.pass : ExitCode.failed;
      }
      case 'mtu-sweep': {
        if (!Number.isInteger(args['path-mtu']) || args['path-mtu'] < 576 || args['path-mtu'] > 9000) {
          throw new InputError(`--path-mtu: expected a whole number from 576 to 9000, got ${args['path-mtu']}`);
        }
        // Loaded only here: the sweep runs browsers.
        const { defaultBrowserOffers, runMtuSweep } = await import('../../studies/mtuSweep.js');
        const sippSizes = args.sizes === undefined ? undefined : numberList('--sizes', args.sizes, 200, 65_000);
        const offerNumbers = args.offers === undefined ? undefined : numberList('--offers', args.offers, 1, defaultBrowserOffers.length);
        const browserOffers = offerNumbers?.map((n) => defaultBrowserOffers[n - 1]!);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const result = await runMtuSweep({
            outDir: args.out,
            logger: createLogger(args['log-level']),
            pathMtu: args['path-mtu'],
            lossyPath: args['lossy-path'] ? 'auto' : 'off',
            ...(ports ? { ports } : {}),
            ...(args.chromium ? { chromium: args.chromium } : {}),
            ...(sippSizes ? { sippSizes } : {}),
            ...(browserOffers ? { browserOffers } : {}),
            signal: stop.signal,
          });
          print(`MTU sweep: ${result.path.kind === 'lossy' ? `lossy path, MTU ${result.path.mtu}` : `loopback (${result.path.reason})`}`);
          for (const finding of result.findings) print(`  ${finding}`);
          print(`report: ${result.markdownFile}`);
          print(`        ${result.csvFile}`);
          return ExitCode.pass;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
    }
  },
};

function portsFrom(base: number, derive: (base: number) => LabPorts): LabPorts {
  if (!Number.isInteger(base) || base < 1024 || base + 299 > 65535) {
    throw new InputError(`--port-base: expected a whole number from 1024 to 65236 (the lab uses base..base+299), got ${base}`);
  }
  return derive(base);
}

/** "1200,4000" -> [1200, 4000]; "none" -> []. */
function numberList(option: string, text: string, min: number, max: number): number[] {
  if (text.trim() === 'none') return [];
  const values = text.split(',').map((item) => Number(item.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min || v > max)) {
    throw new InputError(`${option}: expected whole numbers from ${min} to ${max}, comma-separated (or none), got '${text}'`);
  }
  return values;
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

function printState(state: LabState | LabStatus, print: (line?: string) => void): void {
  const running = 'running' in state ? state.running : undefined;
  print(`  SIP:        udp/tcp 127.0.0.1:${state.ports.sipUdpTcp}, domain ${state.domain} (digest realm too)`);
  print(`  WebSocket:  ${state.wsUrl}   ${state.wssUrl} (self-signed; SPKI sha256 ${state.tls.spkiSha256Base64})`);
  print(`  MTU fallback (udp_mtu 1300 -> TCP): ${state.mtuFallback ? 'on' : 'off'}`);
  const first = state.users[0]?.user;
  const last = state.users[state.users.length - 1]?.user;
  // The passwords follow the lab's fixed default pattern unless overridden; lab.json holds them, we don't print them.
  print(`  users:      ${first}..${last} (${state.users.length}) at ${state.domain}; passwords in ${state.dir}/lab.json (default 'secret<user>')`);
  if (state.extraUsers?.length) print(`  escaped:    ${state.extraUsers.map((u) => `${u.user} ("${decodeUser(u.user)}")`).join(', ')}: logins RFC 3261 wants percent-escaped`);
  for (const device of state.devices) {
    print(`  device:     ${device.uri} -> ${device.name} on ${device.transport} ${device.address} (trace: ${device.trace})`);
  }
  if (state.turn) {
    // The credentials stay in the mode-600 files; the output names them only.
    print(`  TURN:       ${state.turn.urls.join(' ')}, relays on ports ${state.turn.relayMin}..${state.turn.relayMax}, realm ${state.turn.realm}`);
    print(`              credentials in ${state.turn.secretsFile} (callwright run ... --secrets ${state.turn.secretsFile}): long-term username/password and the TURN REST secret`);
  }
  for (const proc of state.processes) {
    const mark = running ? (running[proc.name] ? 'running' : 'NOT RUNNING') : 'started';
    print(`  process:    ${proc.name.padEnd(10)} pid ${String(proc.pid).padEnd(7)} ${mark.padEnd(11)} log ${proc.log}`);
  }
}
