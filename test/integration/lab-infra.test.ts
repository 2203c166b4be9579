import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  digestAuthorization,
  labDown,
  labStatus,
  labUp,
  parseDigestChallenge,
  runSippUac,
  sippUacCallScenario,
  type LabPorts,
  type LabState,
} from '../../src/lab/index.js';
import { canBind } from '../../src/lab/ports.js';
import { processGroupMembers } from '../../src/lab/processes.js';
import { labMissing, named, requirePrerequisites, skipped } from './prerequisites.js';
import { waitForText } from './testLab.js';

// Real Kamailio, rtpengine, SIPp and baresip on 127.0.0.1, no mocks. Ports differ from the
// lab defaults (and stay below the kernel's ephemeral range) so a developer's lab can keep running.
const portsMtuOn: LabPorts = {
  sipUdpTcp: 15060, ws: 15080, wss: 15443, rtpengineNg: 15222, rtpMin: 15300, rtpMax: 15399,
  sippEcho: 15070, sippEchoRtp: 15600, baresip: 15090, baresipRtpMin: 15700, baresipRtpMax: 15799,
};
const portsMtuOff: LabPorts = {
  sipUdpTcp: 16060, ws: 16080, wss: 16443, rtpengineNg: 16222, rtpMin: 16300, rtpMax: 16399,
  sippEcho: 16070, sippEchoRtp: 16600, baresip: 16090, baresipRtpMin: 16700, baresipRtpMax: 16799,
};

// Needs Kamailio, rtpengine, SIPp and baresip. Outside CI a missing one skips with the reason in
// the name; in CI (env CI set) every test FAILS with it.
const missing = labMissing(['sipp-echo', 'baresip']);

/** A SIP INVITE over 1300 bytes (about 2.5 KB): RFC 3261 18.1.1 says it must not go over UDP. */
const largeInviteScenario = sippUacCallScenario({ sdpPaddingBytes: 1900, callDurationMs: 200 });

describe.skipIf(skipped(missing))(named('lab infrastructure: real Kamailio, rtpengine, SIPp, baresip', missing), () => {
  beforeEach(() => requirePrerequisites(missing));

  describe('lab with mtuFallback on and both devices', () => {
    let dir: string;
    let state: LabState;
    let upMs = 0;

    beforeAll(async () => {
      if (missing !== undefined) return; // in CI: each test fails with the reason
      dir = mkdtempSync(path.join(tmpdir(), 'callwright-lab-'));
      const started = Date.now();
      state = await labUp({ dir, ports: portsMtuOn, mtuFallback: true });
      upMs = Date.now() - started;
    }, 60_000);
    afterAll(async () => {
      if (dir === undefined) return;
      await labDown(dir); // no-op when the last test already stopped it
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('comes up with every component answering, and says where everything is', async () => {
      const status = await labStatus(dir);
      expect(status?.running).toEqual({ rtpengine: true, 'sipp-echo': true, baresip: true, kamailio: true });
      expect(state.wsUrl).toBe('ws://127.0.0.1:15080');
      expect(state.wssUrl).toBe('wss://127.0.0.1:15443');
      expect(state.users).toHaveLength(20);
      expect(state.users[0]).toEqual({ user: '1000', password: 'secret1000' });
      expect(state.devices.map((d) => d.uri)).toEqual(['sip:echo@callwright.lab', 'sip:baresip@callwright.lab']);
      const kamailioConfig = readFileSync(path.join(dir, 'kamailio.cfg'), 'utf8');
      expect(kamailioConfig).toMatch(/^udp_mtu=1300$/m);
      expect(kamailioConfig).not.toMatch(/^alias=.*127\.0\.0\.1/m);
      console.info(`lab up in ${upMs} ms`);
    });

    it('(1) a WebSocket client registers a lab user with digest auth: 401, then 200 (ws and wss)', async () => {
      for (const [url, user] of [[state.wsUrl, state.users[0]!], [state.wssUrl, state.users[1]!]] as const) {
        const client = await WsSipClient.open(url);
        try {
          const { statuses } = await client.register(user.user, user.password, state.domain);
          expect(statuses).toEqual([401, 200]);
        } finally {
          client.close();
        }
      }
      // A wrong password gets challenged again, never 200.
      const client = await WsSipClient.open(state.wsUrl);
      try {
        const { statuses } = await client.register('1003', 'wrong', state.domain);
        expect(statuses).toEqual([401, 401]);
      } finally {
        client.close();
      }
    }, 20_000);

    it('(1b) a WebSocket INVITE is digest-challenged (407), then reaches the echo device as plain RTP and is answered as WebRTC', async () => {
      const user = state.users[4]!;
      const client = await WsSipClient.open(state.wsUrl);
      try {
        const call = await client.inviteWithAuth(`sip:echo@${state.domain}`, user.user, user.password, state.domain, fakeWebrtcOffer());
        expect(call.challengeStatus).toBe(407);
        expect(call.final.status).toBe(200);
        // rtpengine turned the echo device's plain answer into a WebRTC one for the browser side.
        expect(call.final.body).toContain('UDP/TLS/RTP/SAVPF');
        expect(call.final.body).toMatch(/a=fingerprint:sha-256 /);
        expect(call.final.body).toMatch(/a=ice-ufrag:/);
        // rtpengine picks active or passive against an actpass offer, depending on its version.
        expect(call.final.body).toMatch(/a=setup:(active|passive)/);
        expect(call.final.body).toMatch(/a=rtcp-mux/);
        await client.ackAndBye(call);
        // ...and the device got a plain RTP/AVP offer without ICE or DTLS.
        const echoTrace = await waitForText(state.devices[0]!.trace, call.callId);
        const offerAtDevice = sipMessageAround(echoTrace, call.callId, 'INVITE sip:');
        expect(offerAtDevice).toMatch(/m=audio \d+ RTP\/AVP /);
        expect(offerAtDevice).not.toContain('a=ice-ufrag');
        expect(offerAtDevice).not.toContain('a=fingerprint');
      } finally {
        client.close();
      }
    }, 20_000);

    it('(1c) SIPp calls a WebSocket-registered user: lookup, rtpengine turns the plain offer into WebRTC and the answer back, BYE reaches the WebSocket', async () => {
      const user = state.users[2]!;
      const client = await WsSipClient.open(state.wsUrl);
      try {
        expect((await client.register(user.user, user.password, state.domain)).statuses).toEqual([401, 200]);
        const incoming = client.next((m) => m.startLine.startsWith('INVITE '), 10_000);
        const uac = runSippUac(state, { target: user.user, scenarioXml: sippUacCallScenario(), timeoutSeconds: 10 });
        const invite = await incoming;
        expect(invite.startLine).toContain(';transport=ws');
        expect(invite.body).toContain('UDP/TLS/RTP/SAVPF');
        expect(invite.body).toMatch(/a=ice-ufrag:/);
        expect(invite.body).toMatch(/a=fingerprint:sha-256 /);
        client.reply(invite, 200, 'OK', fakeWebrtcOffer().replace('a=setup:actpass', 'a=setup:active'));
        const bye = await client.next((m) => m.startLine.startsWith('BYE '), 10_000);
        client.reply(bye, 200, 'OK');
        const result = await uac;
        expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
        expect(result).toMatchObject({ successful: 1, failed: 0 });
        // The SIPp side got the browser's answer as plain RTP on an rtpengine port.
        const answer = sipMessageAround(readFileSync(result.messageTrace, 'utf8'), firstCallId(readFileSync(result.messageTrace, 'utf8')), 'SIP/2.0 200 OK');
        const port = Number(/m=audio (\d+) RTP\/AVP /.exec(answer)?.[1]);
        expect(port).toBeGreaterThanOrEqual(state.ports.rtpMin);
        expect(port).toBeLessThanOrEqual(state.ports.rtpMax);
        expect(answer).not.toContain('a=fingerprint');
      } finally {
        client.close();
      }
    }, 20_000);

    it('(2) SIPp over UDP calls the echo device through Kamailio; rtpengine anchors the plain RTP and the device echoes it', async () => {
      const result = await runSippUac(state, {
        target: 'echo',
        // The DTMF events are RTP packets: they give the echo something to send back.
        scenarioXml: sippUacCallScenario({ dtmfDigits: '1', callDurationMs: 1000 }),
        timeoutSeconds: 15,
      });
      expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
      expect(result).toMatchObject({ successful: 1, failed: 0 });
      const trace = readFileSync(result.messageTrace, 'utf8');
      const answerPort = Number(/SIP\/2\.0 200 OK[\s\S]*?m=audio (\d+) RTP\/AVP/.exec(trace)?.[1]);
      expect(answerPort).toBeGreaterThanOrEqual(state.ports.rtpMin);
      expect(answerPort).toBeLessThanOrEqual(state.ports.rtpMax);
      // rtpengine logs per-peer packet counts when the call ends: the echo device sent packets back.
      const rtpengineLog = await waitForText(path.join(dir, 'rtpengine.log'), `127.0.0.1:${state.ports.sippEchoRtp}, SSRC`);
      const echoed = [...rtpengineLog.matchAll(new RegExp(`<> +127\\.0\\.0\\.1:${state.ports.sippEchoRtp}, SSRC \\w+, (\\d+) p`, 'g'))];
      expect(Math.max(...echoed.map((m) => Number(m[1])))).toBeGreaterThan(0);
    }, 30_000);

    it('(2b) the echo device answers 488 to an offer with neither PCMU nor PCMA', async () => {
      const result = await runSippUac(state, {
        target: 'echo',
        scenarioXml: sippUacCallScenario({ codecs: [{ payloadType: 9, rtpmap: 'G722/8000' }] }),
        timeoutSeconds: 10,
      });
      expect(result.failed).toBe(1);
      expect(readFileSync(result.messageTrace, 'utf8')).toContain('SIP/2.0 488 Not Acceptable Here');
    }, 20_000);

    it('(2c) the echo device mirrors hold (sendonly -> recvonly), resumes to sendrecv and answers INFO', async () => {
      const result = await runSippUac(state, { target: 'echo', scenarioXml: holdResumeInfoScenario(), timeoutSeconds: 15 });
      expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
      const answers = readFileSync(result.messageTrace, 'utf8')
        .split(/^-{20,}.*$/m)
        .filter((m) => /^SIP\/2\.0 200 OK/m.test(m) && /^CSeq: \d+ INVITE/m.test(m))
        .map((m) => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(m)?.[1]);
      expect(answers).toEqual(['sendrecv', 'recvonly', 'sendrecv']);
      expect(readFileSync(result.messageTrace, 'utf8')).toMatch(/SIP\/2\.0 200 OK[\s\S]*?CSeq: 4 INFO/);
    }, 30_000);

    it('(3) baresip answers a call through Kamailio and logs the RFC 4733 digits it receives', async () => {
      const result = await runSippUac(state, {
        target: 'baresip',
        scenarioXml: sippUacCallScenario({ dtmfDigits: '47#', callDurationMs: 2500 }),
        timeoutSeconds: 15,
      });
      expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
      expect(result).toMatchObject({ successful: 1, failed: 0 });
      const log = await waitForText(path.join(dir, 'baresip.log'), "received event: '#'");
      expect(log).toContain("received event: '4'");
      expect(log).toContain("received event: '7'");
    }, 30_000);

    it('(4) mtuFallback on: a 2.5 KB INVITE towards the UDP-only echo device makes Kamailio try TCP; refused, it answers 477', async () => {
      const result = await runSippUac(state, { target: 'echo', scenarioXml: largeInviteScenario, timeoutSeconds: 10, transport: 't1' });
      const trace = readFileSync(result.messageTrace, 'utf8');
      expect(result.failed).toBe(1);
      expect(trace).toContain('SIP/2.0 477');
      const kamailioLog = readFileSync(path.join(dir, 'kamailio.log'), 'utf8');
      const callId = firstCallId(trace);
      const sends = kamailioLog.split('\n').filter((line) => line.includes(callId) && line.includes(`send INVITE to 127.0.0.1:${state.ports.sippEcho}`));
      expect(sends.join('\n')).toMatch(/proto=tcp len=(\d{4})/);
      expect(Number(/len=(\d+)/.exec(sends[0]!)?.[1])).toBeGreaterThan(1300);
      expect(readFileSync(state.devices[0]!.trace, 'utf8')).not.toContain(callId);
    }, 20_000);

    it('(4c) the passwords are in lab.json and the users file (mode 0600), and in no log, trace or other config', () => {
      // After every test above: digest REGISTERs and INVITEs, a wrong password, calls to both devices.
      const passwords = [...state.users, ...(state.extraUsers ?? [])].map((u) => u.password);
      expect(passwords.length).toBeGreaterThan(20);
      const usersFile = path.join(dir, 'kamailio-users.cfg');
      expect(statSync(usersFile).mode & 0o777).toBe(0o600);
      expect(passwords.filter((password) => !readFileSync(usersFile, 'utf8').includes(`"${password}"`))).toEqual([]);
      expect(passwords.filter((password) => !readFileSync(path.join(dir, 'lab.json'), 'utf8').includes(`"${password}"`))).toEqual([]);
      const leaks = filesUnder(dir)
        .filter((file) => file !== usersFile && file !== path.join(dir, 'lab.json'))
        .flatMap((file) => {
          const text = readFileSync(file, 'latin1');
          return passwords.filter((password) => text.includes(password)).map((password) => `${path.relative(dir, file)}: ${password}`);
        });
      expect(filesUnder(dir).map((file) => path.relative(dir, file))).toEqual(expect.arrayContaining(['kamailio.log', 'rtpengine.log', 'baresip.log', 'sipp-echo-messages.log']));
      expect(leaks).toEqual([]);
    });

    it('(5) labDown stops every process it started, children included, and frees the ports', async () => {
      const before = state.processes.map((p) => ({ ...p }));
      const { stopped } = await labDown(dir);
      expect(stopped.sort()).toEqual(['baresip', 'kamailio', 'rtpengine', 'sipp-echo']);
      for (const proc of before) {
        expect(existsSync(`/proc/${proc.pid}`) && !readFileSync(`/proc/${proc.pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
        expect(processGroupMembers(proc.pid)).toEqual([]);
        expect(existsSync(proc.pidFile)).toBe(false);
      }
      expect(await canBind(state.ports.sipUdpTcp, 'udp')).toBe(true);
      expect(await canBind(state.ports.ws, 'tcp')).toBe(true);
      expect(await labStatus(dir)).toBeUndefined();
    }, 30_000);
  });

  describe('lab with mtuFallback off and only the echo device', () => {
    let dir: string;
    let state: LabState;

    beforeAll(async () => {
      if (missing !== undefined) return; // in CI: each test fails with the reason
      dir = mkdtempSync(path.join(tmpdir(), 'callwright-lab-'));
      state = await labUp({ dir, ports: portsMtuOff, mtuFallback: false, devices: ['sipp-echo'] });
    }, 60_000);
    afterAll(async () => {
      if (dir === undefined) return;
      await labDown(dir);
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('(4b) mtuFallback off: the same 2.5 KB INVITE goes out over UDP and reaches the echo device, which answers', async () => {
      expect(state.processes.map((p) => p.name)).toEqual(['rtpengine', 'sipp-echo', 'kamailio']);
      const result = await runSippUac(state, { target: 'echo', scenarioXml: largeInviteScenario, timeoutSeconds: 10, transport: 't1' });
      expect(result.exitCode, result.stdout.slice(-2000)).toBe(0);
      const callId = firstCallId(readFileSync(result.messageTrace, 'utf8'));
      const kamailioLog = readFileSync(path.join(dir, 'kamailio.log'), 'utf8');
      const send = kamailioLog.split('\n').find((line) => line.includes(callId) && line.includes(`send INVITE to 127.0.0.1:${state.ports.sippEcho}`));
      expect(send).toMatch(/proto=udp len=\d{4}/);
      const echoTrace = await waitForText(state.devices[0]!.trace, callId);
      const received = sipMessageAround(echoTrace, callId, 'INVITE sip:');
      expect(received).toContain('a=x-callwright-padding:');
      expect(Buffer.byteLength(received)).toBeGreaterThan(1300);
      expect(echoTrace).toMatch(/UDP message received \[\d{4}\] bytes/);
    }, 20_000);

    it('(5b) labDown stops it', async () => {
      const pids = state.processes.map((p) => p.pid);
      expect((await labDown(dir)).stopped.sort()).toEqual(['kamailio', 'rtpengine', 'sipp-echo']);
      for (const pid of pids) expect(processGroupMembers(pid)).toEqual([]);
    }, 30_000);
  });
});

// ---------------------------------------------------------------- helpers

/** INVITE, then re-INVITEs on hold (sendonly) and resume (sendrecv), an INFO, BYE: SIPp as a softphone would. */
function holdResumeInfoScenario(): string {
  const sdp = (direction: string, version: number) => `v=0
      o=callwright 1 ${version} IN IP4 [media_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 96
      a=rtpmap:0 PCMU/8000
      a=rtpmap:96 telephone-event/8000
      a=${direction}`;
  const request = (method: string, cseq: number, body = '') => `  <send retrans="500">
    <![CDATA[
      ${method} ${cseq === 1 ? 'sip:[service]@[domain]' : '[next_url]'} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${cseq === 1 ? '' : '[routes]'}
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]hold[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      ${body ? 'Content-Type: application/sdp' : method === 'INFO' ? 'Content-Type: application/dtmf-relay' : ''}
      Content-Length: [len]

      ${body || (method === 'INFO' ? 'Signal=5\n      Duration=160' : '')}
    ]]>
  </send>`.replace(/\n      \n/g, '\n');
  const ack = (cseq: number) => `  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]hold[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
  const invite = (cseq: number, direction: string) => `${request('INVITE', cseq, sdp(direction, cseq))}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"${cseq === 1 ? ' rrs="true"' : ''}/>
${ack(cseq)}`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hold, resume, info">
${invite(1, 'sendrecv')}
${invite(2, 'sendonly')}
${invite(3, 'sendrecv')}
${request('INFO', 4)}
  <recv response="200"/>
${request('BYE', 5)}
  <recv response="200"/>
</scenario>
`;
}

/** Every regular file under dir, recursively (not Kamailio's control socket). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    const stat = statSync(file);
    return stat.isDirectory() ? filesUnder(file) : stat.isFile() ? [file] : [];
  });
}

function firstCallId(trace: string): string {
  const callId = /^Call-ID: *(\S+)/m.exec(trace)?.[1];
  if (!callId) throw new Error('no Call-ID in the trace');
  return callId;
}

/** The traced SIP message that holds callId and starts with startLinePrefix (SIPp separates messages with dashed lines). */
function sipMessageAround(trace: string, callId: string, startLinePrefix: string): string {
  const messages = trace.split(/^-{20,}.*$/m);
  const found = messages.find((m) => m.includes(callId) && m.includes(startLinePrefix));
  if (!found) throw new Error(`no ${startLinePrefix} with ${callId} in the trace`);
  return found.slice(found.indexOf(startLinePrefix));
}


function fakeWebrtcOffer(): string {
  // What Chrome offers, trimmed: the lab only looks at the protocol, ICE and DTLS attributes.
  const fingerprint = Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=msid-semantic: WMS',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2122260223 127.0.0.1 45999 typ host generation 0',
    'a=ice-ufrag:cwTe',
    'a=ice-pwd:callwrightlabtestpassword',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:126 telephone-event/8000',
    '',
  ].join('\r\n');
}

interface SipMessage {
  startLine: string;
  status: number;
  headers: [string, string][];
  body: string;
}

function parseSip(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  const status = startLine.startsWith('SIP/2.0 ') ? Number(startLine.split(' ')[1]) : 0;
  return { startLine, status, headers, body: split >= 0 ? raw.slice(split + 4) : '' };
}

function header(message: SipMessage, name: string): string {
  return message.headers.find(([n]) => n === name.toLowerCase())?.[1] ?? '';
}

function headerValues(message: SipMessage, name: string): string[] {
  return message.headers.filter(([n]) => n === name.toLowerCase()).flatMap(([, v]) => v.split(/,(?=\s*<)/).map((s) => s.trim()));
}

interface EstablishedCall {
  challengeStatus: number;
  final: SipMessage;
  callId: string;
  cseq: number;
  from: string;
  to: string;
  requestUri: string;
  routes: string[];
}

/** Just enough of a SIP-over-WebSocket user agent (RFC 7118) to prove the lab; a browser does the rest later. */
class WsSipClient {
  private readonly inbox: SipMessage[] = [];
  private readonly waiters: { match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  private readonly instance = randomBytes(4).toString('hex');

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = parseSip(data.toString());
      const waiter = this.waiters.findIndex((w) => w.match(message));
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(message);
      else this.inbox.push(message);
    });
  }

  static open(url: string): Promise<WsSipClient> {
    // The lab's wss certificate is self-signed.
    const socket = new WebSocket(url, 'sip', { rejectUnauthorized: false });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsSipClient(socket)));
      socket.once('error', reject);
    });
  }

  next(match: (m: SipMessage) => boolean, timeoutMs = 5000): Promise<SipMessage> {
    const queued = this.inbox.findIndex(match);
    if (queued >= 0) return Promise.resolve(this.inbox.splice(queued, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: SipMessage) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching SIP message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  send(lines: string[], body = ''): void {
    this.socket.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  }

  close(): void {
    this.socket.close();
  }

  private via(): string {
    return `Via: SIP/2.0/WS ${this.instance}.invalid;branch=z9hG4bK${randomBytes(6).toString('hex')}`;
  }

  private finalResponse(callId: string, cseq: number): Promise<SipMessage> {
    return this.next((m) => m.status >= 200 && header(m, 'call-id') === callId && header(m, 'cseq').startsWith(`${cseq} `));
  }

  async register(user: string, password: string, domain: string): Promise<{ statuses: number[] }> {
    const callId = `reg-${randomBytes(6).toString('hex')}`;
    const requestUri = `sip:${domain}`;
    const lines = (cseq: number) => [
      `REGISTER ${requestUri} SIP/2.0`,
      this.via(),
      'Max-Forwards: 70',
      `From: <sip:${user}@${domain}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${user}@${domain}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      // What SIP.js 0.21 sends: outbound-style reg-id and instance id, which Kamailio must accept without Path.
      `Contact: <sip:${this.instance}@${this.instance}.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-${this.instance.padStart(12, '0')}>";expires=300`,
      'Supported: path, gruu, outbound',
    ];
    this.send(lines(1));
    const challenge = await this.finalResponse(callId, 1);
    const statuses = [challenge.status];
    if (challenge.status === 401) {
      const authorization = digestAuthorization(parseDigestChallenge(header(challenge, 'www-authenticate')), {
        username: user, password, method: 'REGISTER', uri: requestUri,
      });
      this.send([...lines(2), `Authorization: ${authorization}`]);
      statuses.push((await this.finalResponse(callId, 2)).status);
    }
    return { statuses };
  }

  /** INVITE, 407, ACK, INVITE with credentials, wait for the final answer. */
  async inviteWithAuth(requestUri: string, user: string, password: string, domain: string, sdp: string): Promise<EstablishedCall> {
    const callId = `inv-${randomBytes(6).toString('hex')}`;
    const from = `<sip:${user}@${domain}>;tag=${randomBytes(4).toString('hex')}`;
    const to = `<${requestUri}>`;
    const invite = (cseq: number, via: string, extra: string[]) => [
      `INVITE ${requestUri} SIP/2.0`, via, 'Max-Forwards: 70', `From: ${from}`, `To: ${to}`,
      `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`, `Contact: <sip:${this.instance}@${this.instance}.invalid;transport=ws>`,
      'Content-Type: application/sdp', ...extra,
    ];
    const firstVia = this.via();
    this.send(invite(1, firstVia, []), sdp);
    const challenge = await this.finalResponse(callId, 1);
    // ACK for a non-2xx answer: same branch, the To tag of the answer.
    this.send([`ACK ${requestUri} SIP/2.0`, firstVia, 'Max-Forwards: 70', `From: ${from}`, `To: ${header(challenge, 'to')}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK']);
    const authorization = digestAuthorization(parseDigestChallenge(header(challenge, 'proxy-authenticate')), {
      username: user, password, method: 'INVITE', uri: requestUri,
    });
    this.send(invite(2, this.via(), [`Proxy-Authorization: ${authorization}`]), sdp);
    const final = await this.finalResponse(callId, 2);
    return {
      challengeStatus: challenge.status,
      final,
      callId,
      cseq: 2,
      from,
      to: header(final, 'to'),
      requestUri: /<([^>]+)>/.exec(header(final, 'contact'))?.[1] ?? requestUri,
      routes: headerValues(final, 'record-route').reverse(),
    };
  }

  async ackAndBye(call: EstablishedCall): Promise<void> {
    const inDialog = (method: string, cseq: number) => [
      `${method} ${call.requestUri} SIP/2.0`, this.via(), 'Max-Forwards: 70', ...call.routes.map((r) => `Route: ${r}`),
      `From: ${call.from}`, `To: ${call.to}`, `Call-ID: ${call.callId}`, `CSeq: ${cseq} ${method}`,
    ];
    this.send(inDialog('ACK', call.cseq));
    this.send(inDialog('BYE', call.cseq + 1));
    const byeAnswer = await this.finalResponse(call.callId, call.cseq + 1);
    if (byeAnswer.status !== 200) throw new Error(`BYE answered ${byeAnswer.startLine}`);
  }

  /** Answers a request that came down the WebSocket; an SDP body makes it a 2xx with our Contact. */
  reply(request: SipMessage, status: number, reason: string, sdp = ''): void {
    const copied = request.headers.filter(([n]) => ['via', 'record-route', 'from', 'call-id', 'cseq'].includes(n));
    const names: Record<string, string> = { via: 'Via', 'record-route': 'Record-Route', from: 'From', 'call-id': 'Call-ID', cseq: 'CSeq' };
    const to = header(request, 'to');
    this.send(
      [
        `SIP/2.0 ${status} ${reason}`,
        ...copied.map(([n, v]) => `${names[n]}: ${v}`),
        `To: ${to}${to.includes(';tag=') ? '' : `;tag=${randomBytes(4).toString('hex')}`}`,
        ...(sdp ? [`Contact: <sip:${this.instance}@${this.instance}.invalid;transport=ws>`, 'Content-Type: application/sdp'] : []),
      ],
      sdp,
    );
  }
}
