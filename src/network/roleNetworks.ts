import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from '../lab/runTool.js';
import { InfraError } from '../errors.js';
import { findExecutable } from '../lab/binaries.js';
import type { NetworkProfile } from '../scenario/types.js';
import { describeProfile, impairerLine, rateLimitArgs } from './impairment.js';

/**
 * Impaired networks for roles. Each role with a `network:` gets a network namespace for its
 * browsers, on a bridge of the run's own, so its media AND signalling cross one path where
 * packets can be lost, delayed, jittered, reordered and rate-limited in each direction:
 *
 *    host (PBX, page server, other roles)          role namespace (its Chromium)
 *    bridge .1, loopback door .254  ==== veth ====  .N    up: what the role sends; down: what it receives
 *
 * - The role's Chromium keeps the scenario's addresses: inside its namespace, connections to
 *   127.0.0.0/8 are sent to the bridge's .254 (nftables DNAT, source NAT to .N), and the host
 *   turns .254 back into 127.0.0.1. So a PBX, rtpengine or page server on the host's loopback is
 *   reached through the impaired path, with nothing to configure.
 * - Loss, delay, jitter and reordering: helpers/impairer.py, one per namespace, holding each packet
 *   in the kernel (NFQUEUE) until it is due. That is netem's job, done in user space because
 *   many kernels (this project's CI machines among them) are built without sch_netem.
 * - Rate: tbf on the namespace's end of the veth (up) and on the host's end (down).
 * Everything is torn down by stop(), whatever failed on the way.
 */
export interface RoleNetwork {
  role: string;
  namespace: string;
  /** The veth's end in the namespace, and its address. */
  device: string;
  address: string;
  /** The veth's end on the host, a port of the bridge: its egress is the role's downlink. */
  hostDevice: string;
  profile: NetworkProfile;
  /** A Chromium launcher that runs it inside the namespace (`ip netns exec`). */
  chromium: string;
  impairer: Impairer;
}

/** A profile switch, for the run's events and samples: from when it took effect. */
export interface ProfileSwitch {
  role: string;
  profile: string;
  atMs: number;
}

/** What one namespace's impairer did, per direction (from its own count). */
export interface ImpairerCounts {
  up: { packets: number; dropped: number; delayed: number; reordered: number };
  down: { packets: number; dropped: number; delayed: number; reordered: number };
}

const UP_QUEUE = 1;
const DOWN_QUEUE = 2;
const IMPAIRER = fileURLToPath(new URL('../../helpers/impairer.py', import.meta.url));

export class RoleNetworks {
  private readonly networks = new Map<string, RoleNetwork>();
  private hostTable: string | undefined;
  private bridge: string | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'callwright-net-'));
  private failure: string | undefined;
  /** The host forwarded no IPv4 before the run: put back as it was at the end. */
  private forwardingWasOff = false;

  private constructor(private readonly tag: string) {}

  /**
   * Builds a namespace for each role given, with its starting profile applied. `chromium` is
   * the browser the namespaced launcher runs. Undoes everything if a step fails.
   */
  static async start(roles: Record<string, NetworkProfile>, chromium: string, onImpairerExit?: (role: string, reason: string) => void): Promise<RoleNetworks> {
    const networks = new RoleNetworks(`${process.pid.toString(36).slice(-4)}${Math.floor(Math.random() * 36 ** 2).toString(36).padStart(2, '0')}`);
    try {
      await networks.build(roles, chromium, onImpairerExit);
      return networks;
    } catch (error) {
      await networks.stop();
      throw error instanceof InfraError ? error : new InfraError(`cannot build the roles' networks: ${error instanceof Error ? error.message : String(error)}`, 'run as root (CAP_NET_ADMIN); see docs/network.md');
    }
  }

  get(role: string): RoleNetwork | undefined {
    return this.networks.get(role);
  }

  roles(): string[] {
    return [...this.networks.keys()];
  }

  /** Why an impairer died mid-run, if one did: the run's media figures after that are not the profile's. */
  get impairerFailure(): string | undefined {
    return this.failure;
  }

  /** Applies another profile to a role's path at once (packets already held keep their time). */
  async switchProfile(role: string, profile: NetworkProfile): Promise<ProfileSwitch> {
    const network = this.networks.get(role);
    if (!network) throw new InfraError(`role ${role} has no network of its own to switch`);
    await this.applyRates(network, profile);
    network.impairer.apply(profile);
    network.profile = profile;
    return { role, profile: profile.name, atMs: Date.now() };
  }

  /** Stops the impairers (each tells what it did) and removes namespaces, bridge and rules. Safe to call twice. */
  async stop(): Promise<Record<string, ImpairerCounts | undefined>> {
    const counts: Record<string, ImpairerCounts | undefined> = {};
    for (const network of this.networks.values()) counts[network.role] = await network.impairer.stop();
    for (const network of this.networks.values()) {
      // The host end first: a namespace lives on while anything still holds it (a browser closing,
      // the kernel's own cleanup), and its veth pair with it.
      await ip('link', 'del', network.hostDevice).catch(() => undefined);
      await ip('netns', 'del', network.namespace).catch(() => undefined);
    }
    this.networks.clear();
    if (this.hostTable) await nft('delete', 'table', 'ip', this.hostTable).catch(() => undefined);
    if (this.bridge) await ip('link', 'del', this.bridge).catch(() => undefined);
    this.hostTable = undefined;
    this.bridge = undefined;
    // Forwarding back off, unless another run's networks (a bridge of theirs) still need it.
    const othersRunning = this.forwardingWasOff && /\bcwb/.test(await ip('-o', 'link', 'show', 'type', 'bridge').catch(() => ''));
    if (this.forwardingWasOff && !othersRunning) await sysctl('net.ipv4.ip_forward', '0').catch(() => undefined);
    this.forwardingWasOff = false;
    rmSync(this.dir, { recursive: true, force: true });
    return counts;
  }

  private async build(roles: Record<string, NetworkProfile>, chromium: string, onImpairerExit?: (role: string, reason: string) => void): Promise<void> {
    const subnet = await freeSubnet();
    const prefix = `10.251.${subnet}`;
    const gateway = `${prefix}.1`;
    const door = `${prefix}.254`;
    this.bridge = `cwb${this.tag}`;
    await ip('link', 'add', this.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${gateway}/24`, 'dev', this.bridge);
    await ip('addr', 'add', `${door}/24`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
    // The host side of the loopback door: .254 is the host's 127.0.0.1 for the namespaces. A PBX on
    // another machine is reached the way a home router does it: forwarded, behind the host's address.
    await sysctl(`net.ipv4.conf.${this.bridge}.route_localnet`, '1');
    this.hostTable = `callwright_net_${this.tag}`;
    await nft('-f', '-', {
      input: `table ip ${this.hostTable} {\n  chain prerouting {\n    type nat hook prerouting priority -100; policy accept;\n    iifname "${this.bridge}" ip daddr ${door} dnat to 127.0.0.1\n  }\n  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n    ip saddr ${prefix}.0/24 oifname != "${this.bridge}" masquerade\n  }\n}\n`,
    });
    if ((await readSysctl('net.ipv4.ip_forward')) === '0') {
      this.forwardingWasOff = true;
      await sysctl('net.ipv4.ip_forward', '1');
    }

    let index = 0;
    for (const [role, profile] of Object.entries(roles)) {
      index++;
      const network: RoleNetwork = {
        role,
        namespace: `callwright-${this.tag}-${index}`,
        device: `cwn${this.tag}${index}d`,
        hostDevice: `cwn${this.tag}${index}h`,
        address: `${prefix}.${index + 1}`,
        profile,
        chromium: join(this.dir, `chromium-${index}`),
        impairer: Impairer.none(),
      };
      await ip('netns', 'add', network.namespace);
      this.networks.set(role, network); // from now on stop() removes it
      const inside = (...args: string[]) => ip('netns', 'exec', network.namespace, ...args);
      await ip('link', 'add', network.hostDevice, 'type', 'veth', 'peer', 'name', network.device, 'netns', network.namespace);
      await ip('link', 'set', network.hostDevice, 'master', this.bridge, 'up');
      await inside('ip', 'addr', 'add', `${network.address}/24`, 'dev', network.device);
      await inside('ip', 'link', 'set', network.device, 'up');
      await inside('ip', 'link', 'set', 'lo', 'up');
      await inside('ip', 'route', 'add', 'default', 'via', gateway);
      // The namespace side of the door: its loopback traffic leaves through the veth.
      await inside('sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', `net.ipv4.conf.${network.device}.route_localnet=1`);
      await ip('netns', 'exec', network.namespace, 'nft', '-f', '-', {
        input: `table ip callwright_door {\n  chain output {\n    type nat hook output priority -100; policy accept;\n    ip daddr 127.0.0.0/8 oifname "lo" dnat to ${door}\n  }\n  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n    oifname "${network.device}" ip saddr 127.0.0.0/8 snat to ${network.address}\n  }\n}\n`,
      });
      // Every packet of the path through the impairer: after NAT on the way out, on arrival on the way in.
      await inside('iptables', '-w', '-t', 'mangle', '-A', 'POSTROUTING', '-o', network.device, '-j', 'NFQUEUE', '--queue-num', String(UP_QUEUE));
      await inside('iptables', '-w', '-t', 'mangle', '-A', 'PREROUTING', '-i', network.device, '-j', 'NFQUEUE', '--queue-num', String(DOWN_QUEUE));
      const impairer = await Impairer.start(network.namespace, (reason) => {
        this.failure ??= `the impairer of role ${role} stopped: ${reason}`;
        onImpairerExit?.(role, reason);
      });
      network.impairer = impairer;
      impairer.apply(profile);
      await this.applyRates(network, profile);
      writeLauncher(network.chromium, network.namespace, chromium);
    }
  }

  private async applyRates(network: RoleNetwork, profile: NetworkProfile): Promise<void> {
    await tcOrNothing(['netns', 'exec', network.namespace, 'tc', ...rateLimitArgs(network.device, profile.up.rateKbit)]);
    await tcOrNothing(rateLimitArgs(network.hostDevice, profile.down.rateKbit), true);
  }

  describe(role: string): string {
    const network = this.networks.get(role);
    return network ? `${role}: namespace ${network.namespace} (${network.address}), ${network.profile.name}: ${describeProfile(network.profile)}` : `${role}: host network`;
  }
}

/** helpers/impairer.py in one namespace: takes profiles on stdin, prints its counts when stdin closes. */
class Impairer {
  private output = '';
  private exited = false;
  private stopping = false;

  private constructor(private readonly child: ChildProcess | undefined) {}

  static none(): Impairer {
    return new Impairer(undefined);
  }

  static async start(namespace: string, onUnexpectedExit: (reason: string) => void): Promise<Impairer> {
    const python = findExecutable('python3') ?? 'python3';
    // A process group of its own: a Ctrl-C at the terminal stops callwright, which then stops it in order.
    const child = spawn(findExecutable('ip') ?? 'ip', ['netns', 'exec', namespace, python, IMPAIRER, String(UP_QUEUE), String(DOWN_QUEUE)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const impairer = new Impairer(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()).slice(-2000));
    child.stdout!.on('data', (chunk: Buffer) => (impairer.output += chunk.toString()));
    child.stdin!.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new InfraError(`the impairer in ${namespace} did not start within 5 s: ${stderr.trim()}`)), 5_000);
      const check = () => {
        if (impairer.output.startsWith('ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new InfraError(`the impairer in ${namespace} exited (${code}): ${stderr.trim() || 'no message'}`, 'the kernel needs NFQUEUE (CONFIG_NETFILTER_NETLINK_QUEUE) and iptables its NFQUEUE target'));
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => {
      impairer.exited = true;
      if (!impairer.stopping) onUnexpectedExit(`exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    });
    return impairer;
  }

  apply(profile: NetworkProfile): void {
    if (!this.child || this.exited) return;
    this.child.stdin!.write(impairerLine(profile));
  }

  /** Closes its stdin (it lets held packets go and prints its counts), then makes sure it is gone. */
  async stop(): Promise<ImpairerCounts | undefined> {
    const child = this.child;
    if (!child || this.stopping) return undefined;
    this.stopping = true;
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, 3_000).unref());
      await Promise.race([exited, gaveUp]);
      if (!this.exited) child.kill('SIGKILL');
    }
    const last = this.output.trim().split('\n').pop() ?? '';
    try {
      return last.startsWith('{') ? (JSON.parse(last) as ImpairerCounts) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * A launcher puppeteer can start like Chromium itself: execs it inside the namespace (the pid
 * stays). Its only inputs are callwright's own namespace name and the tool and browser paths, each
 * single-quoted; no scenario value reaches it.
 */
export function writeLauncher(path: string, namespace: string, chromium: string): void {
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  writeFileSync(path, `#!/bin/sh\nexec ${quote(findExecutable('ip') ?? 'ip')} netns exec ${quote(namespace)} ${quote(chromium)} "$@"\n`);
  chmodSync(path, 0o755);
}

/** A /24 in 10.251.0.0/16 that no interface uses yet (the MTU sweep's paths use 10.250). */
async function freeSubnet(): Promise<number> {
  const used = await ip('-4', '-o', 'addr', 'show');
  const start = process.pid % 250;
  for (let offset = 0; offset < 250; offset++) {
    const candidate = (start + offset) % 250;
    if (!used.includes(`10.251.${candidate}.`)) return candidate;
  }
  throw new InfraError('no free 10.251.x.0/24 subnet for the roles’ networks', 'remove leftover callwright bridges: ip -o link show type bridge | grep cwb');
}

/** A system tool's runner; a last argument `{ input }` goes to its stdin. */
function tool(program: string): (...args: (string | { input: string })[]) => Promise<string> {
  return (...args) => {
    const last = args[args.length - 1];
    const input = typeof last === 'object' ? last.input : undefined;
    const plain = args.filter((a): a is string => typeof a === 'string');
    return runTool(findExecutable(program) ?? program, plain, { name: program, ...(input !== undefined ? { input } : {}) });
  };
}

const ip = tool('ip');
const nft = tool('nft');
const tc = tool('tc');

async function readSysctl(key: string): Promise<string> {
  return (await runTool(findExecutable('sysctl') ?? 'sysctl', ['-n', key], { name: 'sysctl' })).trim();
}

function sysctl(key: string, value: string): Promise<string> {
  return runTool(findExecutable('sysctl') ?? 'sysctl', ['-qw', `${key}=${value}`], { name: 'sysctl' });
}

/** Sets a rate limit; clearing one that was never set is no error. */
async function tcOrNothing(args: string[], onHost = false): Promise<void> {
  const clearing = args.includes('del');
  try {
    if (onHost) await tc(...args);
    else await ip(...args);
  } catch (error) {
    if (!clearing) throw error;
  }
}
