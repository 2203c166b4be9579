/**
 * The aggregate maths of a run, as pure functions over results: summary.json
 * uses them now, the HTML report and the verdict can reuse them.
 */
import { mean, percentileOfSorted } from '../common/statistics.js';
import { HARNESS_FAILURE_REASONS, type CallResult, type StepResult } from '../results.js';
import { TRANSCODING_UNKNOWN, transcodedPairs } from '../sdp/transcoding.js';

/** Everything a report or a threshold may ask about one measure. Null when there were no values. */
export interface Distribution {
  count: number;
  min: number | null;
  avg: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentileOfSorted(sorted, p) ?? null;
  return {
    count: sorted.length,
    min: at(0),
    avg: mean(sorted) ?? null,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: at(100),
  };
}

/** The measure picked from each item, leaving out items that do not have it. */
export function measuredValues<Item>(items: readonly Item[], pick: (item: Item) => number | undefined): number[] {
  const values: number[] = [];
  for (const item of items) {
    const value = pick(item);
    if (value !== undefined && Number.isFinite(value)) values.push(value);
  }
  return values;
}

/** How many items have each key; items without a key are left out. */
export function countBy<Item>(items: Iterable<Item>, key: (item: Item) => string | undefined): Record<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const value = key(item);
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays a plain key.
  return Object.fromEntries(counts);
}

/** Failures whose reason was not recorded are counted under this key rather than lost. */
export const UNSPECIFIED_REASON = 'unspecified';

export interface CallAggregates {
  /** Only calls that got established have a setup time; likewise for each measure. */
  callSetupSeconds: Distribution;
  timeTo180Seconds: Distribution;
  timeToFirstAudioSeconds: Distribution;
  durationSeconds: Distribution;
  mos: Distribution;
  jitterSeconds: Distribution;
  packetLossRatio: Distribution;
  rttSeconds: Distribution;
  concealedRatio: Distribution;
  /** Calls per negotiated codec, as the caller sends (out) and receives (in). */
  codecs: { out: Record<string, number>; in: Record<string, number> };
  /** Failed calls that no expect step asked for, by reason. */
  failuresByReason: Record<string, number>;
  /** Failed calls that a passing expect step asked for (e.g. expect 486), by reason. */
  expectedFailuresByReason: Record<string, number>;
  oneWayAudioCalls: number;
  /** Harness time before each first INVITE (docs/timings-and-evidence.md). */
  harnessPrepSeconds: Distribution;
  /** setup_s less the configured answer delay: the server's time plus the callee's own answer work. */
  setupLessAnswerDelaySeconds: Distribution;
  calleeAnswerSeconds: Distribution;
  /** RFC 6076 session disconnect delay. */
  disconnectSeconds: Distribution;
  iceGatheringMs: Distribution;
  iceConnectedMs: Distribution;
  /** RFC 6076 session establishment ratio: calls answered 2xx over calls whose INVITE was sent. */
  sessionEstablishmentRatio: number | null;
  /** Calls by the caller's selected candidate pair types, `host->host`, `relay->host`... */
  candidatePairs: Record<string, number>;
  /** Failed calls that are callwright's own (HARNESS_FAILURE_REASONS), not the server's. */
  harnessFailures: number;
  /**
   * Transcoding between callwright legs (calls.csv `transcoded`): calls with a transcoded way, those
   * calls by pair (`audio opus->PCMU`; a call may count under several), calls it could not be told for.
   */
  transcoded: { calls: number; byPair: Record<string, number>; unknown: number };
}

export function aggregateCalls(calls: readonly CallResult[]): CallAggregates {
  const measure = (pick: (call: CallResult) => number | undefined) => distribution(measuredValues(calls, pick));
  const failed = calls.filter((call) => call.result === 'failed');
  const reasonOf = (call: CallResult) => call.failureReason ?? UNSPECIFIED_REASON;
  return {
    callSetupSeconds: measure((call) => call.setupSeconds),
    timeTo180Seconds: measure((call) => call.timeTo180Seconds),
    timeToFirstAudioSeconds: measure((call) => call.timeToFirstAudioSeconds),
    durationSeconds: measure((call) => call.durationSeconds),
    mos: measure((call) => call.mos),
    jitterSeconds: measure((call) => call.jitterSeconds),
    packetLossRatio: measure((call) => call.packetLossRatio),
    rttSeconds: measure((call) => call.rttSeconds),
    concealedRatio: measure((call) => call.concealedRatio),
    codecs: { out: countBy(calls, (call) => call.codecOut), in: countBy(calls, (call) => call.codecIn) },
    failuresByReason: countBy(
      failed.filter((call) => !call.failureExpected),
      reasonOf,
    ),
    expectedFailuresByReason: countBy(
      failed.filter((call) => call.failureExpected),
      reasonOf,
    ),
    oneWayAudioCalls: calls.filter((call) => call.oneWayAudio).length,
    harnessPrepSeconds: measure((call) => call.harnessPrepSeconds),
    setupLessAnswerDelaySeconds: measure((call) => (call.setupSeconds === undefined ? undefined : call.setupSeconds - (call.answerDelaySeconds ?? 0))),
    calleeAnswerSeconds: measure((call) => call.calleeAnswerSeconds),
    disconnectSeconds: measure((call) => call.disconnectSeconds),
    iceGatheringMs: measure((call) => call.iceGatheringMs),
    iceConnectedMs: measure((call) => call.iceConnectedMs),
    sessionEstablishmentRatio: establishmentRatio(calls),
    candidatePairs: countBy(calls, (call) => pairTypes(call.candidatePair)),
    harnessFailures: failed.filter((call) => !call.failureExpected && call.failureReason !== undefined && HARNESS_FAILURE_REASONS.includes(call.failureReason)).length,
    transcoded: transcodingOf(calls),
  };
}

function transcodingOf(calls: readonly CallResult[]): CallAggregates['transcoded'] {
  const pairsByCall = calls.map((call) => transcodedPairs(call.transcoded));
  return {
    calls: pairsByCall.filter((pairs) => pairs.length > 0).length,
    byPair: countBy(
      pairsByCall.flatMap((pairs) => [...new Set(pairs)]),
      (pair) => pair,
    ),
    unknown: calls.filter((call) => call.transcoded === TRANSCODING_UNKNOWN).length,
  };
}

function establishmentRatio(calls: readonly CallResult[]): number | null {
  const invited = calls.filter((call) => call.inviteSentAtMs !== undefined);
  if (invited.length === 0) return null;
  return invited.filter((call) => call.sipStatus !== undefined && call.sipStatus >= 200 && call.sipStatus < 300).length / invited.length;
}

/** `host/udp 127.0.0.1:1 -> prflx/udp (hidden):2` -> `host->prflx`. */
function pairTypes(pair: string | undefined): string | undefined {
  if (!pair) return undefined;
  const [local, remote] = pair.split(' -> ');
  return `${local?.split('/')[0]}->${remote?.split('/')[0]}`;
}

export interface StepOutcomes {
  passed: number;
  failed: number;
}

/**
 * Step outcomes, counted as steps end: a long run has far more steps than
 * calls, so reporters keep these counts rather than every StepResult.
 */
export class StepTally {
  private readonly byName = new Map<string, StepOutcomes>();
  private readonly failureReasons = new Map<string, number>();

  static of(steps: Iterable<StepResult>): StepTally {
    const tally = new StepTally();
    for (const step of steps) tally.add(step);
    return tally;
  }

  add(step: StepResult): void {
    const outcomes = this.byName.get(step.name) ?? { passed: 0, failed: 0 };
    this.byName.set(step.name, outcomes);
    if (step.ok) {
      outcomes.passed += 1;
    } else {
      outcomes.failed += 1;
      const reason = step.failureReason ?? UNSPECIFIED_REASON;
      this.failureReasons.set(reason, (this.failureReasons.get(reason) ?? 0) + 1);
    }
  }

  toJSON(): { byName: Record<string, StepOutcomes>; failuresByReason: Record<string, number> } {
    return {
      byName: Object.fromEntries([...this.byName].map(([name, outcomes]) => [name, { ...outcomes }])),
      failuresByReason: Object.fromEntries(this.failureReasons),
    };
  }
}
