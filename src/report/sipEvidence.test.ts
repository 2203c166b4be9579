import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../../test/unit/syntheticRun.js';
import type { CallResult, LegResult, RunEvent } from '../results.js';
import { createReporters } from './index.js';
import { evidencePath, keepsEvidence, redactSip, SipEvidenceReporter, withoutMissingEvidence } from './sipEvidence.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-sip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const newOutDir = () => {
  const dir = join(root, `out${++folders}`);
  mkdirSync(dir);
  return dir;
};

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const PASSWORD = 'hunter2-Secret';
const RESPONSE_HASH = '6629fae49393a05397450978507c4ef1';

function sip(agentId: string, sipCallId: string, atMs: number, sent: boolean, raw: string): RunEvent {
  return { type: 'sipMessage', atMs, scenario: 'smoke', agentId, sipCallId, sent, raw };
}

function leg(agentId: string, sipCallId: string, role: string, overrides: Partial<LegResult> = {}): LegResult {
  return { callId: '1.main', legId: `${role}-leg`, role, agentId, direction: role === 'alice' ? 'outgoing' : 'incoming', sipCallId, transportTimeline: 'ice:checking@+0.01;ice:failed@+5.2', ...overrides };
}

const RINGING = 'SIP/2.0 180 Ringing\r\nCall-ID: c1\r\n\r\n';
const invite = (extra = '') => `INVITE sip:bob@lab.test SIP/2.0\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\n${extra}Content-Length: 0\r\n\r\n`;

function failedCall(overrides: Partial<CallResult> = {}): CallResult {
  return call({
    iteration: 1,
    result: 'failed',
    failureReason: 'no_media',
    failureDetail: 'no packets in 5 s',
    legs: [leg('p1/a1', 'c1', 'alice', { lastStats: { packetsReceived: 0, packetsSent: 0 } }), leg('p2/b1', 'c1', 'bob')],
    ...overrides,
  });
}

describe('SipEvidenceReporter', () => {
  it('merges the messages of both legs of a failed call in time order, with the legs\u2019 timelines and last stats', () => {
    const outDir = newOutDir();
    const reporter = new SipEvidenceReporter(outDir);
    reporter.onBegin();
    reporter.onEvent(sip('p1/a1', 'c1', T0 + 10, true, invite()));
    reporter.onEvent(sip('p2/b1', 'c1', T0 + 12, false, invite()));
    reporter.onEvent(sip('p2/b1', 'c1', T0 + 13, true, RINGING));
    reporter.onEvent(sip('p1/a1', 'c1', T0 + 15, false, RINGING));
    reporter.onEvent(sip('p9/z9', 'other', T0 + 14, true, 'OPTIONS-like noise of another call'));
    reporter.onCallEnd(failedCall());

    const text = readFileSync(join(outDir, 'sip', '1.main.log'), 'utf8');
    expect(text).toMatch(/^call: +1\.main\nscenario: +smoke\nresult: +failed \(no_media\)\ndetail: +no packets in 5 s\nfrom: +sip:alice@lab\.test\nto: +sip:bob@lab\.test\n/);
    const markers = [...text.matchAll(/^--- (\S+) (\S+) (sent|received) \((\d+) bytes\) ---$/gm)].map((match) => `${match[1]} ${match[2]} ${match[3]} ${match[4]}`);
    expect(markers).toEqual([
      `2025-03-01T10:00:00.010Z p1/a1 sent ${invite().length}`,
      `2025-03-01T10:00:00.012Z p2/b1 received ${invite().length}`,
      `2025-03-01T10:00:00.013Z p2/b1 sent ${RINGING.length}`,
      `2025-03-01T10:00:00.015Z p1/a1 received ${RINGING.length}`,
    ]);
    expect(text).not.toContain('noise of another call');
    expect(text).toContain('--- leg alice-leg (alice, outgoing, agent p1/a1) ---');
    expect(text).toContain('"transportTimeline": "ice:checking@+0.01;ice:failed@+5.2"');
    expect(text).toContain('lastStats:\n{\n  "packetsReceived": 0,');
    // The call's buffers are gone; a late message for it starts none.
    expect(reporter.bufferedLegs).toBe(1);
    reporter.onEvent(sip('p1/a1', 'c1', T0 + 20, false, 'SIP/2.0 200 OK\r\nCSeq: 3 BYE\r\n\r\n'));
    expect(reporter.bufferedLegs).toBe(1);
  });

  it('redacts credentials that reach it unredacted: authorization headers, digest response, known passwords', () => {
    const outDir = newOutDir();
    const reporter = new SipEvidenceReporter(outDir, { secrets: [PASSWORD] });
    reporter.onBegin();
    const credentials =
      `Authorization: Digest username="alice", realm="lab.test", nonce="abc", uri="sip:bob@lab.test",\r\n response="${RESPONSE_HASH}", algorithm=MD5\r\n` +
      `proxy-authorization: Digest username="alice", response="${RESPONSE_HASH}"\r\n` +
      `X-Debug: response=${RESPONSE_HASH}; pw=${PASSWORD}\r\n`;
    reporter.onEvent(sip('p1/a1', 'c1', T0 + 10, true, invite(credentials)));
    reporter.onCallEnd(failedCall({ failureDetail: `rejected for ${PASSWORD}` }));

    const text = readFileSync(join(outDir, evidencePath('1.main')), 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(RESPONSE_HASH);
    expect(text).not.toContain('nonce="abc"');
    expect(text).toContain(
      'Authorization: Digest username="alice", [redacted]\r\nproxy-authorization: Digest username="alice", [redacted]\r\nX-Debug: response="[redacted]"; pw=[redacted]\r\n',
    );
    expect(text).toContain('CSeq: 2 INVITE\r\n'); // the rest stays as the wire had it
  });

  it('writes nothing for a successful call at sample 0, and the same sampled calls on every run', () => {
    const outDir = newOutDir();
    const unsampled = new SipEvidenceReporter(outDir);
    unsampled.onBegin();
    unsampled.onEvent(sip('p1/a1', 'c1', T0, true, invite()));
    unsampled.onCallEnd(failedCall({ result: 'success', failureReason: undefined }));
    expect(existsSync(join(outDir, 'sip'))).toBe(false);
    expect(unsampled.bufferedLegs).toBe(0); // dropped although not written

    const ids = Array.from({ length: 1000 }, (_, index) => `${index + 1}.main`);
    const picked = ids.filter((callId) => keepsEvidence({ callId, result: 'success', failureExpected: false }, 0.1));
    expect(picked.length).toBeGreaterThan(70);
    expect(picked.length).toBeLessThan(130);
    expect(ids.filter((callId) => keepsEvidence({ callId, result: 'success', failureExpected: false }, 0.1))).toEqual(picked);

    const sampled = new SipEvidenceReporter(outDir, { sampleSuccessful: 0.1 });
    const [first] = picked;
    sampled.onCallEnd(call({ iteration: Number(first!.split('.')[0]), legs: [] }));
    expect(readdirSync(join(outDir, 'sip'))).toEqual([`${first}.log`]);
  });

  it('keeps unexpected failures, samples expected ones like successes, never keeps dropped or interrupted calls', () => {
    const base = { callId: '7.main', result: 'failed' as const, failureExpected: false };
    expect(keepsEvidence(base, 0)).toBe(true);
    expect(keepsEvidence({ ...base, failureExpected: true }, 0)).toBe(false);
    expect(keepsEvidence({ ...base, failureExpected: true }, 1)).toBe(true);
    expect(keepsEvidence({ ...base, failureReason: 'dropped' }, 1)).toBe(false);
    expect(keepsEvidence({ ...base, failureReason: 'interrupted' }, 1)).toBe(false);
  });

  it('writes at most maxFiles files and says how many it skipped', () => {
    const outDir = newOutDir();
    const warnings: string[] = [];
    const reporter = new SipEvidenceReporter(outDir, { maxFiles: 2, warn: (message) => warnings.push(message) });
    reporter.onBegin();
    for (let iteration = 1; iteration <= 5; iteration++) reporter.onCallEnd(failedCall({ callId: `${iteration}.main`, iteration }));
    reporter.onEnd();
    expect(readdirSync(join(outDir, 'sip')).sort()).toEqual(['1.main.log', '2.main.log']);
    expect({ written: reporter.written, skipped: reporter.skipped }).toEqual({ written: 2, skipped: 3 });
    expect(warnings).toEqual(['SIP evidence: 3 call(s) not written, the limit of 2 files was reached (calls.csv still names their files)']);
  });

  it('stays bounded in memory: legs of calls that never end are dropped, oldest first, by size and by idle time', () => {
    const reporter = new SipEvidenceReporter(newOutDir(), { limits: { totalChars: 10_000, idleMs: 60_000, messagesPerLeg: 4 } });
    const message = 'x'.repeat(100);
    for (let index = 0; index < 1000; index++) reporter.onEvent(sip(`a${index}`, `never-ended-${index}`, T0 + index, true, message));
    expect(reporter.bufferedChars).toBeLessThanOrEqual(10_000);
    expect(reporter.bufferedLegs).toBe(100);
    expect(reporter.evictedLegs).toBe(900);

    // One leg talking forever keeps its first and last messages only.
    for (let index = 0; index < 50; index++) reporter.onEvent(sip('chatty', 'c', T0 + 2000 + index, true, message));
    expect(reporter.bufferedChars).toBeLessThanOrEqual(10_000);

    // Ten minutes of silence from the rest: only the leg still talking is kept.
    reporter.onEvent(sip('chatty', 'c', T0 + 2000 + 61_000, true, message));
    expect(reporter.bufferedLegs).toBe(1);
    expect(reporter.bufferedChars).toBe(400);
  });

  it('notes messages omitted from the middle of a long leg', () => {
    const outDir = newOutDir();
    const reporter = new SipEvidenceReporter(outDir, { limits: { messagesPerLeg: 4 } });
    for (let index = 0; index < 10; index++) reporter.onEvent(sip('p1/a1', 'c1', T0 + index, true, `MESSAGE ${index}\r\n\r\n`));
    reporter.onCallEnd(failedCall({ legs: [leg('p1/a1', 'c1', 'alice')] }));
    const text = readFileSync(join(outDir, evidencePath('1.main')), 'utf8');
    expect([...text.matchAll(/^MESSAGE (\d)/gm)].map((match) => match[1])).toEqual(['0', '1', '8', '9']);
    expect(text).toContain('leg:       p1/a1 c1: 4 message(s), 6 more omitted from the middle');
  });

  it('clears the sip folder an earlier run left in the same --out', () => {
    const outDir = newOutDir();
    mkdirSync(join(outDir, 'sip'));
    writeFileSync(join(outDir, 'sip', '9.old.log'), 'old');
    new SipEvidenceReporter(outDir).onBegin();
    expect(existsSync(join(outDir, 'sip'))).toBe(false);
  });
});

describe('evidencePath', () => {
  it('is the call id when file-safe, and never lets two ids share a file or leave the folder', () => {
    expect(evidencePath('3.c1')).toBe('sip/3.c1.log');
    const odd = ['../../etc/passwd', '3.a b', '3.a_b', '3.a/b'].map(evidencePath);
    expect(new Set(odd).size).toBe(4);
    for (const path of odd) expect(path).toMatch(/^sip\/[A-Za-z0-9_.~-]+\.log$/);
    expect(odd[0]).not.toMatch(/^sip\/\./);
  });
});

describe('redactSip', () => {
  it('leaves a message without credentials alone', () => {
    expect(redactSip(invite())).toBe(invite());
  });

  it('reads the same after a second pass, as after the page\u2019s own redaction', () => {
    const once = redactSip(invite(`Authorization: Digest username="alice", realm="x", response="${RESPONSE_HASH}"\r\n`));
    expect(once).toContain('Authorization: Digest username="alice", [redacted]\r\n');
    expect(redactSip(once)).toBe(once);
  });
});

describe('withoutMissingEvidence', () => {
  it('drops the link of a failed call whose file is not there', () => {
    const outDir = newOutDir();
    mkdirSync(join(outDir, 'sip'));
    writeFileSync(join(outDir, 'sip', '1.main.log'), '');
    const [kept, missing] = withoutMissingEvidence(outDir, [failedCall({ evidence: 'sip/1.main.log' }), failedCall({ callId: '2.main', evidence: 'sip/2.main.log' })]);
    expect(kept!.evidence).toBe('sip/1.main.log');
    expect(missing!.evidence).toBeUndefined();
  });
});

describe('createReporters with SIP evidence', () => {
  it('tells the runner which calls get a log, and rejects a sample that is not a fraction before anything is written', async () => {
    const reporters = await createReporters(newOutDir(), { warn: () => undefined, evidence: { sampleSuccessful: 0 } });
    try {
      expect(reporters.evidenceFor(failedCall())).toBe('sip/1.main.log');
      expect(reporters.evidenceFor(call({ iteration: 2 }))).toBeUndefined();
    } finally {
      await reporters.close();
    }
    const outDir = join(root, 'never-made');
    await expect(createReporters(outDir, { warn: () => undefined, evidence: { sampleSuccessful: 5 } })).rejects.toMatchObject({ exitCode: 2 });
    expect(existsSync(outDir)).toBe(false);
  });
});
