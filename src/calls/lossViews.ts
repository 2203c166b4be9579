import type { InboundRtp, OutboundRtp } from '../protocol/events.js';

/**
 * Loss as this leg's receiver counted it: lost / expected, where expected is
 * received + lost (RFC 3550's cumulative count, from the start of the stream to
 * this sample). packetsLost goes negative when duplicates arrive; it counts as
 * 0. Undefined when nothing was expected yet (no stream, or no packet yet).
 */
export function receivedLossRatio(inbound: Pick<InboundRtp, 'packetsReceived' | 'packetsLost'> | undefined): number | undefined {
  if (!inbound) return undefined;
  const lost = Math.max(0, inbound.packetsLost);
  const expected = inbound.packetsReceived + lost;
  return expected > 0 ? lost / expected : undefined;
}

/**
 * What the far end said, in its RTCP receiver reports (getStats'
 * remote-inbound-rtp), about the stream this leg sent. Each figure is undefined
 * when the far end sent no report (no RTCP, none yet, or a peer that sends none).
 */
export interface FarEndView {
  /** Cumulative packets of this leg's stream the far end never received (negative, from duplicates, counts as 0). */
  packetsLost?: number;
  /**
   * packetsLost / packetsSent: the far end's cumulative loss of this leg's stream.
   * The far end's own denominator (packets it expected) is not reported, and
   * every packet it expected was one this leg sent, so packetsSent stands in:
   * a packet counts as lost only once sent, and never twice (received + lost
   * would count it twice: lost packets are in packetsSent already). packetsSent
   * is read at this sample, the report up to an RTCP interval (~1-5 s) earlier,
   * so packets still in flight since the report make it slightly low early in a
   * call; the difference fades as the call goes on. Capped at 1; undefined when
   * nothing was sent yet.
   */
  lossRatio?: number;
  /** RTCP fraction lost (0..1) as the far end's last report gave it: the loss over that report's interval only, not cumulative. */
  fractionLost?: number;
  /** Interarrival jitter of this leg's stream at the far end (seconds). */
  jitterSeconds?: number;
}

export function farEndView(outbound: OutboundRtp | undefined): FarEndView {
  if (!outbound) return {};
  const packetsLost = outbound.remotePacketsLost === undefined ? undefined : Math.max(0, outbound.remotePacketsLost);
  const lossRatio = packetsLost !== undefined && outbound.packetsSent > 0 ? Math.min(1, packetsLost / outbound.packetsSent) : undefined;
  return { packetsLost, lossRatio, fractionLost: outbound.remoteFractionLost, jitterSeconds: outbound.remoteJitterSeconds };
}
