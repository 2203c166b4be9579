import { describe, expect, it } from 'vitest';
import type { MediaSample } from '../protocol/events.js';
import { CallState, callStateOf } from './callState.js';
import { LegRecord } from './legRecord.js';

const T0 = 1_700_000_000_000;

function leg(): LegRecord {
  return new LegRecord('1.main.alice', 'alice#0', 'alice', 'outgoing');
}

/** Cumulative audio counters at `atMs`: received packets (and energy when given), sent packets. */
function audio(packetsIn: number, packetsOut: number, energy?: number): MediaSample {
  return {
    audioIn: { codec: 'opus', packetsReceived: packetsIn, bytesReceived: packetsIn * 100, packetsLost: 0, jitterSeconds: 0.002, ...(energy === undefined ? {} : { totalAudioEnergy: energy, totalSamplesReceived: packetsIn * 960, concealedSamples: packetsIn * 48 }) },
    audioOut: { codec: 'opus', packetsSent: packetsOut, bytesSent: packetsOut * 100 },
  };
}

function stats(record: LegRecord, atMs: number, sample: MediaSample): void {
  record.addStats({ type: 'stats', legId: record.legId, atMs, sample });
}

describe('callStateOf: the call state from the caller leg', () => {
  it('created -> calling -> ringing -> established -> ended', () => {
    const record = leg();
    expect(callStateOf(record)).toBe(CallState.created);
    record.inviteSentAtMs = T0;
    expect(callStateOf(record)).toBe(CallState.calling);
    record.firstProgressAtMs = T0 + 100;
    expect(callStateOf(record)).toBe(CallState.ringing);
    record.establishedAtMs = T0 + 300;
    expect(callStateOf(record)).toBe(CallState.established);
    record.endedAtMs = T0 + 5000;
    expect(callStateOf(record)).toBe(CallState.ended);
  });

  it('a call that ends before it was established failed, from any state before', () => {
    for (const before of ['created', 'calling', 'ringing'] as const) {
      const record = leg();
      if (before !== 'created') record.inviteSentAtMs = T0;
      if (before === 'ringing') record.firstProgressAtMs = T0 + 100;
      record.endCause = { kind: 'sipStatus', status: 486 };
      record.endedAtMs = T0 + 200;
      expect(callStateOf(record), before).toBe(CallState.failed);
      expect(record.sipStatus).toBe(486);
    }
  });
});

describe('LegRecord media rates', () => {
  it('rates over the interval between two cumulative samples, per second', () => {
    const record = leg();
    stats(record, T0, audio(0, 0, 0));
    expect(record.rates).toBeUndefined(); // not established: no baseline for the first sample
    stats(record, T0 + 2000, audio(100, 120, 0.5));
    expect(record.rates).toEqual({
      atMs: T0 + 2000,
      inAudioPacketRate: 50,
      outAudioPacketRate: 60,
      inVideoFrameRate: 0,
      outVideoPacketRate: 0,
      inAudioEnergyRate: 0.25,
      concealedRatio: 0.05,
    });
    // Counters that go down (a new stream after a re-INVITE) give 0, never a negative rate.
    stats(record, T0 + 3000, audio(10, 130));
    expect(record.rates).toMatchObject({ inAudioPacketRate: 0, outAudioPacketRate: 10, inAudioEnergyRate: undefined, concealedRatio: undefined });
  });

  it('the first sample gives rates against zero when it comes at least 500 ms after the call came up, not sooner', () => {
    const early = leg();
    early.establishedAtMs = T0;
    stats(early, T0 + 400, audio(20, 20));
    expect(early.rates).toBeUndefined();
    const late = leg();
    late.establishedAtMs = T0;
    stats(late, T0 + 1000, audio(50, 50));
    expect(late.rates).toMatchObject({ atMs: T0 + 1000, inAudioPacketRate: 50, outAudioPacketRate: 50 });
  });

  it('notes the first sample that shows audio sent, and keeps the selected candidate pair from the sample that had it', () => {
    const record = leg();
    stats(record, T0, audio(0, 0));
    expect(record.firstAudioSentAtMs).toBeUndefined();
    const pair = { local: { type: 'host', protocol: 'udp', address: '127.0.0.1', port: 50000 }, remote: { type: 'host', protocol: 'udp', address: '127.0.0.1', port: 50002 } };
    stats(record, T0 + 1000, { ...audio(10, 10), selectedPair: pair });
    stats(record, T0 + 2000, audio(60, 60));
    expect(record.firstAudioSentAtMs).toBe(T0 + 1000);
    expect(record.selectedPair).toEqual(pair);
    expect(record.lastSample()).toEqual(audio(60, 60));
  });
});

describe('LegRecord audio interruptions', () => {
  /** Samples every second from T0: packets at 50/s while `flowing(second)`, energy 0.01/s while loud. */
  function feed(record: LegRecord, seconds: number, flowing: (s: number) => boolean, loud: (s: number) => boolean = () => true): void {
    let packets = 0;
    let energy = 0;
    for (let s = 0; s <= seconds; s++) {
      if (s > 0 && flowing(s)) {
        packets += 50;
        if (loud(s)) energy += 0.01;
      }
      stats(record, T0 + s * 1000, audio(packets, s * 50, energy));
    }
  }

  it('received audio that stops after it flowed: the start of the first interval without packets', () => {
    const record = leg();
    feed(record, 6, (s) => s <= 3 || s >= 6);
    expect(record.audioFlowed).toBe(true);
    expect(record.audioStoppedAtMs).toBe(T0 + 3000);
    expect(record.audioSilentAtMs).toBeUndefined();
  });

  it('packets that keep coming but carry silence: silent, not stopped', () => {
    const record = leg();
    feed(record, 5, () => true, (s) => s <= 2);
    expect(record.audioSilentAtMs).toBe(T0 + 2000);
    expect(record.audioStoppedAtMs).toBeUndefined();
  });

  it('audio that never flowed is not an interruption; silence from the start does not count as flowing', () => {
    const never = leg();
    feed(never, 4, () => false);
    expect([never.audioFlowed, never.audioStoppedAtMs, never.audioSilentAtMs]).toEqual([false, undefined, undefined]);
    const silentFromStart = leg();
    feed(silentFromStart, 4, () => true, () => false);
    expect([silentFromStart.audioFlowed, silentFromStart.audioSilentAtMs]).toEqual([false, undefined]);
  });

  it('no interruption while on hold at either end, nor in the half second after a hold change', () => {
    const held = leg();
    held.held = true;
    feed(held, 6, (s) => s <= 3);
    expect(held.audioStoppedAtMs).toBeUndefined();
    const farEndHeld = leg();
    farEndHeld.farEndHeld = true;
    feed(farEndHeld, 6, (s) => s <= 3);
    expect(farEndHeld.audioStoppedAtMs).toBeUndefined();
    // Unheld at 3.8 s: intervals starting before 4.3 s (3..4 s, 4..5 s) are media settling; 5..6 s is judged.
    const resumed = leg();
    resumed.lastHoldChangeAtMs = T0 + 3800;
    feed(resumed, 6, (s) => s <= 3 || s === 6);
    expect(resumed.audioStoppedAtMs).toBeUndefined();
    const stillStopped = leg();
    stillStopped.lastHoldChangeAtMs = T0 + 3800;
    feed(stillStopped, 6, (s) => s <= 3);
    expect(stillStopped.audioStoppedAtMs).toBe(T0 + 5000);
  });

  it('judges whole intervals only: a short one without packets is not a stop', () => {
    const record = leg();
    let packets = 0;
    for (const [atMs, added] of [[0, 0], [1000, 50], [2000, 50], [2300, 0], [3000, 35]] as const) {
      packets += added;
      stats(record, T0 + atMs, audio(packets, 0));
    }
    expect(record.audioFlowed).toBe(true);
    expect(record.audioStoppedAtMs).toBeUndefined();
  });
});

describe('LegRecord transport timeline', () => {
  it('the last state of a layer, and when a layer first reached a state', () => {
    const record = leg();
    record.transport.push(
      { layer: 'ice', state: 'checking', atMs: T0 + 10 },
      { layer: 'ice', state: 'connected', atMs: T0 + 40 },
      { layer: 'dtls', state: 'connected', atMs: T0 + 60 },
      { layer: 'ice', state: 'disconnected', atMs: T0 + 9000 },
      { layer: 'ice', state: 'connected', atMs: T0 + 9500 },
    );
    expect(record.transportState('ice')).toBe('connected');
    expect(record.transportState('connection')).toBeUndefined();
    expect(record.reachedAtMs('ice', 'connected')).toBe(T0 + 40);
    expect(record.reachedAtMs('ice', 'failed')).toBeUndefined();
  });
});
