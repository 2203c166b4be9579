// How long does node-datachannel take to reach gatheringState 'complete' (non-trickle SDP, as SIP needs)?
import ndc from 'node-datachannel';
const { PeerConnection, Audio } = ndc;
for (let i = 0; i < 5; i++) {
  const pc = new PeerConnection('g' + i, { iceServers: [], bindAddress: '127.0.0.1' });
  const au = new Audio('0', 'SendRecv'); au.addOpusCodec(111); pc.addTrack(au);
  const t0 = performance.now(); let tCand;
  pc.onLocalCandidate(() => { tCand ??= performance.now() - t0; });
  await new Promise((r) => { pc.onGatheringStateChange((s) => s === 'complete' && r()); pc.setLocalDescription(); });
  console.log(`pc ${i}: first candidate ${tCand?.toFixed(1)} ms, gathering complete ${(performance.now() - t0).toFixed(1)} ms`);
  pc.close();
}
ndc.cleanup(); process.exit(0);
