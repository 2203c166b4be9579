/**
 * The Reporter interface: how every output of a run (CSV files, summary.json,
 * junit.xml, report.html, Prometheus metrics, a progress line, a user's own)
 * sees the run. Reporters see the run and never drive it. Every hook is
 * optional; a hook that throws is reported by the multiplexer and does not
 * stop the run or the other outputs.
 */
import type { CallResult, RunEvent, RunInfo, RunSummary, StepResult } from '../results.js';
import type { ThresholdResult } from '../verdict/index.js';

/** The run's end: its summary with the verdict (summary.exitCode), every call and step, and the thresholds as judged. */
export interface RunEnd {
  summary: RunSummary;
  calls: readonly CallResult[];
  steps: readonly StepResult[];
  thresholds: readonly ThresholdResult[];
}

export interface Reporter {
  readonly name: string;
  /**
   * Reads files other reporters write (report.html reads samples.csv): its
   * onEnd runs once every other reporter's onEnd has finished.
   */
  readonly readsRunFiles?: boolean;
  onBegin?(info: RunInfo): void | Promise<void>;
  onEvent?(event: RunEvent): void;
  onCallEnd?(call: CallResult): void;
  /** Called once; outputs are flushed and closed here. */
  onEnd?(end: RunEnd): void | Promise<void>;
}
