import { join } from 'node:path';
import type { CallResult, RunEvent, RunSummary } from '../results.js';
import type { Reporter, RunEnd } from './reporter.js';
import { aggregateCalls, StepTally, type CallAggregates, type StepOutcomes } from './aggregate.js';
import { writeFileAtomically } from '../common/atomicWrite.js';
import { withoutUrlCredentials } from '../common/redact.js';

export const SUMMARY_JSON = 'summary.json';

/** What summary.json holds: the run summary as the runner made it, plus what the results add up to. */
export interface SummaryDocument extends RunSummary {
  aggregates: {
    calls: CallAggregates;
    steps: { byName: Record<string, StepOutcomes>; failuresByReason: Record<string, number> };
  };
}

export function summaryDocument(summary: RunSummary, calls: readonly CallResult[], steps: StepTally): SummaryDocument {
  const info = { ...summary.info, target: { ...summary.info.target, url: withoutUrlCredentials(summary.info.target.url) } };
  return { ...summary, info, aggregates: { calls: aggregateCalls(calls), steps: steps.toJSON() } };
}

/** `summary.json`, written once at the end. */
export class SummaryJsonReporter implements Reporter {
  readonly name = 'summary-json';
  private steps = new StepTally();

  constructor(private readonly outDir: string) {}

  onBegin(): void {
    this.steps = new StepTally();
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'stepEnd') this.steps.add(event.step);
  }

  async onEnd({ summary, calls }: RunEnd): Promise<void> {
    await writeSummaryJson(this.outDir, summary, calls, this.steps);
  }
}

/** `<outDir>/summary.json`, as a run writes it (`callwright merge` writes a merged run's with it too). */
export async function writeSummaryJson(outDir: string, summary: RunSummary, calls: readonly CallResult[], steps: StepTally): Promise<string> {
  const path = join(outDir, SUMMARY_JSON);
  await writeFileAtomically(path, `${JSON.stringify(summaryDocument(summary, calls, steps), roundNumbers, 2)}\n`);
  return path;
}

/** Rounds to 6 decimals so float noise (0.30000000000000004) does not reach people reading the file. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)
    ? Number(value.toFixed(6))
    : value;
}
