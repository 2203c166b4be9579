/**
 * Every Prometheus metric callwright exposes, in one place: names with the
 * `callwright_` prefix and base units (seconds, bytes), `_total` counters,
 * histograms rather than summaries (they aggregate across runs and
 * instances), and only bounded label values: scenario and role names come
 * from the scenario file; a step is its position and kind, never its name
 * (a name may hold a URI); result, reason, codec, direction, mode come from
 * closed sets. Never a call id, SIP Call-ID, user or URI: each would make a
 * new time series per call, or put an address where metrics travel.
 */
import { Counter, Gauge, Histogram, Registry, linearBuckets } from 'prom-client';

/** Call setup on a LAN is tens of ms; through a loaded PBX, seconds; past 30 s it is a timeout anyway. */
export const CALL_SETUP_BUCKETS_SECONDS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30];
/** First audio after answer: an IVR prompt heard late takes seconds. */
export const FIRST_AUDIO_BUCKETS_SECONDS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20];
export const CALL_DURATION_BUCKETS_SECONDS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
/** RFC 3550 interarrival jitter: good audio stays under 30 ms. */
export const JITTER_BUCKETS_SECONDS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5];
/** ITU-T G.114: one-way delay under 150 ms (RTT ~300 ms) is fine for conversation. */
export const RTT_BUCKETS_SECONDS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];
/** Start delay behind plan: timer jitter is milliseconds; a busy harness, tenths; past load.dropAfter it drops. */
export const START_DELAY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];
/** Video frame rates: a stalled stream, choppy, the usual 15/24/25/30, and high-rate screen or sports video. */
export const VIDEO_FPS_BUCKETS = [1, 5, 10, 15, 20, 24, 25, 30, 50, 60];
/** 1.00, 1.25 ... 4.50: the E-model MOS range in quarter steps. */
export const MOS_BUCKETS = linearBuckets(1, 0.25, 15);

/** Label values for things that are not bounded by nature get mapped onto these. */
export type ResultLabel = 'success' | 'failed' | 'failed_expected';
export type MediaDirectionLabel = 'send' | 'receive';

/**
 * A step's labels: `step` its position in the scenario's steps list from 1
 * (as report.html and junit.xml number steps), `step_kind` its kind (call,
 * answer, expect...). Two labels, one dimension each, so a query can sum by
 * kind or pick one step without parsing a value; the kind follows from the
 * position, so it adds no series.
 */
export function stepLabels(index: number, kind: string): { step: string; step_kind: string } {
  return { step: String(index + 1), step_kind: kind };
}

export function createCallwrightMetrics(registry: Registry) {
  const registers = [registry];
  return {
    callsStarted: new Counter({
      name: 'callwright_calls_started_total',
      help: 'Calls started (INVITE about to be sent).',
      labelNames: ['scenario'] as const,
      registers,
    }),
    callsEnded: new Counter({
      name: 'callwright_calls_ended_total',
      help: 'Calls ended, by result (success, failed, failed_expected) and failure reason (none on success).',
      labelNames: ['scenario', 'result', 'reason'] as const,
      registers,
    }),
    callsActive: new Gauge({
      name: 'callwright_calls_active',
      help: 'Calls started and not yet ended.',
      labelNames: ['scenario'] as const,
      registers,
    }),
    callSetupSeconds: new Histogram({
      name: 'callwright_call_setup_seconds',
      help: 'Call start to established (200 OK at the caller), established calls only.',
      labelNames: ['scenario'] as const,
      buckets: CALL_SETUP_BUCKETS_SECONDS,
      registers,
    }),
    timeTo180Seconds: new Histogram({
      name: 'callwright_time_to_180_seconds',
      help: 'INVITE sent to the first 180/183 provisional response.',
      labelNames: ['scenario'] as const,
      buckets: CALL_SETUP_BUCKETS_SECONDS,
      registers,
    }),
    timeToFirstAudioSeconds: new Histogram({
      name: 'callwright_time_to_first_audio_seconds',
      help: 'Established to the first received audio packet at the caller.',
      labelNames: ['scenario'] as const,
      buckets: FIRST_AUDIO_BUCKETS_SECONDS,
      registers,
    }),
    callDurationSeconds: new Histogram({
      name: 'callwright_call_duration_seconds',
      help: 'Established to ended.',
      labelNames: ['scenario'] as const,
      buckets: CALL_DURATION_BUCKETS_SECONDS,
      registers,
    }),
    callMos: new Histogram({
      name: 'callwright_call_mos',
      help: 'Estimated MOS (E-model, 1..4.5) of each call, from its worst leg.',
      labelNames: ['scenario'] as const,
      buckets: MOS_BUCKETS,
      registers,
    }),
    callsByCodec: new Counter({
      name: 'callwright_calls_by_codec_total',
      help: 'Ended calls per negotiated codec, as the caller sends (send) and receives (receive) it.',
      labelNames: ['scenario', 'codec', 'direction'] as const,
      registers,
    }),
    oneWayAudioCalls: new Counter({
      name: 'callwright_one_way_audio_calls_total',
      help: 'Ended calls where a leg saw no media in a direction where media was due.',
      labelNames: ['scenario'] as const,
      registers,
    }),
    registrations: new Counter({
      name: 'callwright_registrations_total',
      help: 'REGISTER attempts, by result (success, failed).',
      labelNames: ['scenario', 'result'] as const,
      registers,
    }),
    registrationSeconds: new Histogram({
      name: 'callwright_registration_seconds',
      help: 'REGISTER sent to 200 OK, successful registrations only.',
      labelNames: ['scenario'] as const,
      buckets: CALL_SETUP_BUCKETS_SECONDS,
      registers,
    }),
    steps: new Counter({
      name: 'callwright_steps_total',
      help: 'Scenario steps ended, by step (its position in the scenario from 1) and kind, result (passed, failed) and failure reason (none when passed).',
      labelNames: ['scenario', 'step', 'step_kind', 'result', 'reason'] as const,
      registers,
    }),
    dtmf: new Counter({
      name: 'callwright_dtmf_total',
      help: 'DTMF tones sent or received, by mode (rfc4733, info).',
      labelNames: ['scenario', 'mode', 'direction'] as const,
      registers,
    }),
    mediaPacketsReceived: new Counter({
      name: 'callwright_media_packets_received_total',
      help: 'RTP packets received by the legs of a role (all streams of the leg).',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    mediaPacketsSent: new Counter({
      name: 'callwright_media_packets_sent_total',
      help: 'RTP packets sent by the legs of a role.',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    mediaBytesReceived: new Counter({
      name: 'callwright_media_bytes_received_total',
      help: 'RTP payload bytes received by the legs of a role.',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    mediaBytesSent: new Counter({
      name: 'callwright_media_bytes_sent_total',
      help: 'RTP payload bytes sent by the legs of a role.',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    mediaPacketsLost: new Counter({
      name: 'callwright_media_packets_lost_total',
      help: 'RTP packets lost on the way to the legs of a role (receiver side).',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    mediaJitterSeconds: new Histogram({
      name: 'callwright_media_jitter_seconds',
      help: 'Received jitter, one observation per leg sample.',
      labelNames: ['scenario', 'role'] as const,
      buckets: JITTER_BUCKETS_SECONDS,
      registers,
    }),
    mediaRttSeconds: new Histogram({
      name: 'callwright_media_rtt_seconds',
      help: 'Round-trip time, one observation per leg sample.',
      labelNames: ['scenario', 'role'] as const,
      buckets: RTT_BUCKETS_SECONDS,
      registers,
    }),
    videoFpsIn: new Histogram({
      name: 'callwright_video_fps_in',
      help: 'Received video frames decoded per second over a stats interval, one observation per leg sample that has received video.',
      labelNames: ['scenario', 'role'] as const,
      buckets: VIDEO_FPS_BUCKETS,
      registers,
    }),
    videoFreezes: new Counter({
      name: 'callwright_video_freezes_total',
      help: 'Freezes of the video received by the legs of a role (getStats freezeCount: a frame later than max(3x, +150 ms) the mean frame duration).',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    videoFreezeSeconds: new Counter({
      name: 'callwright_video_freeze_seconds_total',
      help: 'Time the video received by the legs of a role spent frozen (getStats totalFreezesDuration).',
      labelNames: ['scenario', 'role'] as const,
      registers,
    }),
    iterationsStarted: new Counter({
      name: 'callwright_iterations_started_total',
      help: 'Iterations the scheduler started.',
      labelNames: ['scenario'] as const,
      registers,
    }),
    iterationsDropped: new Counter({
      name: 'callwright_iterations_dropped_total',
      help: 'Planned iterations that never started, by reason: capacity (every slot busy), late (harness too far behind plan), stopped.',
      labelNames: ['scenario', 'reason'] as const,
      registers,
    }),
    iterationsLate: new Counter({
      name: 'callwright_iterations_late_total',
      help: 'Iterations started later than load.lateAfter behind their planned time (the harness was busy).',
      labelNames: ['scenario'] as const,
      registers,
    }),
    iterationStartDelaySeconds: new Histogram({
      name: 'callwright_iteration_start_delay_seconds',
      help: 'How far behind its planned time each open-model iteration started.',
      labelNames: ['scenario'] as const,
      buckets: START_DELAY_BUCKETS_SECONDS,
      registers,
    }),
    harnessSaturated: new Gauge({
      name: 'callwright_harness_saturated',
      help: '1 while the harness itself is the bottleneck (CPU, event-loop lag or memory over the watchdog thresholds), else 0.',
      labelNames: ['scenario'] as const,
      registers,
    }),
    harnessSaturatedSeconds: new Counter({
      name: 'callwright_harness_saturated_seconds_total',
      help: 'Time the harness spent saturated.',
      labelNames: ['scenario'] as const,
      registers,
    }),
    harnessCpuCores: new Gauge({
      name: 'callwright_harness_cpu_cores',
      help: 'CPU over the last watchdog interval in cores, for node (the orchestrator), chromium (every Chromium process) and machine (all busy CPU).',
      labelNames: ['scenario', 'process'] as const,
      registers,
    }),
    harnessMemoryBytes: new Gauge({
      name: 'callwright_harness_memory_bytes',
      help: 'Resident memory of node and of all Chromium processes (summed RSS).',
      labelNames: ['scenario', 'process'] as const,
      registers,
    }),
    harnessEventLoopLagSeconds: new Gauge({
      name: 'callwright_harness_event_loop_lag_seconds',
      help: "Node's event-loop delay, p99 over the last watchdog interval.",
      labelNames: ['scenario'] as const,
      registers,
    }),
    harnessPageLagSeconds: new Gauge({
      name: 'callwright_harness_page_lag_seconds',
      help: "Worst main-thread lag of any agent page over its last health interval (a page's timers running late: it answers commands and samples media late).",
      labelNames: ['scenario'] as const,
      registers,
    }),
    callsFailedDuringSaturation: new Counter({
      name: 'callwright_calls_failed_during_saturation_total',
      help: 'Failed calls that overlapped a time the harness was saturated: the harness may be to blame, not the server.',
      labelNames: ['scenario'] as const,
      registers,
    }),
  };
}

export type CallwrightMetrics = ReturnType<typeof createCallwrightMetrics>;

/** A registry of its own (never prom-client's global one), so runs and tests in one process do not mix. */
export function createMetricsRegistry(): { registry: Registry; metrics: CallwrightMetrics } {
  const registry = new Registry();
  return { registry, metrics: createCallwrightMetrics(registry) };
}
