import { runTool } from './runTool.js';
import { InfraError } from '../errors.js';
import { findExecutable } from './binaries.js';

/**
 * A network path where IP fragments are lost, as on many real paths (firewalls, NATs and
 * some carriers drop them): a network namespace behind a veth pair with an ordinary MTU,
 * whose nftables drop every fragment before reassembly. A UDP datagram bigger than the
 * MTU leaves the host as fragments and never arrives; TCP segments to the MTU and gets through.
 * Loopback cannot show this: its MTU is 64 KiB and it delivers fragments.
 *
 *    Kamailio (host) --- hostAddress [veth, mtu] deviceAddress --- device (namespace, nft: drop fragments)
 */
export interface LossyPath {
  namespace: string;
  hostInterface: string;
  deviceInterface: string;
  hostAddress: string;
  deviceAddress: string;
  mtu: number;
}

const TABLE = 'callwright_mtu';

/** Why a lossy path cannot be built on this machine, or undefined when it can. */
export function lossyPathUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating a network namespace and a veth pair needs root (CAP_NET_ADMIN)';
  if (!findExecutable('ip')) return "'ip' not found (apt-get install iproute2)";
  if (!findExecutable('nft')) return "'nft' not found (apt-get install nftables)";
  return undefined;
}

/** Builds the namespace, the veth pair and the fragment-dropping rule; undoes what it did if a step fails. */
export async function createLossyPath(options: { mtu: number; tag?: string }): Promise<LossyPath> {
  const tag = (options.tag ?? process.pid.toString(36)).slice(-8);
  const subnet = await freeSubnet();
  const path: LossyPath = {
    namespace: `callwright-mtu-${tag}`,
    // Interface names: at most 15 characters.
    hostInterface: `cwm${tag}h`,
    deviceInterface: `cwm${tag}d`,
    hostAddress: `10.250.${subnet}.1`,
    deviceAddress: `10.250.${subnet}.2`,
    mtu: options.mtu,
  };
  const inNamespace = (...args: string[]) => ['netns', 'exec', path.namespace, ...args];
  try {
    await run('ip', ['netns', 'add', path.namespace]);
    await run('ip', ['link', 'add', path.hostInterface, 'mtu', String(path.mtu), 'type', 'veth', 'peer', 'name', path.deviceInterface, 'mtu', String(path.mtu)]);
    await run('ip', ['link', 'set', path.deviceInterface, 'netns', path.namespace]);
    await run('ip', ['addr', 'add', `${path.hostAddress}/30`, 'dev', path.hostInterface]);
    await run('ip', ['link', 'set', path.hostInterface, 'up']);
    await run('ip', inNamespace('ip', 'addr', 'add', `${path.deviceAddress}/30`, 'dev', path.deviceInterface));
    await run('ip', inNamespace('ip', 'link', 'set', path.deviceInterface, 'up'));
    await run('ip', inNamespace('ip', 'link', 'set', 'lo', 'up'));
    // Priority -500: before conntrack's defragmentation (-400), so fragments are seen, counted and dropped.
    const rules = `table inet ${TABLE} {\n  chain prerouting {\n    type filter hook prerouting priority -500; policy accept;\n    ip frag-off & 0x3fff != 0 counter drop\n  }\n}\n`;
    await run('ip', inNamespace('nft', '-f', '-'), rules);
    return path;
  } catch (error) {
    await removeLossyPath(path);
    throw error;
  }
}

/** Removes the namespace (its end of the veth pair, and so the pair, goes with it). Safe to call twice. */
export async function removeLossyPath(path: LossyPath): Promise<void> {
  await run('ip', ['netns', 'del', path.namespace]).catch(() => undefined);
  await run('ip', ['link', 'del', path.hostInterface]).catch(() => undefined);
}

/** Fragments the namespace has dropped so far. */
export async function droppedFragments(path: LossyPath): Promise<number> {
  const listing = await run('ip', ['netns', 'exec', path.namespace, 'nft', 'list', 'table', 'inet', TABLE]);
  return Number(/counter packets (\d+)/.exec(listing)?.[1] ?? 0);
}

/** Arguments that run a program inside the path's namespace (`ip netns exec` execs it: the pid stays). */
export function inNamespaceArgs(path: LossyPath, program: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: findExecutable('ip') ?? 'ip', args: ['netns', 'exec', path.namespace, program, ...args] };
}

/** A /30 in 10.250.0.0/16 that no interface on the host uses yet. */
async function freeSubnet(): Promise<number> {
  const used = await run('ip', ['-4', '-o', 'addr', 'show']);
  const start = process.pid % 250;
  for (let offset = 0; offset < 250; offset++) {
    const candidate = (start + offset) % 250;
    if (!used.includes(`10.250.${candidate}.`)) return candidate;
  }
  throw new InfraError('No free 10.250.x.0/30 subnet for the lossy path', 'Remove leftover callwright-mtu-* namespaces: ip netns list');
}

function run(program: string, args: readonly string[], input?: string): Promise<string> {
  return runTool(findExecutable(program) ?? program, args, { name: program, ...(input !== undefined ? { input } : {}) }).catch((error: Error) => {
    throw new InfraError(error.message);
  });
}
