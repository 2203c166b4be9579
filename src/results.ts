/**
 * What a run produces, as data: the typed stream reporters consume. The
 * runner creates these; reporters, metrics and verdicts only read them
 * (they never import the runner or the browser side).
 */

/** Why a call or step failed: a closed set, so reports and metrics can count them. */
export const FAILURE_REASONS = [
  'sip_status', // the far end or a proxy answered a final error status
  'timeout', // a step did not reach its goal in time
  'no_media', // established, but no media arrived (or none in a required direction)
  'one_way_audio', // media in one direction only
  'check_failed', // an expect step's condition was false (codec, DTMF, message, size...)
  'registration_failed',
  'transport_lost', // the SIP WebSocket dropped
  'browser_crashed', // the Chromium page or process hosting the leg died
  'command_failed', // the page refused or failed a command
  'canceled', // hung up before answer
  'dropped', // planned but never started (harness busy or stopping)
  'interrupted', // the run was stopped (Ctrl-C) while this was in progress
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Why a planned iteration never started: every slot busy, the harness too far behind plan, or the run stopping. */
export const DROP_REASONS = ['capacity', 'late', 'stopped'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What made the harness count itself saturated. */
export const SATURATION_REASONS = ['cpu', 'event_loop_lag', 'memory'] as const;
export type SaturationReason = (typeof SATURATION_REASONS)[number];

/** The harness's own load over one watchdog interval: Node, every Chromium process, the machine. */
export interface HarnessSample {
  atMs: number;
  intervalSeconds: number;
  /** CPU in cores (1 = one core fully busy) over the interval. */
  nodeCpuCores: number;
  chromiumCpuCores: number;
  /** Everything on the machine, callwright or not: what the harness competes with. */
  machineBusyCores: number;
  cores: number;
  /** Node's event-loop delay over the interval. */
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  nodeRssBytes: number;
  /** Summed RSS of the Chromium processes (double-counts shared pages; PSS does not). */
  chromiumRssBytes: number;
  chromiumPssBytes?: number;
  chromiumProcesses: number;
  /** Fraction of the machine's memory in use. */
  memoryUsedFraction: number;
}

export interface RunInfo {
  runId: string;
  scenario: string;
  scenarioFile: string;
  startedAtMs: number;
  /** Where the SIP server is: the embedded one or the scenario's target. */
  target: { url: string; domain: string; embedded: boolean };
  outDir: string;
  /** Iterations planned; 0 when only the duration bounds a closed-model run. */
  plannedIterations: number;
  /** Iterations at once (closed model) or the cap on them (open model). */
  concurrency: number;
}

export interface StepResult {
  scenario: string;
  iteration: number;
  index: number;
  name: string;
  kind: string;
  role?: string;
  call?: string;
  ok: boolean;
  failureReason?: FailureReason;
  /** One line for people: what was expected and what was seen. */
  detail?: string;
  sipStatus?: number;
  startedAtMs: number;
  durationSeconds: number;
}

export interface CallResult {
  /** callwright's id for the call: `<iteration>.<call name>`; never a metric label. */
  callId: string;
  scenario: string;
  iteration: number;
  name: string;
  callerRole: string;
  calleeRole?: string;
  from: string;
  to: string;
  sipCallId?: string;
  startedAtMs: number;
  /** INVITE sent -> first 180/183. */
  timeTo180Seconds?: number;
  /** Call started -> established (200 OK seen by the caller). */
  setupSeconds?: number;
  /** Established -> first received audio packet at the caller. */
  timeToFirstAudioSeconds?: number;
  /** Established -> ended. */
  durationSeconds?: number;
  result: 'success' | 'failed';
  /** A failed call that a passing expect step asked for (e.g. expect failed 480). */
  failureExpected: boolean;
  sipStatus?: number;
  failureReason?: FailureReason;
  failureDetail?: string;
  inviteBytes?: number;
  /** Codec the caller sends / receives (getStats). */
  codecOut?: string;
  codecIn?: string;
  /** Worst leg's figures. */
  packetsLost?: number;
  packetLossRatio?: number;
  jitterSeconds?: number;
  rttSeconds?: number;
  mos?: number;
  /** Fraction of received audio samples that were concealed (gaps). */
  concealedRatio?: number;
  /** Legs that saw no media in a direction where media was due. */
  oneWayAudio: boolean;
  /** The harness was saturated at some time during this call: a failure may be the harness's, not the server's. */
  harnessSaturated?: boolean;
}

/** One leg's getStats sample, made relative (rates over the last interval). */
export interface LegSample {
  atMs: number;
  scenario: string;
  callId: string;
  legId: string;
  role: string;
  direction: 'outgoing' | 'incoming';
  codecIn?: string;
  codecOut?: string;
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  packetsLost: number;
  /** Packets per second received / sent over the last interval. */
  inPacketRate: number;
  outPacketRate: number;
  jitterSeconds?: number;
  rttSeconds?: number;
  audioLevel?: number;
  /** Received audio energy per second over the last interval (0 when silent). */
  audioEnergyRate?: number;
  concealedRatio?: number;
  videoFramesDecoded?: number;
  videoFramesEncoded?: number;
}

export type RunEvent =
  | { type: 'registration'; atMs: number; scenario: string; role: string; ok: boolean; seconds?: number; status?: number }
  | { type: 'callStarted'; atMs: number; scenario: string; callId: string; callerRole: string }
  | { type: 'callEstablished'; atMs: number; scenario: string; callId: string; setupSeconds: number }
  | { type: 'sample'; sample: LegSample }
  | { type: 'stepEnd'; step: StepResult }
  | { type: 'dtmf'; atMs: number; scenario: string; callId: string; sent: boolean; mode: 'rfc4733' | 'info'; tone: string }
  /** Outbound audio over an RFC 4733 burst: telephone-event packets (4-byte payloads) replace audio while tones play. */
  | { type: 'dtmfBurst'; atMs: number; scenario: string; callId: string; packetsSent: number; payloadBytesSent: number; seconds: number }
  | { type: 'log'; atMs: number; level: 'error' | 'warn' | 'info' | 'debug'; message: string }
  /** The scheduler started an iteration; plannedAtMs and delaySeconds say how far behind plan (open model). */
  | { type: 'iterationStarted'; atMs: number; scenario: string; iteration: number; plannedAtMs?: number; delaySeconds: number; late: boolean }
  /** A planned iteration that never started. */
  | { type: 'iterationDropped'; atMs: number; scenario: string; plannedAtMs?: number; reason: DropReason }
  /** One watchdog sample; saturated with the reasons when the harness is the bottleneck. */
  | { type: 'harness'; atMs: number; scenario: string; sample: HarnessSample; saturated: boolean; reasons: SaturationReason[] };

/** How the load went: what the scheduler started, late and dropped. */
export interface LoadSummary {
  model: 'closed' | 'open';
  slots: number;
  late: number;
  droppedByReason: Record<DropReason, number>;
  /** Start delays of started iterations: how far behind plan the harness was. */
  startDelaySeconds: { p50?: number; p95?: number; max?: number };
  /** Most iterations running at once. */
  peakConcurrent: number;
}

/** The watchdog's verdict on the harness itself. */
export interface HarnessSummary {
  saturated: boolean;
  saturatedSeconds: number;
  windows: { fromMs: number; toMs: number; reasons: SaturationReason[] }[];
  /** Failed calls that overlapped a saturated window: blame the harness first. */
  failedCallsDuringSaturation: number;
  thresholds: { cpu: number; eventLoopLagMs: number; memory: number };
  cores: number;
  samples: number;
  mean?: { nodeCpuCores: number; chromiumCpuCores: number; machineBusyCores: number; eventLoopLagP99Ms: number };
  peak?: { nodeCpuCores: number; chromiumCpuCores: number; machineBusyCores: number; eventLoopLagP99Ms: number; nodeRssBytes: number; chromiumRssBytes: number; chromiumPssBytes?: number };
}

export interface RunSummary {
  info: RunInfo;
  endedAtMs: number;
  durationSeconds: number;
  /** Stopped early by Ctrl-C/SIGTERM. */
  interrupted: boolean;
  iterations: { planned: number; started: number; passed: number; failed: number; dropped: number };
  calls: { total: number; succeeded: number; failed: number; failedExpected: number; byReason: Partial<Record<FailureReason, number>> };
  steps: { total: number; passed: number; failed: number };
  registrations: { attempted: number; succeeded: number };
  /** Scheduler figures (late and dropped starts). */
  load?: LoadSummary;
  /** Self-saturation watchdog; saturated means the harness, not the server, may explain failures. */
  harness?: HarnessSummary;
  exitCode: number;
}

/**
 * Reporters see the run and never drive it. Every hook is optional; a hook
 * that throws is reported by the multiplexer and does not stop the run.
 */
export interface Reporter {
  readonly name: string;
  onBegin?(info: RunInfo): void | Promise<void>;
  onEvent?(event: RunEvent): void;
  onCallEnd?(call: CallResult): void;
  /** Called once; outputs are flushed and closed here. */
  onEnd?(summary: RunSummary, calls: readonly CallResult[]): void | Promise<void>;
}
