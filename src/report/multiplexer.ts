import type { CallResult, RunEvent, RunInfo } from '../results.js';
import type { Reporter, RunEnd } from './reporter.js';

export type ReporterHook = 'onBegin' | 'onEvent' | 'onCallEnd' | 'onEnd';

/** Every failure of one reporter's hook, folded into one record. */
export interface ReporterFailure {
  reporter: string;
  hook: ReporterHook;
  count: number;
  firstError: unknown;
}

/**
 * Fans every hook out to many reporters. A reporter that throws (or whose
 * hook returns a rejected promise) is reported through `warn` once per
 * reporter and hook, then counted: one broken output must not stop the run
 * or the other outputs, nor flood the log at a thousand samples a second.
 */
export class ReporterMultiplexer implements Reporter {
  readonly name = 'multiplexer';
  private readonly failuresByKey = new Map<string, ReporterFailure>();

  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly warn: (message: string) => void,
  ) {}

  /** What has failed so far, one entry per reporter and hook. */
  get failures(): readonly ReporterFailure[] {
    return [...this.failuresByKey.values()];
  }

  async onBegin(info: RunInfo): Promise<void> {
    await this.all('onBegin', (reporter) => reporter.onBegin?.(info));
  }

  onEvent(event: RunEvent): void {
    for (const reporter of this.reporters) this.call(reporter, 'onEvent', () => reporter.onEvent?.(event));
  }

  onCallEnd(call: CallResult): void {
    for (const reporter of this.reporters) this.call(reporter, 'onCallEnd', () => reporter.onCallEnd?.(call));
  }

  /**
   * Waits for every reporter (in parallel), then for those that read the
   * others' files (report.html reads samples.csv); never rejects.
   */
  async onEnd(end: RunEnd): Promise<void> {
    const readers = this.reporters.filter((reporter) => reporter.readsRunFiles);
    await this.all('onEnd', (reporter) => reporter.onEnd?.(end), this.reporters.filter((reporter) => !reporter.readsRunFiles));
    await this.all('onEnd', (reporter) => reporter.onEnd?.(end), readers);
    for (const failure of this.failuresByKey.values()) {
      if (failure.count > 1) {
        this.safeWarn(`reporter "${failure.reporter}" failed ${failure.count} times in ${failure.hook} during the run`);
      }
    }
  }

  private async all(hook: ReporterHook, invoke: (reporter: Reporter) => unknown, reporters: readonly Reporter[] = this.reporters): Promise<void> {
    await Promise.all(reporters.map((reporter) => this.call(reporter, hook, () => invoke(reporter))));
  }

  /** Runs one hook; resolves (never rejects) when an async hook settles. */
  private call(reporter: Reporter, hook: ReporterHook, invoke: () => unknown): Promise<void> | undefined {
    try {
      const returned = invoke();
      // onEvent and onCallEnd are typed void, but an async function still fits that type.
      if (isPromiseLike(returned)) {
        return Promise.resolve(returned).then(
          () => undefined,
          (error: unknown) => this.record(reporter, hook, error),
        );
      }
    } catch (error) {
      this.record(reporter, hook, error);
    }
    return undefined;
  }

  private record(reporter: Reporter, hook: ReporterHook, error: unknown): void {
    const key = `${reporter.name}\u0000${hook}`;
    const failure = this.failuresByKey.get(key);
    if (failure) {
      failure.count += 1;
      return;
    }
    this.failuresByKey.set(key, { reporter: reporter.name, hook, count: 1, firstError: error });
    this.safeWarn(
      `reporter "${reporter.name}" failed in ${hook}: ${describeError(error)} ` +
        '(the run goes on; further failures of this hook are counted, not logged)',
    );
  }

  private safeWarn(message: string): void {
    try {
      this.warn(message);
    } catch {
      // A broken warn callback must not turn a reporter failure into a run failure.
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
