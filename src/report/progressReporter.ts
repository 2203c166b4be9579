/**
 * Live progress on stderr while a run goes: on a terminal one status line
 * redrawn in place; elsewhere (CI logs) one plain line every few seconds.
 * Never stdout: that carries the summary and --json, and must stay clean.
 */
import type { CallResult, FailureReason, RunEvent, RunInfo } from '../results.js';
import type { Reporter } from './reporter.js';
import { formatRatio } from '../common/format.js';

/** The little of a stream it needs; process.stderr fits. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporterOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Default stream.isTTY. */
  tty?: boolean;
  /** How often the line is drawn: default 250 ms on a terminal, 5 s otherwise. */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** calls/s is measured over this much recent time, so it follows changes of rate. */
const RATE_WINDOW_MS = 10_000;
const CLEAR_LINE = '\r\u001b[2K';

export interface ProgressFigures {
  elapsedSeconds: number;
  plannedIterations: number;
  startedIterations: number;
  startedCalls: number;
  activeCalls: number;
  endedCalls: number;
  callsPerSecond: number;
  /** Ended calls that succeeded or failed as expected; null before any call ended. */
  successRate: number | null;
  failuresByReason: Partial<Record<FailureReason | 'unspecified', number>>;
}

export class ProgressReporter implements Reporter {
  readonly name = 'progress';
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  private plannedIterations = 0;
  private readonly iterationsSeen = new Set<number>();
  private readonly activeCallIds = new Set<string>();
  private startedCalls = 0;
  private endedCalls = 0;
  private goodCalls = 0;
  private readonly failures = new Map<string, number>();
  /** (time, calls started by then), from the baseline of the rate window to now. */
  private readonly history: [number, number][] = [];
  private lineShown = false;

  constructor(options: ProgressReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.intervalMs = options.intervalMs ?? (this.tty ? 250 : 5000);
    this.now = options.now ?? Date.now;
  }

  onBegin(info: RunInfo): void {
    this.startedAtMs = info.startedAtMs;
    this.plannedIterations = info.plannedIterations;
    this.history.splice(0, this.history.length, [info.startedAtMs, 0]);
    this.stop();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref(); // progress never keeps the process alive
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'callStarted':
        this.startedCalls++;
        this.activeCallIds.add(event.callId);
        this.seeIteration(Number.parseInt(event.callId, 10));
        return;
      case 'stepEnd':
        this.seeIteration(event.step.iteration);
        return;
      default:
        return;
    }
  }

  onCallEnd(call: CallResult): void {
    this.activeCallIds.delete(call.callId);
    this.endedCalls++;
    if (call.result === 'success' || call.failureExpected) this.goodCalls++;
    else this.failures.set(call.failureReason ?? 'unspecified', (this.failures.get(call.failureReason ?? 'unspecified') ?? 0) + 1);
  }

  /** The last line (off a terminal) or a cleared line (on one): the summary follows on stdout. */
  onEnd(): void {
    this.stop();
    if (this.tty) {
      if (this.lineShown) this.stream.write(CLEAR_LINE);
      this.lineShown = false;
    } else {
      this.stream.write(`progress ${this.line()}  (done)\n`);
    }
  }

  /**
   * Call before writing a log line to the same terminal: it clears the
   * status line so the log does not land in the middle of it; the next
   * tick draws it again below.
   */
  clearLine(): void {
    if (this.tty && this.lineShown) {
      this.stream.write(CLEAR_LINE);
      this.lineShown = false;
    }
  }

  figures(): ProgressFigures {
    const now = this.now();
    this.history.push([now, this.startedCalls]);
    // Keep as the baseline the last point at least a window old (the run's start until there is one).
    while (this.history.length > 1 && now - this.history[1]![0] >= RATE_WINDOW_MS) this.history.shift();
    const [baselineAt, baselineStarted] = this.history[0]!;
    const windowSeconds = (now - baselineAt) / 1000;
    const startedInWindow = this.startedCalls - baselineStarted;
    return {
      elapsedSeconds: Math.max(0, (now - this.startedAtMs) / 1000),
      plannedIterations: this.plannedIterations,
      startedIterations: this.iterationsSeen.size,
      startedCalls: this.startedCalls,
      activeCalls: this.activeCallIds.size,
      endedCalls: this.endedCalls,
      callsPerSecond: windowSeconds > 0 ? startedInWindow / windowSeconds : 0,
      successRate: this.endedCalls === 0 ? null : this.goodCalls / this.endedCalls,
      failuresByReason: Object.fromEntries(this.failures),
    };
  }

  /** One status line: what a person watching wants at a glance. */
  line(): string {
    const figures = this.figures();
    const failures = Object.entries(figures.failuresByReason)
      .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ');
    return [
      `[${formatElapsed(figures.elapsedSeconds)}]`,
      `iterations ${figures.startedIterations}/${figures.plannedIterations}`,
      `calls ${figures.startedCalls} started, ${figures.activeCalls} active`,
      `${figures.callsPerSecond.toFixed(1)} calls/s`,
      `success ${figures.successRate === null ? '-' : formatRatio(figures.successRate)}`,
      ...(failures ? [`failed: ${failures}`] : []),
    ].join('  ');
  }

  private draw(): void {
    const line = this.line();
    if (this.tty) {
      // A line wider than the terminal wraps, and \r then redraws only its last part.
      const width = (this.stream.columns ?? 120) - 1;
      this.stream.write(`${CLEAR_LINE}${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      this.lineShown = true;
    } else {
      this.stream.write(`progress ${line}\n`);
    }
  }

  private seeIteration(iteration: number): void {
    if (Number.isInteger(iteration)) this.iterationsSeen.add(iteration);
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function formatElapsed(seconds: number): string {
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  const hours = Math.floor(minutes / 60);
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes % 60)}:${pad(whole % 60)}` : `${pad(minutes)}:${pad(whole % 60)}`;
}
