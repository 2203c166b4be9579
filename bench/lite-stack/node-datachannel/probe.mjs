// API-fit probe: (1) answer an rtpengine-style offer (no BUNDLE, no mid, several codecs);
// (2) raw RTCP sent with sendMessageBinary arrives (decrypted) at the far end's onMessage.
import ndc from 'node-datachannel';
import fs from 'node:fs';
const { PeerConnection, Audio } = ndc;
const cfg = { iceServers: [], bindAddress: '127.0.0.1' };
const gather = (pc) => new Promise((r) => { if (pc.gatheringState() === 'complete') r(); pc.onGatheringStateChange((s) => s === 'complete' && r()); });
// (1)
const p = new PeerConnection('rtpengine', cfg);
let tr; p.onTrack((t) => { tr = t; });
try {
  p.setRemoteDescription(fs.readFileSync(new URL('../probe-sdp/rtpengine-offer.sdp', import.meta.url), 'utf8'), 'offer');
  await gather(p);
  console.log('--- answer to rtpengine-style offer ---\n' + p.localDescription().sdp);
  console.log('track mid', tr?.mid(), 'direction', tr?.direction());
} catch (e) { console.log('rtpengine offer rejected:', e.message); }
p.close();
// (2) raw RTCP RR + SR round trip
const a = new PeerConnection('a', cfg), b = new PeerConnection('b', cfg);
const au = new Audio('0', 'SendRecv'); au.addOpusCodec(111); au.addSSRC(1111, 'c');
const ta = a.addTrack(au); let tb;
const got = []; const bOpen = new Promise((r) => b.onTrack((t) => { tb = t; t.onMessage((m) => got.push(m)); t.onOpen(r); }));
const aGot = []; ta.onMessage((m) => aGot.push(m));
a.setLocalDescription(); await gather(a);
b.setRemoteDescription(a.localDescription().sdp, 'offer'); await gather(b);
a.setRemoteDescription(b.localDescription().sdp, 'answer');
await Promise.all([new Promise((r) => ta.onOpen(r)), bOpen]);
// SR from a (PT 200) with NTP timestamp; b answers RR (PT 201) with LSR/DLSR
const sr = Buffer.alloc(28); sr[0] = 0x80; sr[1] = 200; sr.writeUInt16BE(6, 2); sr.writeUInt32BE(1111, 4);
const ntpSec = Math.floor(Date.now() / 1000) + 2208988800; sr.writeUInt32BE(ntpSec >>> 0, 8); sr.writeUInt32BE(0x80000000, 12);
console.log('a sends SR ok=', ta.sendMessageBinary(sr));
await new Promise((r) => setTimeout(r, 200));
console.log('b received', got.length, 'messages; first PT', got[0] && got[0][1], 'len', got[0]?.length);
const rr = Buffer.alloc(32); rr[0] = 0x81; rr[1] = 201; rr.writeUInt16BE(7, 2); rr.writeUInt32BE(2222, 4); rr.writeUInt32BE(1111, 8);
rr.writeUInt32BE(((ntpSec & 0xffff) << 16 | 0x8000) >>> 0, 24); rr.writeUInt32BE(65536 / 100, 28);
console.log('b sends RR ok=', tb.sendMessageBinary(rr));
await new Promise((r) => setTimeout(r, 200));
console.log('a received', aGot.length, 'messages; first PT', aGot[0] && aGot[0][1], 'len', aGot[0]?.length, '(RTT must be computed by the app from LSR/DLSR)');
console.log('pc.rtt() =', a.rtt(), '(SCTP-only, -1 without a data channel)');
a.close(); b.close(); ndc.cleanup(); process.exit(0);
