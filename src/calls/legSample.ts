import type { LegSample } from '../results.js';
import type { LegRecord } from './legRecord.js';
import { farEndView, receivedLossRatio } from './lossViews.js';
import { videoSampleFields } from './videoQuality.js';

/** The samples.csv / metrics view of a leg's latest getStats sample. */
export function toLegSample(scenario: string, leg: LegRecord): LegSample | undefined {
  const latest = leg.latest;
  if (!latest) return undefined;
  const s = latest.sample;
  const rates = leg.rates;
  const farEnd = farEndView(s.audioOut, leg.sentAtFarEndReport);
  return {
    atMs: latest.atMs,
    scenario,
    callId: leg.callKey ?? '',
    legId: leg.legId,
    role: leg.role,
    direction: leg.direction,
    codecIn: s.audioIn?.codec ?? s.videoIn?.codec,
    codecOut: s.audioOut?.codec ?? s.videoOut?.codec,
    packetsReceived: (s.audioIn?.packetsReceived ?? 0) + (s.videoIn?.packetsReceived ?? 0),
    packetsSent: (s.audioOut?.packetsSent ?? 0) + (s.videoOut?.packetsSent ?? 0),
    bytesReceived: (s.audioIn?.bytesReceived ?? 0) + (s.videoIn?.bytesReceived ?? 0),
    bytesSent: (s.audioOut?.bytesSent ?? 0) + (s.videoOut?.bytesSent ?? 0),
    packetsLost: Math.max(0, s.audioIn?.packetsLost ?? 0) + Math.max(0, s.videoIn?.packetsLost ?? 0),
    inPacketRate: rates?.inAudioPacketRate ?? 0,
    outPacketRate: rates?.outAudioPacketRate ?? 0,
    jitterSeconds: s.audioIn?.jitterSeconds,
    rttSeconds: s.audioOut?.roundTripTimeSeconds ?? s.candidateRttSeconds,
    audioLevel: s.audioIn?.audioLevel,
    audioEnergyRate: rates?.inAudioEnergyRate,
    concealedRatio: rates?.concealedRatio,
    videoFramesDecoded: s.videoIn?.framesDecoded,
    videoFramesEncoded: s.videoOut?.framesEncoded,
    lossRatio: receivedLossRatio(s.audioIn),
    remotePacketsLost: farEnd.packetsLost,
    remoteLossRatio: farEnd.lossRatio,
    remoteFractionLost: farEnd.fractionLost,
    remoteJitterSeconds: farEnd.jitterSeconds,
    networkProfile: undefined, // the runner's to fill
    ...videoSampleFields(s, rates),
  };
}
