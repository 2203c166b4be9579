/** The SIP devices the lab can start beside Kamailio and rtpengine. */
export type LabDeviceName = 'sipp-echo' | 'baresip';
export const labDeviceNames: readonly LabDeviceName[] = ['sipp-echo', 'baresip'];

export interface LabPorts {
  /** Kamailio SIP over UDP and TCP (same port number for both). */
  sipUdpTcp: number;
  /** Kamailio SIP over WebSocket (ws://). */
  ws: number;
  /** Kamailio SIP over secure WebSocket (wss://, self-signed certificate). */
  wss: number;
  /** rtpengine control (ng protocol, UDP). */
  rtpengineNg: number;
  /** rtpengine media port range, inclusive. */
  rtpMin: number;
  rtpMax: number;
  /** SIPp echo device, SIP over UDP. */
  sippEcho: number;
  /** SIPp echo device RTP; SIPp also binds this port + 2 (its video echo). */
  sippEchoRtp: number;
  /** baresip SIP (it listens on UDP and TCP). */
  baresip: number;
  /** baresip media port range, inclusive. */
  baresipRtpMin: number;
  baresipRtpMax: number;
  /**
   * coturn (TURN and STUN) over UDP and TCP, when the lab runs it (LabOptions.turn). Optional so
   * port sets written before coturn joined the lab still fit: default 3478 (labPortsFrom: base+6).
   */
  turn?: number;
  /** coturn's relay port range, inclusive. Default 32000..32099 (labPortsFrom: base+20..base+99). */
  turnRelayMin?: number;
  turnRelayMax?: number;
}

export interface LabUsersOptions {
  /** Put before the number: prefix 'u' gives u1000, u1001... Default ''. */
  prefix?: string;
  /** First number. Default 1000. */
  first?: number;
  /** How many users. Default 20. */
  count?: number;
  /** Password for every user; `{user}` is replaced by the user name. Default 'secret{user}'. */
  password?: string;
}

export interface LabOptions {
  /** Working dir for configs, pid files, logs and lab.json. Default '.lab' in the cwd. */
  dir: string;
  /**
   * Kamailio udp_mtu=1300 + udp_mtu_try_proto=TCP (RFC 3261 18.1.1). Default false, Kamailio's own
   * default: on, every browser INVITE (over 1300 bytes once forwarded) goes to the devices by TCP,
   * and the UDP-only echo device then cannot be called at all (477).
   */
  mtuFallback?: boolean;
  ports?: Partial<LabPorts>;
  users?: LabUsersOptions;
  /**
   * More digest users, written as SIP user parts (percent-escaped where RFC 3261 wants it).
   * Default: 'first%20last' ("first last") and '%3Cops%3E' ("<ops>"), password secret<user>, for
   * logins with characters that must be escaped.
   */
  extraUsers?: LabUser[];
  /**
   * Routes by user part to SIP devices the lab does not start itself (e.g. one in a network
   * namespace, see mtuSweep.ts). Hosts other than 127.0.0.1 need their address in listenAddresses.
   */
  routes?: { userPart: string; host: string; port: number }[];
  /** More IPv4 addresses Kamailio listens on (UDP and TCP, the sipUdpTcp port), to reach such devices. */
  listenAddresses?: string[];
  /** Which SIP devices to start. Default both. */
  devices?: LabDeviceName[];
  /**
   * Start coturn, a TURN relay on 127.0.0.1 (LabState.turn). Default false here, so labs of
   * tests and studies need no coturn; `callwright lab up` starts it unless --no-turn.
   */
  turn?: boolean;
}

/** The lab's TURN relay (coturn). lab.json and turn.env (both mode 600) hold its credentials; logs never do. */
export interface LabTurn {
  /** turn:127.0.0.1:PORT?transport=udp and ?transport=tcp. */
  urls: string[];
  port: number;
  relayMin: number;
  relayMax: number;
  realm: string;
  /** The shared secret (TURN REST API): scenarios name it with secretEnv and get credentials made per run. */
  secret: string;
  /** A long-term credential (made from the secret, valid a year): scenarios name it with usernameEnv / credentialEnv. */
  username: string;
  password: string;
  /** NAME=value lines of the three, for `callwright run --secrets`. */
  secretsFile: string;
}

export interface LabUser {
  user: string;
  password: string;
}

export interface LabDevice {
  name: LabDeviceName;
  /** Call this URI through Kamailio (any transport) to reach the device. */
  uri: string;
  /** How Kamailio reaches the device. */
  transport: 'udp' | 'tcp';
  /** Where the device itself listens, for direct SIP (bypassing Kamailio). */
  address: string;
  /** The device's SIP message trace or log, to grep what it received. */
  trace: string;
}

export interface LabProcess {
  name: string;
  pid: number;
  log: string;
  /** The executable; labDown and labStatus only trust a pid whose command line names it. */
  program: string;
  pidFile: string;
}

export interface LabState {
  dir: string;
  ports: LabPorts;
  /** The SIP domain and digest realm; Kamailio treats it as itself (an alias). */
  domain: string;
  wsUrl: string;
  wssUrl: string;
  /** Test-lab credentials: lab.json holds them, logs never do. */
  users: LabUser[];
  /** Digest users with escaped user parts (see LabOptions.extraUsers); absent in a lab.json from before they existed. */
  extraUsers?: LabUser[];
  devices: LabDevice[];
  processes: LabProcess[];
  mtuFallback: boolean;
  /** The TURN relay, when the lab runs one. */
  turn?: LabTurn;
  /** The self-signed certificate behind wss, and its SPKI hash for Chromium's --ignore-certificate-errors-spki-list. */
  tls: { certificate: string; privateKey: string; spkiSha256Base64: string };
  startedAt: string;
}

export type LabStatus = LabState & { running: Record<string, boolean> };
