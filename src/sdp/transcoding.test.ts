import { describe, expect, it } from 'vitest';
import { codecWays, TRANSCODING_UNKNOWN, transcodedColumn, transcodedPairs, wayVerdict } from './transcoding.js';

const alice = (codecs: object) => ({ role: 'alice', codecs });
const bob = (codecs: object) => ({ role: 'bob', codecs });

describe('codecWays', () => {
  it('pairs what each end encodes with what the other decodes, per kind, caller to callee first', () => {
    expect(codecWays(alice({ audioOut: 'opus', audioIn: 'opus', videoOut: 'VP8' }), bob({ audioOut: 'PCMU', audioIn: 'PCMU', videoIn: 'VP8' }))).toEqual([
      { media: 'audio', from: 'alice', to: 'bob', sent: 'opus', received: 'PCMU' },
      { media: 'audio', from: 'bob', to: 'alice', sent: 'PCMU', received: 'opus' },
      { media: 'video', from: 'alice', to: 'bob', sent: 'VP8', received: 'VP8' },
    ]);
  });
});

describe('wayVerdict', () => {
  it('compares names in any case; an unknown side or a codec riding along (red, rtx) is no evidence', () => {
    expect(wayVerdict({ media: 'audio', from: 'a', to: 'b', sent: 'opus', received: 'OPUS' })).toBe('same');
    expect(wayVerdict({ media: 'video', from: 'a', to: 'b', sent: 'H264', received: 'VP8' })).toBe('transcoded');
    expect(wayVerdict({ media: 'audio', from: 'a', to: 'b', sent: 'opus' })).toBe('unobserved');
    expect(wayVerdict({ media: 'audio', from: 'a', to: 'b', sent: 'red', received: 'opus' })).toBe('unobserved');
    expect(wayVerdict({ media: 'video', from: 'a', to: 'b', sent: 'VP8', received: 'rtx' })).toBe('unobserved');
  });
});

describe('transcodedColumn and transcodedPairs', () => {
  it('names the transcoded ways, is empty when ways were seen and none was, unknown when none was seen', () => {
    const transcoded = codecWays(alice({ audioOut: 'opus', audioIn: 'opus' }), bob({ audioOut: 'PCMU', audioIn: 'PCMU' }));
    expect(transcodedColumn(transcoded)).toBe('audio opus->PCMU; audio PCMU->opus');
    expect(transcodedColumn(codecWays(alice({ audioOut: 'opus', audioIn: 'opus' }), bob({ audioOut: 'opus', audioIn: 'opus' })))).toBe('');
    // Only one way seen, and it was not transcoded: that is what can be said.
    expect(transcodedColumn(codecWays(alice({ audioOut: 'opus' }), bob({ audioIn: 'opus', audioOut: 'opus' })))).toBe('');
    expect(transcodedColumn(codecWays(alice({ audioOut: 'opus' }), bob({})))).toBe(TRANSCODING_UNKNOWN);
    // A call with one callwright leg (a SIP device at the far end).
    expect(transcodedColumn(undefined)).toBe('unknown');
    expect(transcodedPairs('audio opus->PCMU; audio PCMU->opus')).toEqual(['audio opus->PCMU', 'audio PCMU->opus']);
    expect(transcodedPairs('')).toEqual([]);
    expect(transcodedPairs('unknown')).toEqual([]);
    expect(transcodedPairs(undefined)).toEqual([]);
  });
});
