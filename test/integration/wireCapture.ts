import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

// A packet capture of SIP over WebSocket on the loopback, to hold the timings callwright
// reports against the times the same messages crossed the wire.
//
// Capture: dumpcap (Wireshark's capture engine; tshark itself captures through it) on `lo`,
// BPF `tcp port N`, into a pcapng file (nanosecond timestamps). dumpcap buffers the file: it is
// complete only once dumpcap has exited, so read it after stop().
//
// Reading: `tshark -r` with `-d tcp.port==N,http`: the WebSocket upgrade is HTTP, after which
// tshark dissects the frames as WebSocket and their payload as SIP (subprotocol "sip"). Without a
// captured handshake (a capture started after the connection) nothing is dissected as SIP.
// `-d tcp.port==N,websocket` does NOT work (0 SIP messages). JSON output keeps each SIP
// message apart: one TCP segment may carry several WebSocket frames (tshark then gives a list
// of `sip` layers, in order, possibly a request and a response of different calls), and one
// message may span several segments (tshark dissects it in the segment that completes it and
// lists the segments in `tcp.segments`). `-T fields` with `-E occurrence=a` gives each field's
// values of a frame in a list, but a frame with a request of one call and a response of another
// then cannot be told apart reliably: hence JSON.
//
// Start and end: "Capturing on" means dumpcap opened the interface; we also wait until it has
// counted a probe connection. At the end the kernel hands packets over in blocks, up to a few
// hundred ms late, and SIGINT drops what is not handed over yet (seen: the last 180/200 of a
// sequence missing): stop() sends a marker connection first, waits until it is counted and the
// count is still, and checks the marker is in the file.
//
// Clock: frame times are the kernel's capture timestamps (CLOCK_REALTIME, ns in pcapng), the
// same clock as Date.now() in Chromium on this machine, so absolute times compare directly.

export interface WireSipMessage {
  /** Frame in which tshark dissected the message (the segment that completed it). */
  frame: number;
  /** Epoch ms (fractional, µs resolution) of that frame: when the whole message had crossed the wire. */
  completedAtMs: number;
  /** Epoch ms of the first segment carrying bytes of the message: when the sender started writing it. Equals completedAtMs unless it was split. */
  startedAtMs: number;
  /** Number of TCP segments the message spanned (1 unless split). */
  segments: number;
  srcPort: number;
  dstPort: number;
  /** tshark's TCP stream index (one per WebSocket connection). */
  stream: number;
  callId: string;
  cseq: number;
  cseqMethod: string;
  /** Request method, for requests. */
  method?: string;
  /** Status code, for responses. */
  status?: number;
  /** The request or status line, as sent. */
  firstLine: string;
}

export interface WireCapture {
  pcapFile: string;
  port: number;
  pid: number;
  /** SIGINT to dumpcap, wait for it to flush and exit (bounded; SIGKILL to its process group after). */
  stop(): Promise<void>;
}

/** The first file of this name on PATH (tshark and dumpcap are in /usr/bin on Debian). */
export function findProgram(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Why a loopback capture cannot run here, or undefined when it can: tshark and dumpcap installed,
 * and permission to capture on `lo` (root or dumpcap's capabilities; checked by asking dumpcap for
 * the interface's link-layer types, which opens it).
 */
export function captureUnavailable(iface = 'lo'): string | undefined {
  const tshark = findProgram('tshark');
  const dumpcap = findProgram('dumpcap');
  if (!tshark || !dumpcap) return 'no tshark/dumpcap (apt-get install tshark, or scripts/setup.sh --lab)';
  const probe = spawnSync(dumpcap, ['-i', iface, '-L'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return `dumpcap cannot capture on ${iface}: ${(probe.stderr || probe.error?.message || '').trim().split('\n')[0]}`;
  return undefined;
}

/**
 * Starts dumpcap on `iface` for `tcp port <port>` into `<dir>/<name>.pcapng`, and resolves once it
 * captures: it printed "Capturing on", and a TCP connection made to the port (and closed at once;
 * Kamailio's WebSocket listener shrugs it off) was counted in its "Packets: N" progress.
 */
export async function startWireCapture(options: { port: number; dir: string; name?: string; iface?: string; readyTimeoutMs?: number }): Promise<WireCapture> {
  const dumpcap = findProgram('dumpcap');
  if (!dumpcap) throw new Error('dumpcap not found (apt-get install tshark)');
  const pcapFile = join(options.dir, `${options.name ?? `ws-${options.port}`}.pcapng`);
  const iface = options.iface ?? 'lo';
  // Its own process group, so a stuck capture can be ended with everything it started.
  const child = spawn(dumpcap, ['-i', iface, '-f', `tcp port ${options.port}`, '-w', pcapFile], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`dumpcap did not start: ${stderr}`);

  const counted = () => Math.max(0, ...[...stderr.matchAll(/Packets: (\d+)/g)].map((m) => Number(m[1])));
  const terminate = async (): Promise<void> => {
    if (hasExited) return;
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      return;
    }
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await exited;
    }
  };
  // The kernel hands captured packets to dumpcap in blocks (TPACKET_V3, up to ~250 ms late), and a
  // SIGINT drops what it has not been handed yet: the last messages of a run went missing that way.
  // So: a marker connection, wait until dumpcap has counted packets past it and the count is still,
  // stop, and check the marker is in the file (the kernel delivers in order: all before it are too).
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (hasExited) return;
      const before = counted();
      const marker = await probeConnection(options.port);
      const until = Date.now() + 3_000;
      let last = counted();
      let stillSince = Date.now();
      while (Date.now() < until && !hasExited) {
        await sleep(25);
        const now = counted();
        if (now !== last) {
          last = now;
          stillSince = Date.now();
        }
        if (now >= before + 2 && Date.now() - stillSince >= 300) break;
      }
      await terminate();
      if (marker !== undefined && !captured(pcapFile, `tcp.port==${marker}`)) {
        throw new Error(`capture ${pcapFile} may have lost its last packets: the end marker (a connection from port ${marker}) is not in it\ndumpcap stderr:\n${stderr}`);
      }
    })());

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  const fail = async (why: string): Promise<never> => {
    await terminate();
    throw new Error(`capture on ${iface} port ${options.port} not ready: ${why}\ndumpcap stderr:\n${stderr}`);
  };
  while (!stderr.includes('Capturing on')) {
    if (hasExited) return fail('dumpcap exited');
    if (Date.now() > deadline) return fail('no "Capturing on" from dumpcap');
    await sleep(20);
  }
  for (let attempt = 0; ; attempt++) {
    if (counted() > 0) break;
    if (hasExited) return fail('dumpcap exited');
    if (Date.now() > deadline) return fail(`a probe connection to port ${options.port} was not captured`);
    if (attempt % 25 === 0) await probeConnection(options.port);
    await sleep(20);
  }
  return { pcapFile, port: options.port, pid, stop };
}

/** Connects to the port and closes at once; resolves with the connection's local port (undefined if it never got one). */
function probeConnection(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = () => {
      const local = socket.localPort;
      socket.destroy();
      resolve(local);
    };
    socket.once('connect', done);
    socket.once('error', done);
    socket.setTimeout(1_000, done);
  });
}

/** Whether any frame of the capture matches a display filter. */
function captured(pcapFile: string, filter: string): boolean {
  const tshark = findProgram('tshark');
  if (!tshark) throw new Error('tshark not found (apt-get install tshark)');
  const result = spawnSync(tshark, ['-r', pcapFile, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', timeout: 60_000 });
  return result.status === 0 && result.stdout.trim() !== '';
}

/**
 * Every SIP message in a capture of SIP over WebSocket on `port`, in capture order (a frame's
 * messages in their order within it).
 */
export function readWireSip(pcapFile: string, port: number): WireSipMessage[] {
  const tshark = findProgram('tshark');
  if (!tshark) throw new Error('tshark not found (apt-get install tshark)');
  // The JSON of a long capture is megabytes: to a file, not through a pipe buffer.
  const jsonFile = `${pcapFile}.sip.json`;
  const out = openSync(jsonFile, 'w');
  let result;
  try {
    result = spawnSync(
      tshark,
      [
        '-r', pcapFile,
        '-d', `tcp.port==${port},http`,
        '-Y', 'sip',
        '-T', 'json',
        // Several `sip` layers in a frame become a list instead of repeated keys.
        '--no-duplicate-keys',
        // Only what is needed (and tcp.segments: which frames a split message spanned).
        '-J', 'frame tcp tcp.segments sip',
      ],
      { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', timeout: 120_000 },
    );
  } finally {
    closeSync(out);
  }
  if (result.status !== 0) throw new Error(`tshark -r ${pcapFile} failed (${result.status ?? result.signal}): ${result.stderr}`);
  const packets = JSON.parse(readFileSync(jsonFile, 'utf8') || '[]') as { _source: { layers: Record<string, unknown> } }[];
  rmSync(jsonFile, { force: true });
  const frameTimes = frameEpochs(tshark, pcapFile);
  const messages: WireSipMessage[] = [];
  for (const packet of packets) {
    const layers = packet._source.layers;
    const frame = one(layers['frame']) as Record<string, string>;
    const tcp = one(layers['tcp']) as Record<string, string>;
    const number = Number(frame['frame.number']);
    const completedAtMs = epochMs(frame['frame.time_epoch']!);
    // A segment completes at most one message that began in an earlier one: the first in it.
    const reassembled = many(layers['tcp.segments']).map((s) => many((s as Record<string, unknown>)['tcp.segment']).map(Number));
    const sips = many(layers['sip']) as Record<string, unknown>[];
    sips.forEach((sip, index) => {
      const spanned = index === 0 && reassembled[0] && reassembled[0].length > 0 ? reassembled[0] : [number];
      const firstFrame = Math.min(...spanned);
      const startedAtMs = frameTimes.get(firstFrame) ?? completedAtMs;
      messages.push({ frame: number, completedAtMs, startedAtMs, segments: spanned.length, srcPort: Number(tcp['tcp.srcport']), dstPort: Number(tcp['tcp.dstport']), stream: Number(tcp['tcp.stream']), ...sipFields(sip, number) });
    });
  }
  return messages;
}

/** frame.number -> epoch ms of every frame (to date the first segment of a split message). */
function frameEpochs(tshark: string, pcapFile: string): Map<number, number> {
  const result = spawnSync(tshark, ['-r', pcapFile, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`tshark -r ${pcapFile} (frame times) failed: ${result.stderr}`);
  const times = new Map<number, number>();
  for (const line of result.stdout.split('\n')) {
    const [number, epoch] = line.split('\t');
    if (number && epoch) times.set(Number(number), epochMs(epoch));
  }
  return times;
}

function sipFields(sip: Record<string, unknown>, frame: number): Pick<WireSipMessage, 'callId' | 'cseq' | 'cseqMethod' | 'method' | 'status' | 'firstLine'> {
  const requestLine = one(sip['sip.Request-Line']) as string | undefined;
  const statusLine = one(sip['sip.Status-Line']) as string | undefined;
  const firstLine = requestLine ?? statusLine;
  if (!firstLine) throw new Error(`frame ${frame}: a SIP message with neither request nor status line`);
  // Headers from the raw header block (compact forms too): the parsed tree may turn repeated headers into lists.
  const headerText = (one(sip['sip.msg_hdr']) as string | undefined) ?? '';
  const header = (long: string, compact: string) => new RegExp(`^(?:${long}|${compact})[ \\t]*:[ \\t]*(.*?)\\s*$`, 'im').exec(headerText)?.[1];
  const callId = header('Call-ID', 'i');
  const cseq = /^(\d+)\s+(\S+)/.exec(header('CSeq', 'CSeq') ?? '');
  if (!callId || !cseq) throw new Error(`frame ${frame}: no Call-ID or CSeq in "${firstLine}" (${headerText.slice(0, 200)})`);
  const request = requestLine ? /^(\S+)\s/.exec(requestLine)?.[1] : undefined;
  const status = statusLine ? Number(/^SIP\/2\.0\s+(\d{3})/.exec(statusLine)?.[1]) : undefined;
  return { callId, cseq: Number(cseq[1]), cseqMethod: cseq[2]!, firstLine, ...(request ? { method: request } : {}), ...(status ? { status } : {}) };
}

/** "1796525536.328197604" -> ms since the epoch, keeping µs (a double holds 1.8e12 ms with sub-µs steps). */
function epochMs(text: string): number {
  const [seconds, fraction = '0'] = text.split('.');
  return Number(seconds) * 1000 + Number(`0.${fraction}`) * 1000;
}

function many(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function one(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

export interface WireCallTimes {
  callId: string;
  /** The caller's TCP port (source of its first INVITE to the server). */
  callerPort: number;
  /** Caller's first INVITE (the one a digest challenge answers with 407), start of its first segment. */
  inviteAtMs: number;
  /** Status the server answered the first INVITE with (407 when digest challenges it). */
  firstInviteAnswer?: number;
  /** INVITEs the caller sent on this Call-ID before the 200 (2 with a digest challenge). */
  invites: number;
  /** First 18x to the caller (CSeq INVITE), when its last segment arrived. */
  first18xAtMs?: number;
  first18xStatus?: number;
  /** First 200 to an INVITE to the caller. */
  okAtMs?: number;
  pddS?: number;
  setupS?: number;
}

/**
 * The caller's timings of one Call-ID: through a proxy the callee's leg has the same Call-ID, so
 * the caller is the side whose connection sent the first INVITE to the server's port, and the
 * answers counted are those the server sent down that connection.
 */
export function wireCallTimes(messages: WireSipMessage[], serverPort: number, callId: string): WireCallTimes | undefined {
  const ofCall = messages.filter((m) => m.callId === callId);
  const invite = ofCall.find((m) => m.method === 'INVITE' && m.dstPort === serverPort);
  if (!invite) return undefined;
  const toCaller = ofCall.filter((m) => m.srcPort === serverPort && m.dstPort === invite.srcPort && m.stream === invite.stream && m.cseqMethod === 'INVITE' && m.status !== undefined);
  const firstAnswer = toCaller.find((m) => m.cseq === invite.cseq && m.status! >= 200);
  const ringing = toCaller.find((m) => m.status! >= 180 && m.status! <= 189);
  const ok = toCaller.find((m) => m.status === 200);
  const invites = ofCall.filter((m) => m.method === 'INVITE' && m.dstPort === serverPort && m.srcPort === invite.srcPort && (!ok || m.completedAtMs <= ok.completedAtMs)).length;
  const times: WireCallTimes = { callId, callerPort: invite.srcPort, inviteAtMs: invite.startedAtMs, invites };
  if (firstAnswer) times.firstInviteAnswer = firstAnswer.status!;
  if (ringing) {
    times.first18xAtMs = ringing.completedAtMs;
    times.first18xStatus = ringing.status!;
    times.pddS = (ringing.completedAtMs - invite.startedAtMs) / 1000;
  }
  if (ok) {
    times.okAtMs = ok.completedAtMs;
    times.setupS = (ok.completedAtMs - invite.startedAtMs) / 1000;
  }
  return times;
}

/** Nearest-rank percentile (p in 0..100) of values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
