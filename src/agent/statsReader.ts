import type { CandidateInfo, InboundAudio, InboundVideo, MediaSample, OutboundRtp } from '../protocol/events.js';

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Turns one getStats() report into the cumulative counters callwright keeps.
 * Only the fields reporters use are copied: a sample per leg per interval
 * crosses into Node, so it must stay small.
 */
export function readMediaSample(report: RTCStatsReport): MediaSample {
  const stats = new Map<string, Stat>();
  report.forEach((value: Stat) => stats.set(value.id, value));
  const codecName = (s: Stat): string | undefined => {
    const codec = typeof s.codecId === 'string' ? stats.get(s.codecId) : undefined;
    const mime = codec && typeof codec.mimeType === 'string' ? codec.mimeType : undefined;
    return mime?.split('/')[1];
  };
  const remoteFor = (s: Stat): Stat | undefined =>
    [...stats.values()].find((r) => r.type === 'remote-inbound-rtp' && r.localId === s.id);

  const sample: MediaSample = {};
  for (const s of stats.values()) {
    if (s.type === 'inbound-rtp') {
      const base = {
        codec: codecName(s),
        packetsReceived: num(s.packetsReceived) ?? 0,
        bytesReceived: num(s.bytesReceived) ?? 0,
        packetsLost: num(s.packetsLost) ?? 0,
        jitterSeconds: num(s.jitter) ?? 0,
      };
      if (s.kind === 'audio') {
        const audio: InboundAudio = {
          ...base,
          audioLevel: num(s.audioLevel),
          totalAudioEnergy: num(s.totalAudioEnergy),
          totalSamplesReceived: num(s.totalSamplesReceived),
          concealedSamples: num(s.concealedSamples),
        };
        sample.audioIn = audio;
      } else if (s.kind === 'video') {
        const video: InboundVideo = {
          ...base,
          framesDecoded: num(s.framesDecoded) ?? 0,
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          freezeCount: num(s.freezeCount),
          totalFreezesSeconds: num(s.totalFreezesDuration),
          keyFramesDecoded: num(s.keyFramesDecoded),
          pliCount: num(s.pliCount),
          firCount: num(s.firCount),
          nackCount: num(s.nackCount),
        };
        sample.videoIn = video;
      }
    } else if (s.type === 'outbound-rtp') {
      const remote = remoteFor(s);
      const out: OutboundRtp = {
        codec: codecName(s),
        packetsSent: num(s.packetsSent) ?? 0,
        bytesSent: num(s.bytesSent) ?? 0,
        roundTripTimeSeconds: num(remote?.roundTripTime),
        remotePacketsLost: num(remote?.packetsLost),
        remoteFractionLost: num(remote?.fractionLost),
        remoteJitterSeconds: num(remote?.jitter),
      };
      if (s.kind === 'audio') sample.audioOut = out;
      else if (s.kind === 'video') {
        sample.videoOut = {
          ...out,
          framesEncoded: num(s.framesEncoded) ?? 0,
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          keyFramesEncoded: num(s.keyFramesEncoded),
          pliCount: num(s.pliCount),
          firCount: num(s.firCount),
          nackCount: num(s.nackCount),
          qualityLimitationReason: typeof s.qualityLimitationReason === 'string' ? s.qualityLimitationReason : undefined,
        };
      }
    } else if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') {
      sample.candidateRttSeconds = num(s.currentRoundTripTime) ?? sample.candidateRttSeconds;
    } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string' && !sample.selectedPair) {
      const pair = stats.get(s.selectedCandidatePairId);
      const local = pair && typeof pair.localCandidateId === 'string' ? candidate(stats.get(pair.localCandidateId)) : undefined;
      const remote = pair && typeof pair.remoteCandidateId === 'string' ? candidate(stats.get(pair.remoteCandidateId)) : undefined;
      if (local && remote) sample.selectedPair = { local, remote };
    }
  }
  return sample;
}

function candidate(s: Stat | undefined): CandidateInfo | undefined {
  if (!s) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    type: text(s.candidateType),
    protocol: text(s.protocol),
    address: text(s.address ?? s.ip),
    port: num(s.port) ?? 0,
    ...(typeof s.relayProtocol === 'string' ? { relayProtocol: s.relayProtocol } : {}),
  };
}
