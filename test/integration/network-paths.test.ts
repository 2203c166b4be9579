import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';
import { impairmentUnavailable } from '../../src/network/privileges.js';
import { RoleNetworks } from '../../src/network/roleNetworks.js';
import { NETWORK_PRESETS } from '../../src/scenario/networkPresets.js';
import type { NetworkProfile } from '../../src/scenario/types.js';
import { itNeeding } from './prerequisites.js';

// The path a role's browser gets (src/network/roleNetworks.ts), without a browser: programs run in
// the role's namespace reach the host's loopback through the door and a machine elsewhere (a
// namespace of this test's, 10.252.7.2) through forwarding and NAT, each with the profile's delay
// added, at the profile's rate; and stop() leaves nothing behind.
const it = itNeeding(impairmentUnavailable());
const python = 'python3';
const children: ChildProcess[] = [];
const REMOTE_NS = 'callwright-test-remote';

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  try {
    execFileSync('ip', ['netns', 'del', REMOTE_NS], { stdio: 'ignore' });
  } catch {
    // never made
  }
});

/** A TCP server that answers each connection with the address it saw, then counts what it receives. */
const SERVER = `
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print("listening", flush=True)
def serve(c, a):
    c.sendall((a[0] + "\\n").encode())
    while c.recv(65536): pass
    c.close()
while True:
    c, a = s.accept(); threading.Thread(target=serve, args=(c, a), daemon=True).start()
`;

/** Connects, reads the address the server saw; sends N bytes; prints {seen, connectMs, sendSeconds}. */
const CLIENT = `
import json, socket, sys, time
t = time.monotonic(); c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30); connect = (time.monotonic() - t) * 1000
seen = c.makefile().readline().strip()
t = time.monotonic(); c.sendall(b"x" * int(sys.argv[3])); c.shutdown(socket.SHUT_WR); c.recv(1); send = time.monotonic() - t
print(json.dumps({"seen": seen, "connectMs": connect, "sendSeconds": send}))
`;

/** Counts UDP bytes until 1 s of silence; prints {bytes, seconds} from the first datagram to the last. */
const UDP_SINK = `
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2]))); print("listening", flush=True)
s.settimeout(10); data, _ = s.recvfrom(2048); first = last = time.monotonic(); total = len(data); s.settimeout(1)
try:
    while True:
        data, _ = s.recvfrom(2048); last = time.monotonic(); total += len(data)
except socket.timeout:
    pass
print(json.dumps({"bytes": total, "seconds": last - first}), flush=True)
`;

/** Sends 1000-byte datagrams at 4 Mbit/s for 2 s. */
const UDP_SOURCE = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); start = time.monotonic()
for i in range(1000):
    s.sendto(b"x" * 1000, (sys.argv[1], int(sys.argv[2])))
    time.sleep(max(0, start + (i + 1) * 0.002 - time.monotonic()))
`;

function serve(args: string[]): Promise<void> {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve) => child.stdout!.once('data', () => resolve()));
}

function connectFrom(namespace: string, host: string, port: number, bytes: number): { seen: string; connectMs: number; sendSeconds: number } {
  const output = execFileSync('ip', ['netns', 'exec', namespace, python, '-c', CLIENT, host, String(port), String(bytes)], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(output) as { seen: string; connectMs: number; sendSeconds: number };
}

const profile: NetworkProfile = {
  name: 'test-50ms-2mbit',
  up: { ...NETWORK_PRESETS['clean']!.up, delayMs: 50, rateKbit: 2000 },
  down: { ...NETWORK_PRESETS['clean']!.down, delayMs: 50 },
};

describe('a role\'s network path (namespace, door to the host\'s loopback, NAT to other machines)', () => {
  it('reaches 127.0.0.1 and a machine elsewhere with the delay added each way, sends at the rate limit, and stop() removes it all', async () => {
    const forwardingBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    // A "machine elsewhere": a namespace of its own behind a veth pair, 10.252.7.2.
    execFileSync('ip', ['netns', 'add', REMOTE_NS]);
    execFileSync('ip', ['link', 'add', 'cwtremh', 'type', 'veth', 'peer', 'name', 'cwtremd', 'netns', REMOTE_NS]);
    execFileSync('ip', ['addr', 'add', '10.252.7.1/30', 'dev', 'cwtremh']);
    execFileSync('ip', ['link', 'set', 'cwtremh', 'up']);
    execFileSync('ip', ['-n', REMOTE_NS, 'addr', 'add', '10.252.7.2/30', 'dev', 'cwtremd']);
    execFileSync('ip', ['-n', REMOTE_NS, 'link', 'set', 'cwtremd', 'up']);
    await serve(['ip', 'netns', 'exec', REMOTE_NS, python, '-c', SERVER, '10.252.7.2', '7777']);
    await serve([python, '-c', SERVER, '127.0.0.1', '17777']);

    const networks = await RoleNetworks.start({ speaker: profile }, '/bin/true');
    let stopped = false;
    try {
      const ns = networks.get('speaker')!.namespace;
      const local = connectFrom(ns, '127.0.0.1', 17777, 1000);
      // The rate limit on what the role sends, as media meets it: UDP offered at twice the rate.
      const sink = spawn(python, ['-c', UDP_SINK, '127.0.0.1', '17778'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(sink);
      let sinkOutput = '';
      sink.stdout!.on('data', (chunk: Buffer) => (sinkOutput += chunk.toString()));
      await new Promise((resolve) => sink.stdout!.once('data', resolve));
      execFileSync('ip', ['netns', 'exec', ns, python, '-c', UDP_SOURCE, '127.0.0.1', '17778'], { timeout: 20_000 });
      await new Promise((resolve) => sink.once('exit', resolve));
      const received = JSON.parse(sinkOutput.split('\n')[1]!) as { bytes: number; seconds: number };
      const kbit = (received.bytes * 8) / received.seconds / 1000;
      const remote = connectFrom(ns, '10.252.7.2', 7777, 1000);
      console.log(`door: ${JSON.stringify(local)}; elsewhere: ${JSON.stringify(remote)}; UDP at 4 Mbit/s through a 2 Mbit/s limit: ${kbit.toFixed(0)} kbit/s arrived`);
      // The door: the host's loopback sees the role's own address (.N), 100 ms for the handshake's round trip.
      expect(local.seen).toBe(networks.get('speaker')!.address);
      expect(local.connectMs).toBeGreaterThanOrEqual(100);
      expect(local.connectMs).toBeLessThan(150);
      // tbf lets 2 Mbit/s through (its first 200 ms of queue arrive on top, hence the margin above).
      expect(kbit).toBeGreaterThan(1800);
      expect(kbit).toBeLessThan(2400);
      // Elsewhere: forwarded and behind the host's address on that link, as a home router does it.
      expect(remote.seen).toBe('10.252.7.1');
      expect(remote.connectMs).toBeGreaterThanOrEqual(100);
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
      await networks.stop();
      stopped = true;
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/\bcw[bn]/);
      expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain('callwright_net_');
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(forwardingBefore);
    } finally {
      if (!stopped) await networks.stop();
    }
  }, 90_000);
});
