import { describe, expect, it } from 'vitest';
import { parseSippStats } from './sipp.js';
import { sippEchoScenarioXml } from './sippEchoScenario.js';
import { paddingLines, sippUacCallScenario } from './sippUacScenario.js';

describe('parseSippStats', () => {
  it('reads the cumulative successful and failed calls of the last row', () => {
    const csv = [
      'StartTime;CurrentTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);',
      '2026-11-23\t08:16:21.4;x;0;0;0;0;',
      '2026-11-23\t08:16:22.4;x;1;3;0;2;',
    ].join('\n');
    expect(parseSippStats(csv)).toEqual({ successful: 3, failed: 2 });
  });

  it('gives zeros for an empty or missing file body', () => {
    expect(parseSippStats('')).toEqual({ successful: 0, failed: 0 });
  });
});

describe('SIPp scenarios', () => {
  it('echo: every jump goes to a label that exists', () => {
    const xml = sippEchoScenarioXml();
    const labels = new Set([...xml.matchAll(/<label id="([^"]+)"/g)].map((m) => m[1]));
    const targets = [...xml.matchAll(/next="([^"]+)"/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(5);
    for (const target of targets) expect(labels.has(target), target).toBe(true);
  });

  it('uac: pads the SDP to the asked size for MTU tests', () => {
    const plain = sippUacCallScenario();
    const padded = sippUacCallScenario({ sdpPaddingBytes: 1500 });
    expect(padded.length - plain.length).toBeGreaterThanOrEqual(1500);
    expect(padded).toContain('INVITE sip:[service]@[domain] SIP/2.0');
  });

  it('uac: padding lines come to exactly the bytes asked for, CRLFs included', () => {
    for (const bytes of [30, 89, 90, 91, 119, 120, 121, 400, 1234, 3999]) {
      const lines = paddingLines(bytes);
      expect(lines.reduce((sum, line) => sum + line.length + 2, 0), String(bytes)).toBe(bytes);
      for (const line of lines) expect(line).toMatch(/^a=x-callwright-padding:\d{4}-p*$/);
    }
    expect(paddingLines(29)).toEqual([]);
  });
});
