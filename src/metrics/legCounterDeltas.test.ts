import { describe, expect, it } from 'vitest';
import type { LegSample } from '../results.js';
import { LegCounterDeltas } from './legCounterDeltas.js';

const sample = (callId: string, legId: string, packetsReceived: number, packetsLost = 0): LegSample => ({
  atMs: 0,
  scenario: 's',
  callId,
  legId,
  role: 'alice',
  direction: 'outgoing',
  packetsReceived,
  packetsSent: packetsReceived,
  bytesReceived: packetsReceived * 80,
  bytesSent: packetsReceived * 80,
  packetsLost,
  inPacketRate: 0,
  outPacketRate: 0,
});

describe('LegCounterDeltas', () => {
  it('turns cumulative counters into increments per leg', () => {
    const deltas = new LegCounterDeltas();
    expect(deltas.take(sample('0.main', 'a', 50)).packetsReceived).toBe(50);
    expect(deltas.take(sample('0.main', 'b', 20)).packetsReceived).toBe(20);
    expect(deltas.take(sample('0.main', 'a', 120))).toEqual({ packetsReceived: 70, packetsSent: 70, bytesReceived: 5600, bytesSent: 5600, packetsLost: 0, videoFreezes: 0, videoFreezeSeconds: 0 });
    expect(deltas.take(sample('0.main', 'a', 120)).packetsReceived).toBe(0);
  });

  it('treats a counter that went down as a new stream counting from zero', () => {
    const deltas = new LegCounterDeltas();
    deltas.take(sample('0.main', 'a', 500));
    expect(deltas.take(sample('0.main', 'a', 30)).packetsReceived).toBe(30);
    expect(deltas.take(sample('0.main', 'a', 40)).packetsReceived).toBe(10);
  });

  it('counts lost packets only past their highest value (RTCP loss counts may dip)', () => {
    const deltas = new LegCounterDeltas();
    expect(deltas.take(sample('0.main', 'a', 10, 5)).packetsLost).toBe(5);
    expect(deltas.take(sample('0.main', 'a', 20, 3)).packetsLost).toBe(0);
    expect(deltas.take(sample('0.main', 'a', 30, 7)).packetsLost).toBe(2);
  });

  it('ignores broken readings instead of counting them', () => {
    const deltas = new LegCounterDeltas();
    deltas.take(sample('0.main', 'a', 100));
    expect(deltas.take(sample('0.main', 'a', Number.NaN)).packetsReceived).toBe(0);
    expect(deltas.take(sample('0.main', 'a', 110)).packetsReceived).toBe(10);
  });

  it('drops the legs of an ended call, yet counts a late sample of it as an increment', () => {
    const deltas = new LegCounterDeltas();
    deltas.take(sample('0.main', 'a', 100));
    deltas.take(sample('0.main', 'b', 100));
    expect(deltas.runningLegCount).toBe(2);
    deltas.endCall('0.main');
    expect(deltas.runningLegCount).toBe(0);
    expect(deltas.take(sample('0.main', 'a', 105)).packetsReceived).toBe(5);
    expect(deltas.runningLegCount).toBe(0);
  });

  it('keeps a leg\'s baseline when the leg learns its call id after its first samples', () => {
    const deltas = new LegCounterDeltas();
    expect(deltas.take(sample('', 'a', 40)).packetsReceived).toBe(40);
    expect(deltas.take(sample('0.main', 'a', 100)).packetsReceived).toBe(60);
    deltas.endCall('0.main');
    expect(deltas.runningLegCount).toBe(0);
  });

  it('remembers only a bounded number of ended legs', () => {
    const deltas = new LegCounterDeltas(2);
    for (const callId of ['0.main', '1.main', '2.main']) {
      deltas.take(sample(callId, `${callId}-leg`, 100));
      deltas.endCall(callId);
    }
    // 0.main was forgotten: its leg counts from zero again; 2.main was not.
    expect(deltas.take(sample('0.main', '0.main-leg', 100)).packetsReceived).toBe(100);
    expect(deltas.take(sample('2.main', '2.main-leg', 100)).packetsReceived).toBe(0);
  });
});
