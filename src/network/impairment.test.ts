import { describe, expect, it } from 'vitest';
import { NETWORK_PRESETS } from '../scenario/networkPresets.js';
import type { NetworkProfile } from '../scenario/types.js';
import { describeProfile, impairerLine, rateLimitArgs } from './impairment.js';

const none = { lossPercent: 0, lossBurst: 1, delayMs: 0, jitterMs: 0, reorderPercent: 0 };
const profile: NetworkProfile = {
  name: 'mixed',
  up: { lossPercent: 5, lossBurst: 3, delayMs: 100, jitterMs: 20, reorderPercent: 1, rateKbit: 384 },
  down: none,
};

describe('impairment: what the impairer and tc are told', () => {
  it('gives the impairer both directions with every field, so a switch replaces all of the last profile', () => {
    const line = impairerLine(profile);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      up: { lossPct: 5, burst: 3, delayMs: 100, jitterMs: 20, reorderPct: 1 },
      down: { lossPct: 0, burst: 1, delayMs: 0, jitterMs: 0, reorderPct: 0 },
    });
  });

  it('limits the rate with tbf: a bucket of at least one full packet or 10 ms at the rate, 200 ms of queue', () => {
    expect(rateLimitArgs('veth0', 384)).toEqual(['qdisc', 'replace', 'dev', 'veth0', 'root', 'tbf', 'rate', '384kbit', 'burst', '1600', 'latency', '200ms']);
    // 10 Mbit/s: 10 ms is 12500 bytes.
    expect(rateLimitArgs('veth0', 10_000)).toContain('12500');
    // No rate (or a switch to a profile without one): the limit goes.
    expect(rateLimitArgs('veth0', undefined)).toEqual(['qdisc', 'del', 'dev', 'veth0', 'root']);
    expect(rateLimitArgs('veth0', 0)).toEqual(['qdisc', 'del', 'dev', 'veth0', 'root']);
  });

  it('describes a profile in a line for logs and summary.json', () => {
    expect(describeProfile(profile)).toBe('up loss 5% (bursts of 3) delay 100ms jitter 20ms reorder 1% rate 384kbit; down clean');
    expect(describeProfile(NETWORK_PRESETS['clean']!)).toBe('up clean; down clean');
  });
});
