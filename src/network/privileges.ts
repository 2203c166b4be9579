import { readFileSync } from 'node:fs';
import { findExecutable } from '../lab/binaries.js';

/** CAP_NET_ADMIN's bit in /proc/<pid>/status CapEff (linux/capability.h). */
const CAP_NET_ADMIN = 12n;

/** The programs impairment runs, and the Debian package of each. */
const TOOLS: readonly (readonly [string, string])[] = [
  ['ip', 'iproute2'],
  ['tc', 'iproute2'],
  ['nft', 'nftables'],
  ['iptables', 'iptables'],
  ['python3', 'python3'],
];

/**
 * Why roles cannot have impaired networks on this machine, or undefined when they can: network
 * namespaces, veth pairs, NAT and queueing rules need Linux and CAP_NET_ADMIN (root, or a container
 * given NET_ADMIN), and a few standard tools.
 */
export function impairmentUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network impairment needs Linux (network namespaces, nftables, tc)';
  if (!hasNetAdmin()) {
    return 'network impairment needs CAP_NET_ADMIN: run as root, or give the container NET_ADMIN (docker run --cap-add NET_ADMIN; Kubernetes securityContext.capabilities.add: [NET_ADMIN])';
  }
  const missing = TOOLS.filter(([tool]) => findExecutable(tool) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return `network impairment needs ${missing.map(([tool]) => `'${tool}'`).join(', ')}: apt-get install ${packages}`;
  }
  return undefined;
}

/** From the effective capabilities, not the uid: root in a container may lack NET_ADMIN. */
function hasNetAdmin(): boolean {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capEff !== undefined) return ((BigInt(`0x${capEff}`) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    // no /proc: judge by the uid
  }
  return process.getuid?.() === 0;
}
