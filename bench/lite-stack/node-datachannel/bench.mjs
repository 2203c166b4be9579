// node-datachannel loopback bench: LEGS peer connections (LEGS/2 pairs) in one process,
// each leg sends pre-made Opus-like RTP (PT 111, 80-byte payload) every 20 ms over DTLS-SRTP,
// and counts RTP received from its far end.  Usage: node bench.mjs <legs> [windowSec] [--rtcp]
import ndc from 'node-datachannel';
import fs from 'node:fs';
const { PeerConnection, Audio, RtcpReceivingSession, RtcpSrReporter, RtpPacketizationConfig } = ndc;

const LEGS = +(process.argv[2] || 10);
const WINDOW = +(process.argv[3] || 20);
const RTCP = process.argv.includes('--rtcp');
const PAIRS = LEGS / 2;
const PAYLOAD = Buffer.alloc(80, 0x5a); PAYLOAD[0] = 0x78; // TOC byte like a 20 ms Opus frame
const cfg = { iceServers: [], bindAddress: '127.0.0.1', portRangeBegin: 20000, portRangeEnd: 40000 };

function waitGather(pc) {
  return new Promise((res) => {
    if (pc.gatheringState() === 'complete') return res();
    pc.onGatheringStateChange((s) => { if (s === 'complete') res(); });
  });
}

const legs = [];
function mkLeg(name) {
  const leg = { name, rx: 0, rxRtcp: 0, tx: 0, seq: Math.floor(Math.random() * 65535), ts: 0, ssrc: (Math.random() * 2 ** 32) >>> 0, track: null };
  leg.hdr = Buffer.alloc(12 + PAYLOAD.length); PAYLOAD.copy(leg.hdr, 12);
  leg.hdr[0] = 0x80; leg.hdr[1] = 111; leg.hdr.writeUInt32BE(leg.ssrc, 8);
  legs.push(leg);
  return leg;
}
function attach(leg, track) {
  leg.track = track;
  if (RTCP) {
    const rr = new RtcpReceivingSession();
    const conf = new RtpPacketizationConfig(leg.ssrc, 'a' + leg.ssrc, 111, 48000);
    const sr = new RtcpSrReporter(conf);
    sr.addToChain(rr);
    track.setMediaHandler(sr);
    leg.sr = sr; leg.conf = conf;
  }
  track.onMessage((m) => {
    const pt = m[1] & 0x7f;
    if (pt >= 72 && pt <= 79) leg.rxRtcp++; else if (pt === 111) leg.rx++;
  });
}

async function mkPair(i) {
  const a = new PeerConnection('a' + i, cfg);
  const b = new PeerConnection('b' + i, cfg);
  const la = mkLeg('a' + i), lb = mkLeg('b' + i);
  la.pc = a; lb.pc = b;
  const audio = new Audio('0', 'SendRecv');
  audio.addOpusCodec(111);
  audio.addSSRC(la.ssrc, 'cname' + i, 'stream' + i, 'track' + i);
  const ta = a.addTrack(audio);
  attach(la, ta);
  const bOpen = new Promise((res) => b.onTrack((t) => { attach(lb, t); t.onOpen(res); if (t.isOpen()) res(); }));
  const aOpen = new Promise((res) => { ta.onOpen(res); });
  a.setLocalDescription();
  await waitGather(a);
  const offer = a.localDescription();
  if (i === 0) fs.writeFileSync('offer.sdp', offer.sdp);
  b.setRemoteDescription(offer.sdp, 'offer');
  await waitGather(b);
  const answer = b.localDescription();
  if (i === 0) fs.writeFileSync('answer.sdp', answer.sdp);
  a.setRemoteDescription(answer.sdp, 'answer');
  await Promise.all([aOpen, bOpen]);
}

const t0 = performance.now();
await Promise.all(Array.from({ length: PAIRS }, (_, i) => mkPair(i)));
const tConnect = performance.now() - t0;

// send loop: one drift-corrected 20 ms tick sends one packet per leg
const late = [];
let running = true, next = performance.now() + 20;
function tick() {
  if (!running) return;
  const now = performance.now();
  late.push(now - next);
  for (const l of legs) {
    l.seq = (l.seq + 1) & 0xffff; l.ts = (l.ts + 960) >>> 0;
    l.hdr.writeUInt16BE(l.seq, 2); l.hdr.writeUInt32BE(l.ts, 4);
    if (l.track.sendMessageBinary(l.hdr)) l.tx++;
  }
  next += 20;
  setTimeout(tick, Math.max(0, next - performance.now()));
}
// warm-up 1 s, then measure WINDOW s
setTimeout(tick, 20);
await new Promise((r) => setTimeout(r, 1000));
const c0 = process.cpuUsage(), w0 = performance.now(), elu0 = performance.eventLoopUtilization();
const base = legs.map((l) => [l.tx, l.rx, l.rxRtcp]);
late.length = 0;
let rssMax = 0;
const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage().rss); }, 500);
await new Promise((r) => setTimeout(r, WINDOW * 1000));
const c1 = process.cpuUsage(c0), wall = performance.now() - w0, elu = performance.eventLoopUtilization(elu0).utilization;
const sentW = legs.reduce((s, l, i) => s + l.tx - base[i][0], 0);
running = false;
clearInterval(rssTimer);
await new Promise((r) => setTimeout(r, 300)); // let in-flight packets land
// each leg's sends land at its peer: compare total sent (in window) with total received (window + drain)
const recvW = legs.reduce((s, l, i) => s + l.rx - base[i][1], 0);
const rtcpW = legs.reduce((s, l, i) => s + l.rxRtcp - base[i][2], 0);
late.sort((x, y) => x - y);
const cores = (c1.user + c1.system) / 1000 / wall;
const res = {
  stack: 'node-datachannel ' + ndc.getLibraryVersion(), legs: LEGS, pairs: PAIRS, rtcpHandlers: RTCP,
  connectAllMs: Math.round(tConnect), windowS: +(wall / 1000).toFixed(1),
  cores: +cores.toFixed(3), jsLoopUtil: +elu.toFixed(3), coresPerLeg: +(cores / LEGS).toFixed(4),
  rssMB: +(rssMax / 2 ** 20).toFixed(1), rssPerLegMB: +(rssMax / 2 ** 20 / LEGS).toFixed(2),
  sent: sentW, received: recvW, rtcpPkts: rtcpW,
  // loss over the whole run (every packet ever sent vs received after a 300 ms drain), so no window-edge artefact
  totalSent: legs.reduce((s, l) => s + l.tx, 0), totalRecv: legs.reduce((s, l) => s + l.rx, 0),
  lossPct: +(100 * (1 - legs.reduce((s, l) => s + l.rx, 0) / legs.reduce((s, l) => s + l.tx, 0))).toFixed(3),
  legsWithLoss: legs.filter((l, i) => legs[i ^ 1].tx !== l.rx).length,
  tickLateP50ms: +late[Math.floor(late.length * 0.5)].toFixed(2), tickLateP95ms: +late[Math.floor(late.length * 0.95)].toFixed(2),
  tickLateMaxms: +late[late.length - 1].toFixed(2),
  rttSample: legs[0].pc.rtt(),
  selectedPair: JSON.stringify(legs[0].pc.getSelectedCandidatePair()),
};
console.log(JSON.stringify(res));
fs.appendFileSync('results.jsonl', JSON.stringify(res) + '\n');
for (const l of legs) l.pc.close();
ndc.cleanup();
process.exit(0);
