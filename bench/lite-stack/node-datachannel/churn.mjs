// Churn probe: keep PAIRS pairs sending RTP every 20 ms while closing the oldest pair and opening a new one
// RATE times a second (hang-up + new call), for SECS seconds. Checks for native crashes and setup latency.
// Usage: node churn.mjs [pairs=100] [rate=25] [secs=20]
import ndc from 'node-datachannel';
const { PeerConnection, Audio } = ndc;
const PAIRS = +(process.argv[2] || 100), RATE = +(process.argv[3] || 25), SECS = +(process.argv[4] || 20);
const cfg = { iceServers: [], bindAddress: '127.0.0.1', portRangeBegin: 20000, portRangeEnd: 40000 };
const gather = (pc) => new Promise((r) => { if (pc.gatheringState() === 'complete') r(); pc.onGatheringStateChange((s) => s === 'complete' && r()); });
const live = new Set(); let made = 0, failed = 0, closed = 0; const setup = [];
const pkt = Buffer.alloc(92, 0x5a); pkt[0] = 0x80; pkt[1] = 111;
async function mkPair() {
  const t0 = performance.now();
  const a = new PeerConnection('a', cfg), b = new PeerConnection('b', cfg);
  const au = new Audio('0', 'SendRecv'); au.addOpusCodec(111); au.addSSRC(1234);
  const p = { a, b, ta: a.addTrack(au), tb: null, rx: 0, tx: 0, seq: 0 };
  p.ta.onMessage(() => p.rx++);
  const conn = Promise.all([a, b].map((pc) => new Promise((r, j) => pc.onStateChange((s) => { if (s === 'connected') r(); if (s === 'failed') j(new Error('failed')); }))));
  b.onTrack((t) => { p.tb = t; t.onMessage(() => p.rx++); });
  a.setLocalDescription(); await gather(a);
  b.setRemoteDescription(a.localDescription().sdp, 'offer'); await gather(b);
  a.setRemoteDescription(b.localDescription().sdp, 'answer');
  try { await Promise.race([conn, new Promise((_, j) => setTimeout(() => j(new Error('timeout')), 5000))]); } catch { failed++; a.close(); b.close(); return; }
  setup.push(performance.now() - t0); made++; live.add(p);
}
await Promise.all(Array.from({ length: PAIRS }, mkPair));
const send = setInterval(() => { for (const p of live) { p.seq = (p.seq + 1) & 0xffff; pkt.writeUInt16BE(p.seq, 2); if (p.ta.isOpen()) { p.ta.sendMessageBinary(pkt); p.tx++; } if (p.tb?.isOpen()) { p.tb.sendMessageBinary(pkt); p.tx++; } } }, 20);
const c0 = process.cpuUsage(), w0 = performance.now(); setup.length = 0;
const churn = setInterval(() => { const old = live.values().next().value; if (old) { live.delete(old); old.a.close(); old.b.close(); closed++; } mkPair(); }, 1000 / RATE);
await new Promise((r) => setTimeout(r, SECS * 1000));
clearInterval(churn); clearInterval(send);
const c1 = process.cpuUsage(c0), wall = performance.now() - w0;
setup.sort((x, y) => x - y);
console.log(JSON.stringify({ pairs: PAIRS, ratePerS: RATE, secs: SECS, newCalls: made - PAIRS + (setup.length ? 0 : 0), setupsInWindow: setup.length, failed, closed,
  setupP50ms: +setup[Math.floor(setup.length / 2)]?.toFixed(1), setupP95ms: +setup[Math.floor(setup.length * 0.95)]?.toFixed(1),
  setupOver900ms: setup.filter((x) => x > 900).length, cores: +((c1.user + c1.system) / 1000 / wall).toFixed(3),
  rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1) }));
await new Promise((r) => setTimeout(r, 500));
for (const p of live) { p.a.close(); p.b.close(); }
await new Promise((r) => setTimeout(r, 500));
process.exit(0);
