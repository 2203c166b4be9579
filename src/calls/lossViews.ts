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
   * packetsLost / packets sent: the far end's cumulative loss of this leg's stream.
   * The far end's own denominator (packets it expected) is not reported, and
   * every packet it expected was one this leg sent, so packets sent stands in
   * (received + lost would count a lost packet twice). Not the packets sent by
   * now: a report is up to an RTCP interval old (5 s for audio in Chromium), so
   * the count sent when it was made (LegRecord.sentAtFarEndReport), which read
   * against today's count would be up to a quarter low 20 s into a call. Capped
   * at 1; undefined when nothing was sent yet.
   */
  lossRatio?: number;
  /** RTCP fraction lost (0..1) as the far end's last report gave it: the loss over that report's interval only, not cumulative. */
  fractionLost?: number;
  /** Interarrival jitter of this leg's stream at the far end (seconds). */
  jitterSeconds?: number;
}

export function farEndView(outbound: OutboundRtp | undefined, sentAtReport = outbound?.packetsSent): FarEndView {
  if (!outbound) return {};
  const packetsLost = outbound.remotePacketsLost === undefined ? undefined : Math.max(0, outbound.remotePacketsLost);
  const sent = sentAtReport !== undefined && sentAtReport > 0 ? sentAtReport : outbound.packetsSent;
  const lossRatio = packetsLost !== undefined && sent > 0 ? Math.min(1, packetsLost / sent) : undefined;
  return { packetsLost, lossRatio, fractionLost: outbound.remoteFractionLost, jitterSeconds: outbound.remoteJitterSeconds };
}
