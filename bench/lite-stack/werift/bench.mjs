// werift loopback bench: LEGS peer connections (LEGS/2 pairs) in one process,
// each leg sends pre-made Opus-like RTP (PT 111, 80-byte payload) every 20 ms over DTLS-SRTP,
// and counts RTP received from its far end.  Usage: node bench.mjs <legs> [windowSec]
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(import.meta.url);
const werift = require('werift'); // CJS build, so the patch below hits the same module instance
const { Connection } = require('./node_modules/werift/lib/ice/src/ice.js');
const { RTCPeerConnection, RTCRtpCodecParameters } = werift;

// werift falls back to stun.l.google.com:19302 when no STUN server is configured: disable it,
// no packet may leave the loopback.
const origGather = Connection.prototype.getCandidatePromises;
Connection.prototype.getCandidatePromises = function (...a) { this.stunServer = undefined; return origGather.apply(this, a); };

const LEGS = +(process.argv[2] || 10);
const WINDOW = +(process.argv[3] || 20);
const PAIRS = LEGS / 2;
const PAYLOAD = Buffer.alloc(80, 0x5a); PAYLOAD[0] = 0x78;
const cfg = () => ({
  iceServers: [],
  iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'],
  codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })], video: [] },
});

const legs = [];
function mkLeg(name, pc) {
  const leg = { name, pc, rx: 0, rxRtcp: 0, tx: 0, seq: Math.floor(Math.random() * 65535), ts: 0, tr: null };
  leg.pkt = Buffer.alloc(12 + PAYLOAD.length); PAYLOAD.copy(leg.pkt, 12);
  leg.pkt[0] = 0x80; leg.pkt[1] = 111;
  legs.push(leg);
  return leg;
}
function attach(leg, tr) {
  leg.tr = tr;
  const sub = (track) => { if (!track._counted) { track._counted = true; track.onReceiveRtp.subscribe(() => { leg.rx++; }); } };
  tr.onTrack.subscribe(sub);
  if (tr.receiver.track) sub(tr.receiver.track); // the answerer's track already exists after setRemoteDescription
  for (const t of tr.receiver.tracks ?? []) sub(t);
  tr.receiver.onRtcp.subscribe(() => { leg.rxRtcp++; });
  tr.sender.onRtcp.subscribe(() => { leg.rxRtcp++; });
}
const gathered = (pc) => pc.iceGatheringState === 'complete' ? Promise.resolve() :
  new Promise((r) => pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') r(); }));
const connected = (pc) => pc.connectionState === 'connected' ? Promise.resolve() :
  new Promise((r) => pc.connectionStateChange.subscribe((s) => { if (s === 'connected') r(); }));

async function mkPair(i) {
  const a = new RTCPeerConnection(cfg()), b = new RTCPeerConnection(cfg());
  const la = mkLeg('a' + i, a), lb = mkLeg('b' + i, b);
  attach(la, a.addTransceiver('audio', { direction: 'sendrecv' }));
  await a.setLocalDescription(await a.createOffer());
  await gathered(a);
  if (i === 0) fs.writeFileSync('offer.sdp', a.localDescription.sdp);
  await b.setRemoteDescription(a.localDescription);
  const tb = b.getTransceivers()[0];
  tb.setDirection('sendrecv'); // the answering transceiver starts recvonly
  attach(lb, tb);
  await b.setLocalDescription(await b.createAnswer());
  await gathered(b);
  if (i === 0) fs.writeFileSync('answer.sdp', b.localDescription.sdp);
  await a.setRemoteDescription(b.localDescription);
  await Promise.all([connected(a), connected(b)]);
}

const t0 = performance.now();
await Promise.all(Array.from({ length: PAIRS }, (_, i) => mkPair(i)));
const tConnect = performance.now() - t0;

const late = [];
let running = true, next = performance.now() + 20;
function tick() {
  if (!running) return;
  const now = performance.now();
  late.push(now - next);
  for (const l of legs) {
    l.seq = (l.seq + 1) & 0xffff; l.ts = (l.ts + 960) >>> 0;
    l.pkt.writeUInt16BE(l.seq, 2); l.pkt.writeUInt32BE(l.ts, 4);
    l.tr.sender.sendRtp(l.pkt); l.tx++;
  }
  next += 20;
  setTimeout(tick, Math.max(0, next - performance.now()));
}
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
await new Promise((r) => setTimeout(r, 300));
const recvW = legs.reduce((s, l, i) => s + l.rx - base[i][1], 0);
const rtcpW = legs.reduce((s, l, i) => s + l.rxRtcp - base[i][2], 0);
late.sort((x, y) => x - y);
const cores = (c1.user + c1.system) / 1000 / wall;
const pair0 = legs[0].pc.iceTransports?.[0]?.connection?.nominated;
const res = {
  stack: 'werift ' + require('./node_modules/werift/package.json').version, legs: LEGS, pairs: PAIRS,
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
  senderRttSample: legs[0].tr.sender.rtt,
  selectedPair: pair0 ? `${pair0.localCandidate.host}:${pair0.localCandidate.port} -> ${pair0.remoteCandidate.host}:${pair0.remoteCandidate.port}` : 'n/a',
};
console.log(JSON.stringify(res));
fs.appendFileSync('results.jsonl', JSON.stringify(res) + '\n');
await Promise.race([Promise.all(legs.map((l) => l.pc.close())), new Promise((r) => setTimeout(r, 3000))]);
process.exit(0);
