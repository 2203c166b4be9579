// Churn probe (werift): keep PAIRS pairs sending RTP every 20 ms while closing the oldest pair and opening
// a new one RATE times a second, for SECS seconds.  Usage: node churn.mjs [pairs=100] [rate=25] [secs=20]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { RTCPeerConnection, RTCRtpCodecParameters } = require('werift');
const { Connection } = require('./node_modules/werift/lib/ice/src/ice.js');
const g = Connection.prototype.getCandidatePromises;
Connection.prototype.getCandidatePromises = function (...a) { this.stunServer = undefined; return g.apply(this, a); };
const PAIRS = +(process.argv[2] || 100), RATE = +(process.argv[3] || 25), SECS = +(process.argv[4] || 20);
const cfg = () => ({ iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'],
  codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })], video: [] } });
const gathered = (pc) => pc.iceGatheringState === 'complete' ? Promise.resolve() : new Promise((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
const connected = (pc) => pc.connectionState === 'connected' ? Promise.resolve() : new Promise((r, j) => pc.connectionStateChange.subscribe((s) => { if (s === 'connected') r(); if (s === 'failed') j(new Error('failed')); }));
const live = new Set(); let made = 0, failed = 0, closed = 0; const setup = [];
const pkt = Buffer.alloc(92, 0x5a); pkt[0] = 0x80; pkt[1] = 111;
async function mkPair() {
  const t0 = performance.now();
  const a = new RTCPeerConnection(cfg()), b = new RTCPeerConnection(cfg());
  const p = { a, b, ta: a.addTransceiver('audio', { direction: 'sendrecv' }), tb: null, seq: 0 };
  try {
    await a.setLocalDescription(await a.createOffer()); await gathered(a);
    await b.setRemoteDescription(a.localDescription); p.tb = b.getTransceivers()[0]; p.tb.setDirection('sendrecv');
    await b.setLocalDescription(await b.createAnswer()); await gathered(b);
    await a.setRemoteDescription(b.localDescription);
    await Promise.race([Promise.all([connected(a), connected(b)]), new Promise((_, j) => setTimeout(() => j(new Error('timeout')), 5000))]);
  } catch { failed++; a.close(); b.close(); return; }
  setup.push(performance.now() - t0); made++; live.add(p);
}
await Promise.all(Array.from({ length: PAIRS }, mkPair));
const send = setInterval(() => { for (const p of live) { p.seq = (p.seq + 1) & 0xffff; pkt.writeUInt16BE(p.seq, 2); p.ta.sender.sendRtp(pkt); p.tb.sender.sendRtp(pkt); } }, 20);
const c0 = process.cpuUsage(), w0 = performance.now(), elu0 = performance.eventLoopUtilization(); setup.length = 0;
const churn = setInterval(() => { const old = live.values().next().value; if (old) { live.delete(old); old.a.close(); old.b.close(); closed++; } mkPair(); }, 1000 / RATE);
await new Promise((r) => setTimeout(r, SECS * 1000));
clearInterval(churn); clearInterval(send);
const c1 = process.cpuUsage(c0), wall = performance.now() - w0;
setup.sort((x, y) => x - y);
console.log(JSON.stringify({ pairs: PAIRS, ratePerS: RATE, secs: SECS, setupsInWindow: setup.length, failed, closed,
  setupP50ms: +setup[Math.floor(setup.length / 2)]?.toFixed(1), setupP95ms: +setup[Math.floor(setup.length * 0.95)]?.toFixed(1),
  cores: +((c1.user + c1.system) / 1000 / wall).toFixed(3), jsLoopUtil: +performance.eventLoopUtilization(elu0).utilization.toFixed(3),
  rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1) }));
await Promise.race([Promise.all([...live].flatMap((p) => [p.a.close(), p.b.close()])), new Promise((r) => setTimeout(r, 2000))]);
process.exit(0);
