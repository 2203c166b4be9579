import type { FailureReason } from '../results.js';
import type { Check, MediaDirection } from '../scenario/types.js';
import { callStateOf } from '../calls/callState.js';
import { MIN_PACKET_RATE, SILENCE_ENERGY_RATE, type LegRecord, type MediaRates } from '../calls/legRecord.js';
import type { CallRecord } from '../calls/callRecord.js';
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
  const outcomes = legs.map((leg) => evaluateOnLeg(check, leg));
  const failed = outcomes.find((o) => !o.ok);
  return failed ?? { ok: true, detail: outcomes.map((o) => o.detail).join('; '), reason: 'check_failed' };
}

function evaluateOnLeg(check: Exclude<Check, { kind: 'message' }>, leg: LegRecord): CheckOutcome {
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
      const sample = leg.lastSample();
      const codecIn = sample?.audioIn?.codec;
      const codecOut = sample?.audioOut?.codec;
      const want = check.codec.toLowerCase();
      const ok =
        (!directionIncludes(check.direction, 'in') || codecIn?.toLowerCase() === want) &&
        (!directionIncludes(check.direction, 'out') || codecOut?.toLowerCase() === want);
      return { ok, detail: `${who}: codec out ${codecOut ?? 'none'}, in ${codecIn ?? 'none'}`, reason: 'check_failed' };
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
  }
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
