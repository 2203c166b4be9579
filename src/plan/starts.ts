/**
 * Late and dropped starts, like a load tool's "dropped iterations". An open
 * model plans each start at a time; the harness may get to it late (its event
 * loop was busy) or find every slot busy. A start later than lateAfter counts
 * as late; later than dropAfter it is dropped rather than fired in a burst
 * the server never asked for; with no free slot it is dropped at once (k6
 * drops too; queueing would hide the overload).
 */
import type { DropReason, LoadSummary } from '../results.js';
import { percentileOfSorted } from '../common/statistics.js';

export interface StartRules {
  lateAfterSeconds: number;
  dropAfterSeconds: number;
}

export type StartDecision = { start: true; delaySeconds: number; late: boolean } | { start: false; reason: DropReason; delaySeconds: number };

export function decideStart(input: { plannedAtMs: number; nowMs: number; slotFree: boolean; stopping: boolean }, rules: StartRules): StartDecision {
  const delaySeconds = Math.max(0, input.nowMs - input.plannedAtMs) / 1000;
  if (input.stopping) return { start: false, reason: 'stopped', delaySeconds };
  if (delaySeconds > rules.dropAfterSeconds) return { start: false, reason: 'late', delaySeconds };
  if (!input.slotFree) return { start: false, reason: 'capacity', delaySeconds };
  return { start: true, delaySeconds, late: delaySeconds > rules.lateAfterSeconds };
}

/** The load summary's late/dropped/delay/peak figures, with the totals behind them. */
export interface StartCounts extends Omit<LoadSummary, 'model' | 'slots'> {
  planned: number;
  started: number;
  dropped: number;
}

/** Counts decisions as they are made; `planned` is always started + dropped. */
export class StartTally {
  private started = 0;
  private late = 0;
  private readonly dropped: Record<DropReason, number> = { capacity: 0, late: 0, stopped: 0 };
  private readonly delays: number[] = [];
  private running = 0;
  private peak = 0;

  record(decision: StartDecision): void {
    if (decision.start) {
      this.started++;
      if (decision.late) this.late++;
      this.delays.push(decision.delaySeconds);
      this.running++;
      this.peak = Math.max(this.peak, this.running);
    } else {
      this.dropped[decision.reason]++;
    }
  }

  /** Planned starts that never came (the run stopped before them). */
  dropRemaining(count: number): void {
    this.dropped.stopped += Math.max(0, count);
  }

  finished(): void {
    this.running = Math.max(0, this.running - 1);
  }

  counts(): StartCounts {
    const dropped = this.dropped.capacity + this.dropped.late + this.dropped.stopped;
    const sorted = [...this.delays].sort((a, b) => a - b);
    return {
      planned: this.started + dropped,
      started: this.started,
      late: this.late,
      dropped,
      droppedByReason: { ...this.dropped },
      startDelaySeconds: { p50: percentileOfSorted(sorted, 50), p95: percentileOfSorted(sorted, 95), max: sorted.at(-1) },
      peakConcurrent: this.peak,
    };
  }
}
