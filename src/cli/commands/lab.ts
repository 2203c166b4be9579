import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import type { LabDeviceName, LabState, LabStatus } from '../../lab/index.js';
import type { CallwrightCommand } from '../command.js';

export interface LabArgs {
  action: 'up' | 'down' | 'status';
  dir: string;
  'mtu-fallback': boolean;
  devices: (LabDeviceName | 'none')[];
}

/** One command with an action, so bin.ts registers it like any other: `callwright lab up|down|status`. */
export const labCommand: CallwrightCommand<LabArgs> = {
  command: 'lab <action>',
  describe: 'Start, stop or show the real interop lab (Kamailio, rtpengine, a SIPp echo device, baresip) on 127.0.0.1',
  builder: (yargs: Argv) =>
    yargs
      .positional('action', { choices: ['up', 'down', 'status'] as const, demandOption: true, describe: 'up: start and wait until ready; down: stop what up started; status: show it' })
      .option('dir', { type: 'string', default: '.lab', describe: 'working dir for configs, pid files, logs and lab.json' })
      .option('mtu-fallback', {
        type: 'boolean',
        default: true,
        describe: 'Kamailio sends requests over 1300 bytes by TCP instead of UDP (udp_mtu); --no-mtu-fallback to send them over UDP',
      })
      .option('devices', {
        type: 'array',
        string: true,
        choices: ['sipp-echo', 'baresip', 'none'],
        default: ['sipp-echo', 'baresip'],
        describe: 'SIP devices to start beside Kamailio and rtpengine',
      })
      .example('$0 lab up', 'start the lab in ./.lab with the default ports')
      .example('$0 lab up --no-mtu-fallback --devices sipp-echo', 'large INVITEs go to the echo device over UDP')
      .example('$0 lab down', 'stop it') as unknown as Argv<LabArgs>,
  run: async (args) => {
    // Loaded lazily: other commands and --help need none of the lab machinery.
    const lab = await import('../../lab/index.js');
    const print = (line = '') => process.stdout.write(`${line}\n`);
    switch (args.action) {
      case 'up': {
        const devices = args.devices.filter((d): d is LabDeviceName => d !== 'none');
        const state = await lab.labUp({ dir: args.dir, mtuFallback: args['mtu-fallback'], devices });
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
    }
  },
};

function printState(state: LabState | LabStatus, print: (line?: string) => void): void {
  const running = 'running' in state ? state.running : undefined;
  print(`  SIP:        udp/tcp 127.0.0.1:${state.ports.sipUdpTcp}, domain ${state.domain} (digest realm too)`);
  print(`  WebSocket:  ${state.wsUrl}   ${state.wssUrl} (self-signed; SPKI sha256 ${state.tls.spkiSha256Base64})`);
  print(`  MTU fallback (udp_mtu 1300 -> TCP): ${state.mtuFallback ? 'on' : 'off'}`);
  const first = state.users[0]?.user;
  const last = state.users[state.users.length - 1]?.user;
  // The passwords follow the lab's fixed default pattern unless overridden; lab.json holds them, we don't print them.
  print(`  users:      ${first}..${last} (${state.users.length}) at ${state.domain}; passwords in ${state.dir}/lab.json (default 'secret<user>')`);
  for (const device of state.devices) {
    print(`  device:     ${device.uri} -> ${device.name} on ${device.transport} ${device.address} (trace: ${device.trace})`);
  }
  for (const proc of state.processes) {
    const mark = running ? (running[proc.name] ? 'running' : 'NOT RUNNING') : 'started';
    print(`  process:    ${proc.name.padEnd(10)} pid ${String(proc.pid).padEnd(7)} ${mark.padEnd(11)} log ${proc.log}`);
  }
}
