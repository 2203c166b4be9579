// Where does the ~1 s setup go in node-datachannel: ICE connected vs DTLS (peer connection 'connected')?
import ndc from 'node-datachannel';
const { PeerConnection, Audio } = ndc;
const cfg = { iceServers: [], bindAddress: '127.0.0.1' };
const gather = (pc) => new Promise((r) => { if (pc.gatheringState() === 'complete') r(); pc.onGatheringStateChange((s) => s === 'complete' && r()); });
for (let i = 0; i < 4; i++) {
  const a = new PeerConnection('a', cfg), b = new PeerConnection('b', cfg);
  const au = new Audio('0', 'SendRecv'); au.addOpusCodec(111); a.addTrack(au);
  const t = {}; const t0 = performance.now();
  for (const [n, pc] of [['a', a], ['b', b]]) {
    pc.onIceStateChange((s) => { t[n + '.ice.' + s] ??= +(performance.now() - t0).toFixed(1); });
    pc.onStateChange((s) => { t[n + '.pc.' + s] ??= +(performance.now() - t0).toFixed(1); });
  }
  a.setLocalDescription(); await gather(a);
  b.setRemoteDescription(a.localDescription().sdp, 'offer'); await gather(b);
  a.setRemoteDescription(b.localDescription().sdp, 'answer');
  await new Promise((r) => setTimeout(r, 2500));
  console.log(JSON.stringify(t));
  a.close(); b.close();
}
ndc.cleanup(); process.exit(0);
