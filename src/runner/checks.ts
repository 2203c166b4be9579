import type { FailureReason } from '../results.js';
import type { Check, MediaDirection, VideoLimits } from '../scenario/types.js';
import { callStateOf } from '../calls/callState.js';
import { MIN_PACKET_RATE, SILENCE_ENERGY_RATE, type LegRecord, type MediaRates } from '../calls/legRecord.js';
import type { CallRecord } from '../calls/callRecord.js';
import { codecOf, codecWays, describeTranscode, wayVerdict, type CodecWay } from '../sdp/transcoding.js';
import type { AgentInfo } from './runState.js';

export interface CheckOutcome {
  ok: boolean;
  /** What was seen, for the report when the check fails (or passes). */
  detail: string;
  reason: FailureReason;
}

export interface CheckContext {
  call: CallRecord;
  /** The legs the check is about: the role's leg, or every callwright leg of the call. */
  legs: LegRecord[];
  /** Agents of the role (for MESSAGE checks, which are not about a call). */
  agents: AgentInfo[];
}

/**
 * Evaluates an expect step's condition against what the pages reported.
 * Called again on every event batch until it holds or the step times out.
 */
export function evaluateCheck(check: Check, context: CheckContext): CheckOutcome {
  const { legs } = context;
  if (check.kind === 'message') {
    const bodies = context.agents.flatMap((agent) => agent.messagesReceived.map((m) => m.body));
    return {
      ok: bodies.includes(check.body),
      detail: bodies.length ? `messages received: ${bodies.map((b) => JSON.stringify(b)).join(', ')}` : 'no MESSAGE received',
      reason: 'check_failed',
    };
  }
  if (legs.length === 0) return { ok: false, detail: 'no leg of this call exists yet', reason: 'timeout' };
  if (check.kind === 'transcoded') return evaluateTranscoded(check.expected, context);
  const outcomes = legs.map((leg) => evaluateOnLeg(check, leg));
  const failed = outcomes.find((o) => !o.ok);
  return failed ?? { ok: true, detail: outcomes.map((o) => o.detail).join('; '), reason: 'check_failed' };
}

function evaluateOnLeg(check: Exclude<Check, { kind: 'message' | 'transcoded' }>, leg: LegRecord): CheckOutcome {
  const who = `${leg.role}`;
  switch (check.kind) {
    case 'state': {
      const state = callStateOf(leg);
      const reached =
        check.state === 'ringing'
          ? leg.firstProgressAtMs !== undefined || leg.direction === 'incoming' || leg.established
          : check.state === 'established'
            ? state === 'established'
            : check.state === 'ended'
              ? leg.ended
              : state === 'failed';
      const statusOk = check.status === undefined || leg.sipStatus === check.status;
      const seen = `${who}: ${state}${leg.sipStatus ? ` (SIP ${leg.sipStatus})` : ''}${leg.lost ? ` (${leg.lost})` : ''}`;
      return { ok: reached && statusOk, detail: seen, reason: stateFailureReason(check.state, leg) };
    }
    case 'media': {
      const rates = leg.rates;
      if (!rates) return { ok: false, detail: `${who}: no media statistics yet`, reason: check.flow === 'flowing' ? 'no_media' : 'check_failed' };
      const ins = directionIncludes(check.direction, 'in');
      const outs = directionIncludes(check.direction, 'out');
      const inFlowing = check.media === 'audio' ? audioInFlowing(rates) : rates.inVideoFrameRate >= 1;
      const outFlowing = check.media === 'audio' ? rates.outAudioPacketRate >= MIN_PACKET_RATE : rates.outVideoPacketRate >= MIN_PACKET_RATE;
      const wanted = check.flow === 'flowing';
      const ok = (!ins || inFlowing === wanted) && (!outs || outFlowing === wanted);
      const detail = `${who}: ${check.media} in ${describeIn(rates, check.media)}, out ${(check.media === 'audio' ? rates.outAudioPacketRate : rates.outVideoPacketRate).toFixed(0)} pkt/s`;
      const oneWay = wanted && inFlowing !== outFlowing;
      return { ok, detail, reason: wanted ? (oneWay ? 'one_way_audio' : 'no_media') : 'check_failed' };
    }
    case 'codec': {
      const codecIn = codecOf(leg.codecs, check.media, 'in');
      const codecOut = codecOf(leg.codecs, check.media, 'out');
      const want = check.codec.toLowerCase();
      const ok =
        (!directionIncludes(check.direction, 'in') || codecIn?.toLowerCase() === want) &&
        (!directionIncludes(check.direction, 'out') || codecOut?.toLowerCase() === want);
      return { ok, detail: `${who}: ${check.media} codec out ${codecOut ?? 'none'}, in ${codecIn ?? 'none'}`, reason: 'check_failed' };
    }
    case 'firstAudio': {
      if (leg.establishedAtMs === undefined) return { ok: false, detail: `${who}: not established`, reason: 'timeout' };
      if (leg.firstAudioAtMs === undefined) return { ok: false, detail: `${who}: no audio received yet`, reason: 'no_media' };
      const seconds = Math.max(0, leg.firstAudioAtMs - leg.establishedAtMs) / 1000;
      return { ok: seconds <= check.withinSeconds, detail: `${who}: first audio ${seconds.toFixed(3)} s after 200 OK`, reason: 'check_failed' };
    }
    case 'dtmf': {
      const received = leg.dtmfReceived.join('');
      return { ok: received.includes(check.tones), detail: `${who}: DTMF received "${received}"`, reason: 'check_failed' };
    }
    case 'inviteSize': {
      const bytes = leg.inviteBytes;
      if (bytes === undefined) return { ok: false, detail: `${who}: no INVITE sent on this leg`, reason: 'check_failed' };
      const ok = (check.maxBytes === undefined || bytes <= check.maxBytes) && (check.minBytes === undefined || bytes >= check.minBytes);
      return { ok, detail: `${who}: INVITE ${bytes} bytes`, reason: 'check_failed' };
    }
    case 'sdp': {
      const sides = (['in', 'out'] as const).filter((side) => directionIncludes(check.direction, side));
      const seen = sides.map((side) => {
        const sdps = leg.sdp.filter((event) => event.sent === (side === 'out')).map((event) => event.sdp);
        const missing = check.lines.filter((wanted) => !sdps.some((sdp) => hasSdpLine(sdp, wanted)));
        return { side, count: sdps.length, missing };
      });
      const ok = seen.every((s) => s.count > 0 && s.missing.length === 0);
      const detail = seen
        .map(({ side, count, missing }) => {
          const what = side === 'in' ? 'received' : 'sent';
          if (count === 0) return `${who}: no SDP ${what}`;
          return missing.length === 0 ? `${who}: SDP ${what} has ${check.lines.join(', ')}` : `${who}: SDP ${what} lacks ${missing.join(', ')}`;
        })
        .join('; ');
      return { ok, detail, reason: 'check_failed' };
    }
    case 'video':
      return receivedVideoOutcome(check.limits, leg);
  }
}

/**
 * Transcoding on the call, from both callwright legs' codecs (calls/transcoding.ts). true holds once
 * a way is seen transcoded; false once every way the call carries was seen and none was.
 */
function evaluateTranscoded(expected: boolean, context: CheckContext): CheckOutcome {
  const [caller, callee] = context.legs;
  if (!caller || !callee) {
    const detail = `only ${context.legs.map((leg) => leg.role).join(', ') || 'no'} leg is callwright's: the far end (${context.call.to}) is not observed, so transcoding cannot be told`;
    return { ok: false, detail, reason: 'check_failed' };
  }
  const ways = codecWays({ role: caller.role, codecs: caller.codecs }, { role: callee.role, codecs: callee.codecs });
  const verdicts = ways.map((way) => ({ way, verdict: wayVerdict(way) }));
  const transcoded = verdicts.filter(({ verdict }) => verdict === 'transcoded').map(({ way }) => way);
  const observed = verdicts.filter(({ verdict }) => verdict !== 'unobserved').length;
  const pending = verdicts.filter(({ verdict }) => verdict === 'unobserved').map(({ way }) => way);
  if (observed === 0) {
    return { ok: false, detail: ways.length ? `not observed yet: ${ways.map(describeWay).join('; ')}` : 'no codec seen on either leg yet', reason: 'no_media' };
  }
  if (transcoded.length > 0) {
    return { ok: expected, detail: `transcoded ${transcoded.map(describeTranscode).join('; ')} (${transcoded.map(describeWay).join('; ')})`, reason: 'check_failed' };
  }
  const detail = `not transcoded: ${ways.map(describeWay).join('; ')}`;
  // Not transcoded is proven once every way the call carries was seen at both ends.
  return { ok: !expected && pending.length === 0, detail, reason: 'check_failed' };
}

function describeWay(way: CodecWay): string {
  return `${way.from} encodes ${way.media} ${way.sent ?? 'nothing yet'}, ${way.to} decodes ${way.received ?? 'nothing yet'}`;
}

/** A line equal to `wanted`, or starting with it and a space ("m=video 0" matches "m=video 0 UDP/TLS/RTP/SAVPF 96"). */
function hasSdpLine(sdp: string, wanted: string): boolean {
  return sdp.split(/\r?\n/).some((line) => line === wanted || line.startsWith(`${wanted} `));
}

function audioInFlowing(rates: MediaRates): boolean {
  if (rates.inAudioPacketRate < MIN_PACKET_RATE) return false;
  // Packets of silence (a disabled or held sender) are not audio.
  return rates.inAudioEnergyRate === undefined || rates.inAudioEnergyRate > SILENCE_ENERGY_RATE;
}

function describeIn(rates: MediaRates, media: 'audio' | 'video'): string {
  if (media === 'video') return `${rates.inVideoFrameRate.toFixed(0)} frames/s`;
  const energy = rates.inAudioEnergyRate === undefined ? '' : `, energy ${rates.inAudioEnergyRate.toExponential(1)}/s`;
  return `${rates.inAudioPacketRate.toFixed(0)} pkt/s${energy}`;
}

function directionIncludes(direction: MediaDirection, which: 'in' | 'out'): boolean {
  return direction === 'both' || direction === which;
}

function stateFailureReason(wanted: string, leg: LegRecord): FailureReason {
  if (leg.lost) return 'browser_crashed';
  if (leg.endCause?.kind === 'transportLost') return 'transport_lost';
  if (wanted !== 'failed' && leg.sipStatus !== undefined) return 'sip_status';
  return leg.ended ? 'check_failed' : 'timeout';
}

/**
 * The video the leg receives against the limits: frame rate and bitrate over the last stats
 * interval, the last decoded frame size, freezes since the call began (getStats freezeCount).
 * A limit with nothing to judge it on yet (no interval, not reported) does not hold.
 */
function receivedVideoOutcome(limits: VideoLimits, leg: LegRecord): CheckOutcome {
  const video = leg.lastSample()?.videoIn;
  if (!video) return { ok: false, detail: `${leg.role}: no video received${leg.rates ? '' : ' yet'}`, reason: 'no_media' };
  const rates = leg.rates?.videoIn;
  const freezes = leg.receivedVideo.freezesReported ? leg.receivedVideo : undefined;
  const width = video.frameWidth;
  const height = video.frameHeight;
  const broken: string[] = [];
  const atLeast = (value: number | undefined, limit: number | undefined, missing: string, shown: string) => {
    if (limit === undefined) return;
    if (value === undefined) broken.push(missing);
    else if (value < limit) broken.push(`${shown} < ${limit}`);
  };
  const atMost = (value: number | undefined, limit: number | undefined, missing: string, shown: string) => {
    if (limit === undefined) return;
    if (value === undefined) broken.push(missing);
    else if (value > limit) broken.push(`${shown} > ${limit}`);
  };
  const noInterval = 'no whole stats interval yet';
  const notReported = 'freezes not reported by the browser';
  atLeast(rates?.framesPerSecond, limits.minFps, noInterval, `${rates?.framesPerSecond.toFixed(1)} fps`);
  atLeast(rates?.kbps, limits.minKbps, noInterval, `${rates?.kbps.toFixed(0)} kbps`);
  atMost(rates?.kbps, limits.maxKbps, noInterval, `${rates?.kbps.toFixed(0)} kbps`);
  atLeast(width, limits.minWidth, 'no frame size yet', `width ${width}`);
  atLeast(height, limits.minHeight, 'no frame size yet', `height ${height}`);
  atMost(freezes?.freezes, limits.maxFreezes, notReported, `${freezes?.freezes} freezes`);
  atMost(freezes?.freezeSeconds, limits.maxFreezeSeconds, notReported, `frozen ${freezes?.freezeSeconds.toFixed(3)} s`);
  const seen = [
    rates ? `${rates.framesPerSecond.toFixed(1)} fps, ${rates.kbps.toFixed(0)} kbps` : 'no interval yet',
    width !== undefined && height !== undefined ? `${width}x${height}` : 'no frame size',
    freezes ? `${freezes.freezes} freezes (${freezes.freezeSeconds.toFixed(3)} s)` : 'freezes not reported',
  ].join(', ');
  const problems = [...new Set(broken)];
  return { ok: problems.length === 0, detail: `${leg.role}: video in ${seen}${problems.length ? `: ${problems.join(', ')}` : ''}`, reason: 'check_failed' };
}
