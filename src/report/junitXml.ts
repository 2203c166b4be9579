/**
 * `<out>/junit.xml` for CI test reporters (Jenkins, GitLab, GitHub actions
 * that read JUnit). One testsuite per scenario; in it one testcase per
 * scenario step (all iterations together), one for the calls, one for the
 * run itself, one per threshold, and for a merged run one per shard (an
 * error for a shard missing from the merge). Validated against test/unit/schemas/junit-10.xsd
 * (the Jenkins xUnit dialect, which GitLab also reads) in the tests.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CallResult, RunSummary, ShardsSummary, StepResult } from '../results.js';
import type { ThresholdResult } from '../verdict/evaluate.js';
import { verdictExitCode } from '../verdict/exitCodes.js';
import { writeFileAtomically } from '../common/atomicWrite.js';
import { withoutUrlCredentials } from '../common/redact.js';
import { missingShardReason } from './summaryTable.js';
import { withoutMissingEvidence } from './sipEvidence.js';
import { escapeXmlText, xmlAttributes } from './xml.js';

export const JUNIT_XML = 'junit.xml';

/** How many failing iterations a testcase lists in its body; the rest are in steps.csv / calls.csv. */
const LISTED_FAILURES = 20;

export interface JunitInput {
  summary: RunSummary;
  calls: readonly CallResult[];
  steps: readonly StepResult[];
  thresholds?: readonly ThresholdResult[];
  /** Defaults to this machine's name. */
  hostname?: string;
}

interface TestCase {
  classname: string;
  name: string;
  timeSeconds: number;
  failure?: { type: string; message: string; body: string };
  error?: { type: string; message: string };
  systemOut?: string;
}

export function renderJunitXml(input: JunitInput): string {
  const { summary } = input;
  const thresholds = input.thresholds ?? [];
  const scenarios = [...new Set([summary.info.scenario, ...input.steps.map((step) => step.scenario), ...input.calls.map((call) => call.scenario)])];
  const suites = scenarios.map((scenario, id) => {
    const cases = [
      ...stepCases(scenario, input.steps.filter((step) => step.scenario === scenario)),
      callsCase(scenario, input.calls.filter((call) => call.scenario === scenario)),
      ...(scenario === summary.info.scenario
        ? [runCase(scenario, summary, thresholds), ...thresholds.map((result) => thresholdCase(scenario, result)), ...(summary.shards ? shardCases(scenario, summary.shards) : [])]
        : []),
    ];
    return { scenario, id, cases };
  });

  const count = (cases: readonly TestCase[], key: 'failure' | 'error') => cases.filter((testCase) => testCase[key] !== undefined).length;
  const allCases = suites.flatMap((suite) => suite.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${xmlAttributes({ name: 'callwright', tests: allCases.length, failures: count(allCases, 'failure'), errors: count(allCases, 'error'), time: seconds(summary.durationSeconds) })}>`,
  ];
  for (const suite of suites) {
    lines.push(
      `  <testsuite${xmlAttributes({
        name: suite.scenario,
        tests: suite.cases.length,
        failures: count(suite.cases, 'failure'),
        errors: count(suite.cases, 'error'),
        skipped: 0,
        time: seconds(summary.durationSeconds),
        timestamp: new Date(summary.info.startedAtMs).toISOString().slice(0, 19),
        hostname: input.hostname ?? hostname(),
        id: suite.id,
        package: 'callwright',
      })}>`,
      '    <properties>',
      ...Object.entries({
        runId: summary.info.runId,
        scenarioFile: summary.info.scenarioFile,
        target: withoutUrlCredentials(summary.info.target.url),
        exitCode: String(verdictExitCode(summary, thresholds)),
        ...(summary.info.shard ? { shard: `${summary.info.shard.index}/${summary.info.shard.count}` } : {}),
      }).map(([name, value]) => `      <property${xmlAttributes({ name, value })}/>`),
      '    </properties>',
    );
    for (const testCase of suite.cases) lines.push(...renderCase(testCase));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

export async function writeJunitXml(outDir: string, input: JunitInput): Promise<string> {
  const path = join(outDir, JUNIT_XML);
  await writeFileAtomically(path, renderJunitXml({ ...input, calls: withoutMissingEvidence(outDir, input.calls) }));
  return path;
}

function renderCase(testCase: TestCase): string[] {
  const open = `    <testcase${xmlAttributes({ classname: testCase.classname, name: testCase.name, time: seconds(testCase.timeSeconds) })}`;
  const children: string[] = [];
  if (testCase.error) children.push(`      <error${xmlAttributes(testCase.error)}/>`);
  if (testCase.failure) {
    const { body, ...attributes } = testCase.failure;
    children.push(`      <failure${xmlAttributes(attributes)}>${escapeXmlText(body)}</failure>`);
  }
  if (testCase.systemOut) children.push(`      <system-out>${escapeXmlText(testCase.systemOut)}</system-out>`);
  return children.length === 0 ? [`${open}/>`] : [`${open}>`, ...children, '    </testcase>'];
}

/** One testcase per step of the script (by position), failing if any iteration of it failed. */
function stepCases(scenario: string, steps: readonly StepResult[]): TestCase[] {
  const byIndex = new Map<number, StepResult[]>();
  for (const step of steps) {
    const runs = byIndex.get(step.index) ?? [];
    runs.push(step);
    byIndex.set(step.index, runs);
  }
  const indexes = [...byIndex.keys()].sort((a, b) => a - b);
  const nameCounts = new Map<string, number>();
  for (const index of indexes) {
    const name = byIndex.get(index)![0]!.name;
    nameCounts.set(name, (nameCounts.get(name) ?? 0) + 1);
  }
  return indexes.map((index) => {
    const runs = byIndex.get(index)!;
    const name = runs[0]!.name;
    // Two steps may share a name (two "wait 1s"); CI tools key history by name, so keep them apart.
    const caseName = nameCounts.get(name)! > 1 ? `${name} (step ${index + 1})` : name;
    const failed = runs.filter((run) => !run.ok).sort((a, b) => a.iteration - b.iteration);
    const testCase: TestCase = { classname: `${scenario}.steps`, name: caseName, timeSeconds: sum(runs.map((run) => run.durationSeconds)) };
    if (failed.length > 0) {
      const first = failed[0]!;
      testCase.failure = {
        type: first.failureReason ?? 'failed',
        message: `${failed.length} of ${runs.length} iterations failed (${reasonCounts(failed.map((run) => run.failureReason))}); first: ${describeStepFailure(first)}`,
        body: listed(failed.map(describeStepFailure)),
      };
    }
    return testCase;
  });
}

function callsCase(scenario: string, calls: readonly CallResult[]): TestCase {
  const failed = calls.filter((call) => call.result === 'failed' && !call.failureExpected);
  const expected = calls.length - calls.filter((call) => call.result === 'success').length - failed.length;
  const testCase: TestCase = {
    classname: `${scenario}.calls`,
    name: 'calls',
    timeSeconds: sum(calls.map((call) => (call.setupSeconds ?? 0) + (call.durationSeconds ?? 0))),
    systemOut: `${calls.length} calls, ${calls.length - failed.length - expected} succeeded, ${failed.length} failed, ${expected} failed as expected`,
  };
  if (failed.length > 0) {
    testCase.failure = {
      type: failed[0]!.failureReason ?? 'failed',
      message: `${failed.length} of ${calls.length} calls failed (${reasonCounts(failed.map((call) => call.failureReason))}); first: ${describeCallFailure(failed[0]!)}`,
      body: listed(failed.map(describeCallFailure)),
    };
  }
  return testCase;
}

/** The run as a whole: an interrupted run is an error, not a pass, even with nothing failed. */
function runCase(scenario: string, summary: RunSummary, thresholds: readonly ThresholdResult[]): TestCase {
  const { iterations } = summary;
  const testCase: TestCase = {
    classname: `${scenario}.run`,
    name: 'run',
    timeSeconds: summary.durationSeconds,
    systemOut: `run ${summary.info.runId}: ${iterations.started}/${iterations.planned} iterations started, ${iterations.passed} passed, ${iterations.failed} failed, ${iterations.dropped} dropped; exit code ${verdictExitCode(summary, thresholds)}${summary.shards ? `; merged from ${summary.shards.merged.length} of ${summary.shards.count} shards` : ''}`,
  };
  if (summary.interrupted) testCase.error = { type: 'interrupted', message: `the run was stopped after ${iterations.started} of ${iterations.planned} iterations` };
  return testCase;
}

/** One testcase per shard of a merged run: passing when joined (its figures in system-out), an error when missing. */
function shardCases(scenario: string, shards: ShardsSummary): TestCase[] {
  const cases: TestCase[] = [];
  for (let index = 1; index <= shards.count; index++) {
    const testCase: TestCase = { classname: `${scenario}.shards`, name: `shard ${index}/${shards.count}`, timeSeconds: 0 };
    const joined = shards.byShard.find((shard) => shard.index === index);
    const missing = shards.missing.find((shard) => shard.index === index);
    if (joined) {
      testCase.timeSeconds = (joined.endedAtMs - joined.startedAtMs) / 1000;
      const saturation = joined.harnessSaturated ? `, harness saturated ${joined.harnessSaturatedSeconds.toFixed(0)} s` : '';
      testCase.systemOut = `${joined.folder}: exit ${joined.exitCode}, ${joined.calls} calls, ${joined.failedCalls} failed, ${joined.failedSteps} failed steps, ${joined.lateStarts} late and ${joined.droppedStarts} dropped starts${saturation}`;
    } else {
      const why = missing ? missingShardReason(missing) : 'no folder';
      testCase.error = {
        type: missing?.reason === 'no_summary' ? 'crashed_shard' : 'missing_shard',
        message: `shard ${index}/${shards.count} is not in the merge (${why})${missing?.folder ? `: ${missing.folder}` : ''}; the run is incomplete`,
      };
    }
    cases.push(testCase);
  }
  return cases;
}

function thresholdCase(scenario: string, result: ThresholdResult): TestCase {
  const testCase: TestCase = {
    classname: `${scenario}.thresholds`,
    name: `${result.threshold.metricLabel} ${result.threshold.expression}`,
    timeSeconds: 0,
    systemOut: `${result.detail} (over ${result.sampleCount} values)`,
  };
  if (!result.passed) testCase.failure = { type: 'threshold', message: result.detail, body: `${result.threshold.metricLabel}: ${result.threshold.expression}\n${result.detail}\n` };
  return testCase;
}

function describeStepFailure(step: StepResult): string {
  return `#${step.iteration} ${step.failureReason ?? 'failed'}${step.sipStatus ? ` (SIP ${step.sipStatus})` : ''}${step.detail ? `: ${step.detail}` : ''}`;
}

function describeCallFailure(call: CallResult): string {
  const evidence = call.evidence ? ` [SIP log: ${call.evidence}]` : '';
  return `${call.callId} ${call.failureReason ?? 'failed'}${call.sipStatus ? ` (SIP ${call.sipStatus})` : ''}${call.failureDetail ? `: ${call.failureDetail}` : ''}${evidence}`;
}

function listed(lines: readonly string[]): string {
  const shown = lines.slice(0, LISTED_FAILURES);
  const more = lines.length - shown.length;
  return `${shown.join('\n')}${more > 0 ? `\n... and ${more} more` : ''}\n`;
}

function reasonCounts(reasons: readonly (string | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason ?? 'unspecified', (counts.get(reason ?? 'unspecified') ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${reason} ${count}`).join(', ');
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) if (Number.isFinite(value)) total += value;
  return total;
}

/** Seconds as the schema's SUREFIRE_TIME wants them: digits and a dot, never an exponent or a sign. */
function seconds(value: number): string {
  return Number.isFinite(value) && value > 0 ? value.toFixed(3) : '0.000';
}
