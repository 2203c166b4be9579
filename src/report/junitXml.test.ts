import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { evaluateThresholds } from '../verdict/evaluate.js';
import { parseThresholds } from '../verdict/parseThresholds.js';
import { renderJunitXml, writeJunitXml } from './junitXml.js';

const SCHEMA = resolve(import.meta.dirname, '../../test/unit/schemas/junit-10.xsd');
const XMLLINT_MISSING = 'xmllint is not installed (Debian package libxml2-utils): the JUnit schema check cannot run';
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

const folder = mkdtempSync(join(tmpdir(), 'callwright-junit-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** xmllint's verdict on a file: exit 0 and "validates" when the schema accepts it. */
function validate(path: string): { ok: boolean; output: string } {
  const result = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, path], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function failingRun() {
  const run = syntheticRun({ count: 20, failed: ['sip_status', 'timeout'] });
  // Far ends say anything: markup, quotes, control characters, a lone surrogate, emoji.
  run.steps.push({ ...run.steps[0]!, iteration: 21, index: 5, name: 'expect message "<hi & bye>"', kind: 'expect', ok: false, failureReason: 'check_failed', detail: 'got "]]> \u0001\u0007 \uD800 😀\nline two' });
  const thresholds = evaluateThresholds(
    parseThresholds({ call_success: ['rate>=0.99'], setup_time: ['p(95)<2s'], 'step_success{step:register alice, bob}': ['rate==1'] }, 'test'),
    { calls: run.calls, steps: run.steps, summary: run.summary },
  );
  return { ...run, thresholds };
}

describe('renderJunitXml', () => {
  it('passes the JUnit schema used by Jenkins and GitLab', async (context) => {
    if (!hasXmllint) return context.skip(XMLLINT_MISSING);
    const run = failingRun();
    const path = await writeJunitXml(folder, { ...run, hostname: 'ci-runner' });
    const verdict = validate(path);
    expect(verdict.output).toContain('validates');
    expect(verdict.ok).toBe(true);
  });

  it('is checked by a schema that rejects what CI would reject', (context) => {
    if (!hasXmllint) return context.skip(XMLLINT_MISSING);
    const bad = join(folder, 'bad.xml');
    writeFileSync(bad, '<testsuites><testsuite name="x" tests="1"><testcase/></testsuite></testsuites>');
    const verdict = validate(bad);
    expect(verdict.ok).toBe(false);
    expect(verdict.output).toMatch(/failures|errors|name/);
  });

  it('has a testcase per step, the calls, the run and each threshold, failures carrying SIP status and reason', () => {
    const run = failingRun();
    const xml = renderJunitXml({ ...run, hostname: 'ci-runner' });
    expect(xml).toContain('<testsuite name="smoke" tests="10" failures="4" errors="0"');
    const caseNames = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((match) => `${match[1]} | ${match[2]}`);
    expect(caseNames).toEqual([
      'smoke.steps | register alice, bob',
      'smoke.steps | call alice-&gt;bob',
      'smoke.steps | dtmf 123# from alice (rfc4733)',
      'smoke.steps | hangup alice',
      'smoke.steps | expect message &quot;&lt;hi &amp; bye&gt;&quot;',
      'smoke.calls | calls',
      'smoke.run | run',
      'smoke.thresholds | call_success rate&gt;=0.99',
      'smoke.thresholds | setup_time p(95)&lt;2s',
      'smoke.thresholds | step_success{step:register alice, bob} rate==1',
    ]);
    expect(xml).toContain(
      '<failure type="sip_status" message="2 of 20 iterations failed (sip_status 1, timeout 1); first: #19 sip_status (SIP 486): expected 200, got 486 &quot;Busy Here&quot; &lt;&amp;&gt;">',
    );
    expect(xml).toContain('<failure type="threshold" message="rate=90%, limit &gt;=99%: under by 9%">');
    expect(xml).toContain('message="2 of 20 calls failed (sip_status 1, timeout 1); first: 19.main sip_status (SIP 486)');
    // Characters XML cannot carry are replaced, markup is escaped, line breaks in attributes kept.
    expect(xml).toContain('got &quot;]]&gt; \uFFFD\uFFFD \uFFFD 😀&#10;line two');
    expect(xml).not.toMatch(/[\u0001\u0007]/);
  });

  it('marks an interrupted run as an error', () => {
    const run = syntheticRun({ count: 3 });
    const xml = renderJunitXml({ ...run, summary: { ...run.summary, interrupted: true }, hostname: 'h' });
    expect(xml).toContain('<error type="interrupted" message="the run was stopped after 3 of 3 iterations"/>');
    expect(xml).toMatch(/<testsuites name="callwright" tests="\d+" failures="0" errors="1"/);
  });

  it('names a failed call\u2019s SIP log in the failure text, when the file is there', async () => {
    const run = syntheticRun({ count: 20, failed: ['sip_status', 'timeout'] });
    run.calls[18]!.evidence = 'sip/19.main.log';
    run.calls[19]!.evidence = 'sip/20.main.log'; // never written (maxFiles reached)
    const xml = renderJunitXml({ ...run, hostname: 'h' });
    expect(xml).toContain('message="2 of 20 calls failed (sip_status 1, timeout 1); first: 19.main sip_status (SIP 486): expected 200, got 486 &quot;Busy Here&quot; [SIP log: sip/19.main.log]"');

    const outDir = join(folder, 'with-evidence');
    mkdirSync(join(outDir, 'sip'), { recursive: true });
    writeFileSync(join(outDir, 'sip', '19.main.log'), '');
    const written = readFileSync(await writeJunitXml(outDir, { ...run, hostname: 'h' }), 'utf8');
    expect(written).toContain('[SIP log: sip/19.main.log]');
    expect(written).toContain('20.main timeout: call failed: timeout\n');
    expect(written).not.toContain('sip/20.main.log');
  });

  it('is well-formed XML by a real parser', (context) => {
    if (!hasXmllint) return context.skip(XMLLINT_MISSING);
    const path = join(folder, 'wellformed.xml');
    writeFileSync(path, renderJunitXml({ ...failingRun(), hostname: 'h' }));
    expect(() => execFileSync('xmllint', ['--noout', path], { stdio: 'pipe' })).not.toThrow();
    expect(readFileSync(path, 'utf8').startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });
});
