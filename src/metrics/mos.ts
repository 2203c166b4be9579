/**
 * MOS estimate from getStats numbers: the ITU-T G.107 E-model, simplified the
 * way VoIP monitoring tools (voip_patrol, testRTC-style probes, RTCP-XR
 * reporters) do it, because getStats gives us delay, jitter, loss and codec
 * but nothing about echo, noise or loudness ratings:
 *
 *   R = (R0 - Is) - Id - Ie_eff + A
 *
 * with R0 - Is = 93.2 (G.107 default parameters) and advantage A = 0 (a wired
 * lab call offers no convenience to trade against quality).
 *
 * It is an estimate for comparing runs and setting thresholds (`mos > 3.5`),
 * not a listening-quality measurement: it knows nothing of the audio itself.
 */

export interface MosInput {
  codec: string | undefined;
  rttSeconds: number | undefined;
  jitterSeconds: number | undefined;
  /** 0..1 */
  packetLossRatio: number;
}

export interface MosEstimate {
  rFactor: number;
  mos: number;
}

/** R0 - Is with G.107 default parameters: the best a narrowband call can score. */
const BASIC_SIGNAL_TO_NOISE_R = 93.2;

interface CodecProfile {
  /** Ie: equipment impairment at zero loss. */
  equipmentImpairment: number;
  /** Bpl: how well the codec (with its PLC) hides random loss; higher is more robust. */
  packetLossRobustness: number;
  /** Audio per packet; WebRTC and most SIP phones default to ptime 20. */
  packetisationMs: number;
  /** Encoder look-ahead added to the packetisation delay. */
  lookaheadMs: number;
}

/**
 * Ie/Bpl from ITU-T G.113 Appendix I where it lists the codec.
 *
 * - G.711 (PCMU/PCMA) with PLC (G.711 Appendix I, which browsers and phones
 *   implement): Ie 0, Bpl 25.1.
 * - G.729A (+VAD): Ie 11, Bpl 19.0; 5 ms look-ahead.
 * - G.722: G.113 only rates it on the wideband scale (Ie,wb 13 out of
 *   Ro,wb 129), which does not mix with the 93.2 narrowband scale used here.
 *   Narrowband-equivalent: Ie 0, because 64 kbit/s G.722 is no worse than
 *   G.711 and this scale cannot express its wideband gain; Bpl 25.1 as G.711
 *   with PLC, the closest waveform codec with a standard PLC (G.722
 *   Appendix III/IV). So G.722 scores like G.711 here: do not use this MOS to
 *   choose between them.
 * - Opus is not in G.113. Ie 0: at WebRTC's default ~32 kbit/s it is
 *   transparent on a narrowband scale. Bpl 20: deliberately below G.711+PLC,
 *   because in-band FEC only helps once the sender has turned it on in reply
 *   to reported loss, and we prefer to under-rather than over-estimate.
 *   6.5 ms look-ahead (Opus' default algorithmic delay for 20 ms frames is
 *   26.5 ms = 20 + 6.5).
 * - Any other or unknown codec (iLBC, speex, undefined when getStats had no
 *   codec yet): the Opus profile, the codec WebRTC negotiates by default, so
 *   an unknown name never makes the estimate look better than Opus would.
 */
const OPUS: CodecProfile = { equipmentImpairment: 0, packetLossRobustness: 20, packetisationMs: 20, lookaheadMs: 6.5 };
const G711: CodecProfile = { equipmentImpairment: 0, packetLossRobustness: 25.1, packetisationMs: 20, lookaheadMs: 0 };
const CODEC_PROFILES: Readonly<Record<string, CodecProfile>> = {
  opus: OPUS,
  pcmu: G711,
  pcma: G711,
  g722: { ...G711, lookaheadMs: 1.5 }, // QMF filter bank delay
  g729: { equipmentImpairment: 11, packetLossRobustness: 19, packetisationMs: 20, lookaheadMs: 5 },
};

/** Accepts "PCMU", "pcmu" or getStats' mimeType "audio/PCMU". */
function codecProfile(codec: string | undefined): CodecProfile {
  const name = (codec ?? '').toLowerCase().replace(/^audio\//, '');
  return CODEC_PROFILES[name] ?? OPUS;
}

/** Missing, negative or NaN readings count as 0: no evidence of impairment. */
function nonNegative(value: number | undefined): number {
  return value !== undefined && value > 0 ? value : 0;
}

/**
 * One-way mouth-to-ear delay Ta in ms: half the RTT (network), the jitter
 * buffer (2 x jitter, but never less than one packet, which a buffer always
 * holds), and the codec's own delay (packetisation + look-ahead).
 */
export function mouthToEarDelayMs(input: Pick<MosInput, 'codec' | 'rttSeconds' | 'jitterSeconds'>): number {
  const profile = codecProfile(input.codec);
  const networkMs = (nonNegative(input.rttSeconds) * 1000) / 2;
  const jitterBufferMs = Math.max(2 * nonNegative(input.jitterSeconds) * 1000, profile.packetisationMs);
  return networkMs + jitterBufferMs + profile.packetisationMs + profile.lookaheadMs;
}

/**
 * Delay impairment Id from the one-way delay Ta (ms), using the Cole &
 * Rosenbluth approximation (ACM CCR 2001) that monitoring tools use:
 *
 *   Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3)
 *
 * rather than G.107's full Id = Idte + Idle + Idd: that needs talker-echo
 * loudness ratings and round-trip echo paths we cannot measure, and with
 * G.107 default values this line fits it closely up to ~400 ms. The knee at
 * 177.3 ms is where conversation starts to suffer.
 */
export function delayImpairment(oneWayDelayMs: number): number {
  const ta = nonNegative(oneWayDelayMs);
  return 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0);
}

/**
 * Effective equipment impairment with loss (G.107 7.4):
 *   Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)
 * with Ppl in percent and BurstR = 1: getStats gives a loss ratio, not the
 * loss pattern, so loss is taken as random.
 */
function effectiveEquipmentImpairment(profile: CodecProfile, packetLossRatio: number): number {
  const lossPercent = Math.min(nonNegative(packetLossRatio), 1) * 100;
  const burstRatio = 1;
  const { equipmentImpairment: ie, packetLossRobustness: bpl } = profile;
  return ie + ((95 - ie) * lossPercent) / (lossPercent / burstRatio + bpl);
}

export function estimateMos(input: MosInput): MosEstimate {
  const profile = codecProfile(input.codec);
  const delay = delayImpairment(mouthToEarDelayMs(input));
  const rFactor = BASIC_SIGNAL_TO_NOISE_R - delay - effectiveEquipmentImpairment(profile, input.packetLossRatio);
  // G.107's R scale is 0..100; a negative R is reported as 0 (MOS 1 either way).
  const clamped = Math.min(Math.max(rFactor, 0), 100);
  return { rFactor: clamped, mos: rFactorToMos(clamped) };
}

/**
 * G.107 (B-4): MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 for 0 < R < 100,
 * 1 below, 4.5 above. The cubic dips just under 1 for 0 < R < 6.5; it is held
 * at 1 so that MOS never falls as R rises.
 */
export function rFactorToMos(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return Math.max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6);
}
