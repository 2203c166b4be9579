import path from 'node:path';
import { InputError } from '../errors.js';
import { labDeviceNames, type LabDeviceName, type LabOptions, type LabPorts, type LabUser } from './types.js';

/** Not resolvable on purpose: clients reach Kamailio by the ws/wss URL or 127.0.0.1, and Kamailio knows this name as itself. */
export const labDomain = 'callwright.lab';

export const defaultLabPorts: Readonly<LabPorts> = {
  sipUdpTcp: 5060,
  ws: 8080,
  wss: 8443,
  rtpengineNg: 22222,
  rtpMin: 30000,
  rtpMax: 30999,
  sippEcho: 5070,
  sippEchoRtp: 6000,
  baresip: 5080,
  baresipRtpMin: 10000,
  baresipRtpMax: 10099,
  turn: 3478,
  // Below Linux's ephemeral range (32768..), where Chromium's own sockets would compete for them.
  turnRelayMin: 32000,
  turnRelayMax: 32099,
};

/**
 * Every lab port from one base, for a second lab beside a default one (tests, the MTU sweep,
 * a busy machine): SIP base, ws +1, wss +2, rtpengine ng +3, SIPp echo +4, baresip +5,
 * TURN +8 (baresip takes +6 for TLS, its SIP port + 1), echo RTP +10 (and +12), TURN relays +20..+99, rtpengine RTP +100..+199,
 * baresip RTP +200..+299.
 */
export function labPortsFrom(base: number): LabPorts {
  return {
    sipUdpTcp: base,
    ws: base + 1,
    wss: base + 2,
    rtpengineNg: base + 3,
    sippEcho: base + 4,
    baresip: base + 5,
    sippEchoRtp: base + 10,
    rtpMin: base + 100,
    rtpMax: base + 199,
    baresipRtpMin: base + 200,
    baresipRtpMax: base + 299,
    turn: base + 8,
    turnRelayMin: base + 20,
    turnRelayMax: base + 99,
  };
}

export const defaultLabUsers = { prefix: '', first: 1000, count: 20, password: 'secret{user}' } as const;

/** Logins with a space and angle brackets, percent-escaped as RFC 3261 wants them in a SIP URI. */
export const defaultExtraLabUsers: readonly LabUser[] = [
  { user: 'first%20last', password: 'secretfirst%20last' },
  { user: '%3Cops%3E', password: 'secret%3Cops%3E' },
];

/** The TURN ports of a lab that runs coturn. */
export interface LabTurnPorts {
  port: number;
  relayMin: number;
  relayMax: number;
}

export interface ResolvedLabOptions {
  dir: string;
  mtuFallback: boolean;
  ports: LabPorts;
  /** Set when the lab runs coturn. */
  turn: LabTurnPorts | undefined;
  users: LabUser[];
  extraUsers: LabUser[];
  devices: LabDeviceName[];
  routes: { userPart: string; host: string; port: number }[];
  listenAddresses: string[];
}

// Users and passwords are written into Kamailio's config as quoted strings: keep them to safe characters.
const userPattern = /^[A-Za-z0-9._-]+$/;
const passwordPattern = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // printable ASCII without space, " and \
// An RFC 3261 user part, escapes allowed, without what Kamailio's config would read as syntax: $ ( ) " \.
const escapedUserPattern = /^(?:[A-Za-z0-9._~!*'&=+,;?/-]|%[0-9A-Fa-f]{2})+$/;
const ipv4Pattern = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** Fills in the defaults and checks everything, reporting every problem at once. */
export function resolveLabOptions(options: LabOptions): ResolvedLabOptions {
  const problems: string[] = [];
  const dir = path.resolve(options.dir || '.lab');
  const ports: LabPorts = { ...defaultLabPorts, ...definedOnly(options.ports ?? {}) };

  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      problems.push(`ports.${name}: ${String(port)} is not an unprivileged port (1024-65535)`);
    }
  }
  if (ports.rtpMax - ports.rtpMin < 3) problems.push('ports.rtpMin..rtpMax: need at least 4 ports');
  if (ports.baresipRtpMax - ports.baresipRtpMin < 3) problems.push('ports.baresipRtpMin..baresipRtpMax: need at least 4 ports');
  // The defaults fill them in above; the ?? only satisfies the optional fields' type.
  const turn = options.turn ? { port: ports.turn ?? 3478, relayMin: ports.turnRelayMin ?? 32000, relayMax: ports.turnRelayMax ?? 32099 } : undefined;
  if (turn && turn.relayMax - turn.relayMin < 3) problems.push('ports.turnRelayMin..turnRelayMax: need at least 4 ports');
  problems.push(...portOverlaps(ports, turn));

  const devices = options.devices ?? [...labDeviceNames];
  for (const device of devices) {
    if (!labDeviceNames.includes(device)) problems.push(`devices: '${String(device)}' is not one of ${labDeviceNames.join(', ')}`);
  }

  const prefix = options.users?.prefix ?? defaultLabUsers.prefix;
  const first = options.users?.first ?? defaultLabUsers.first;
  const count = options.users?.count ?? defaultLabUsers.count;
  const passwordPatternOption = options.users?.password ?? defaultLabUsers.password;
  if (!Number.isInteger(first) || first < 0) problems.push(`users.first: ${first} is not a non-negative integer`);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) problems.push(`users.count: ${count} is not an integer in 1..10000`);
  if (prefix !== '' && !userPattern.test(prefix)) problems.push(`users.prefix: '${prefix}' may only hold letters, digits, '.', '_' and '-'`);
  const samplePassword = passwordPatternOption.replaceAll('{user}', 'x');
  if (!passwordPattern.test(samplePassword)) {
    problems.push('users.password: use printable ASCII without spaces, quotes or backslashes');
  }

  const extraUsers = options.extraUsers ?? [...defaultExtraLabUsers];
  extraUsers.forEach((extra, index) => {
    if (!escapedUserPattern.test(extra.user)) {
      problems.push(`extraUsers[${index}].user: '${extra.user}' is not a SIP user part the lab can hold (letters, digits, -_.!~*'&=+,;?/ and %XX escapes)`);
    }
    if (!passwordPattern.test(extra.password)) problems.push(`extraUsers[${index}].password: use printable ASCII without spaces, quotes or backslashes`);
  });
  const routes = options.routes ?? [];
  routes.forEach((route, index) => {
    if (!/^[A-Za-z0-9._-]+$/.test(route.userPart)) problems.push(`routes[${index}].userPart: '${route.userPart}' may only hold letters, digits, '.', '_' and '-'`);
    if (!ipv4Pattern.test(route.host)) problems.push(`routes[${index}].host: '${route.host}' is not an IPv4 address`);
    if (!Number.isInteger(route.port) || route.port < 1 || route.port > 65535) problems.push(`routes[${index}].port: ${route.port} is not a port`);
  });
  const listenAddresses = options.listenAddresses ?? [];
  listenAddresses.forEach((address, index) => {
    if (!ipv4Pattern.test(address) || address === '127.0.0.1') problems.push(`listenAddresses[${index}]: '${address}' is not an IPv4 address other than 127.0.0.1`);
  });

  if (problems.length > 0) {
    throw new InputError(`Invalid lab options (${problems.length} problem${problems.length > 1 ? 's' : ''})`, 'Fix the options listed.', problems);
  }

  const users = Array.from({ length: count }, (_, index) => {
    const user = `${prefix}${first + index}`;
    return { user, password: passwordPatternOption.replaceAll('{user}', user) };
  });
  const taken = new Set(users.map((u) => u.user));
  for (const extra of extraUsers) {
    if (taken.has(extra.user)) throw new InputError(`Invalid lab options: extra user '${extra.user}' is already a lab user`, 'Give each user once.');
    taken.add(extra.user);
  }
  return { dir, mtuFallback: options.mtuFallback ?? false, ports, turn, users, extraUsers, devices: [...new Set(devices)], routes, listenAddresses };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every single port and range the lab binds, to catch two components on the same port. */
function portOverlaps(ports: LabPorts, turn: LabTurnPorts | undefined): string[] {
  const claims: { name: string; from: number; to: number }[] = [
    { name: 'sipUdpTcp', from: ports.sipUdpTcp, to: ports.sipUdpTcp },
    { name: 'ws', from: ports.ws, to: ports.ws },
    { name: 'wss', from: ports.wss, to: ports.wss },
    { name: 'rtpengineNg', from: ports.rtpengineNg, to: ports.rtpengineNg },
    { name: 'rtpMin..rtpMax', from: ports.rtpMin, to: ports.rtpMax },
    { name: 'sippEcho', from: ports.sippEcho, to: ports.sippEcho },
    { name: 'sippEchoRtp (and +2)', from: ports.sippEchoRtp, to: ports.sippEchoRtp + 2 },
    { name: 'baresip', from: ports.baresip, to: ports.baresip },
    { name: 'baresipRtpMin..baresipRtpMax', from: ports.baresipRtpMin, to: ports.baresipRtpMax },
  ];
  if (turn) claims.push({ name: 'turn', from: turn.port, to: turn.port }, { name: 'turnRelayMin..turnRelayMax', from: turn.relayMin, to: turn.relayMax });
  const problems: string[] = [];
  for (const claim of claims) {
    if (claim.from > claim.to) problems.push(`ports.${claim.name}: the range is empty`);
  }
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i]!;
      const b = claims[j]!;
      if (a.from <= b.to && b.from <= a.to) problems.push(`ports.${a.name} and ports.${b.name} overlap`);
    }
  }
  return problems;
}
