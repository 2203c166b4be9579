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
  'no_candidates', // an offer or answer had no ICE candidate for a media section: it could never carry media
  'ice_failed', // ICE connectivity checks failed: no candidate pair works between the two ends
  'turn_refused', // a TURN server refused the allocation (401: the credentials; 403, 437, 486...): no relay candidate, so no media path
  'turn_unreachable', // no TURN server answered (701, or relay-only with no relay candidate and no error): no relay candidate
  'dtls_failed', // ICE connected but the DTLS handshake (SRTP keys) failed
  'media_stopped', // received audio stopped mid-call after having flowed (not on hold)
  'silent_audio', // packets kept arriving but their audio went silent mid-call
  'harness_saturated', // the failure came while callwright itself was stalled (a page's main thread or Node): the harness's, not the server's
  'impairer_failed', // the role's network impairer (callwright's, docs/network.md) died: its packets stopped passing
  'lite_dtls_race', // a lite leg's WebRTC stack (libdatachannel 0.24.5) lost its connection to its DTLS startup race (docs/lite-agents.md)
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Failures that are callwright's own, not the system under test's: reports count them apart. */
export const HARNESS_FAILURE_REASONS: readonly FailureReason[] = ['no_candidates', 'harness_saturated', 'browser_crashed', 'impairer_failed', 'lite_dtls_race'];

/** Why a planned iteration never started: every slot busy, the harness too far behind plan, or the run stopping. */
export const DROP_REASONS = ['capacity', 'late', 'stopped'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What made the harness count itself saturated (cpu_throttled: its cgroup's CPU limit stopped it, docs/load.md). */
export const SATURATION_REASONS = ['cpu', 'event_loop_lag', 'memory', 'cpu_throttled'] as const;
export type SaturationReason = (typeof SATURATION_REASONS)[number];

/** The harness's own load over one watchdog interval: Node, every Chromium process, the machine. */
export interface HarnessSample {
  atMs: number;
  intervalSeconds: number;
  /** CPU in cores (1 = one core fully busy) over the interval. */
  nodeCpuCores: number;
  chromiumCpuCores: number;
  /** The busiest single Chromium process (a renderer: its pages' main threads live there), in cores. */
  chromiumBusiestProcessCores?: number;
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
  /**
   * The container's own budget, when its cgroup has a CPU limit (src/watchdog/cgroupLimits.ts):
   * the limit in cores (quota / period), what the cgroup used over the interval, and the time the
   * kernel throttled it (summed over CPUs). Absent without a limit: the machine is the budget.
   */
  cpuLimitCores?: number;
  cgroupCpuCores?: number;
  cpuThrottledSeconds?: number;
  /** The same for a memory limit: the limit, the cgroup's working set (usage minus inactive file cache), OOM kills in the interval. */
  memoryLimitBytes?: number;
  cgroupMemoryBytes?: number;
  oomKills?: number;
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
  /** Shard `index` (1-based) of `count`, when this run is one shard of a sharded run (`run --shard I/N`). */
  shard?: ShardInfo;
}

/** One shard of a sharded run: `index` from 1 to `count`. */
export interface ShardInfo {
  index: number;
  count: number;
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
  /**
   * Post-dial delay (RFC 6076 session request delay to the first provisional):
   * first INVITE on the caller's WebSocket -> first 18x received there. Column pdd_s.
   */
  timeTo180Seconds?: number;
  /** First INVITE sent -> 200 OK received, both where the caller's WebSocket meets them (RFC 6076 SRD to the final response). */
  setupSeconds?: number;
  /** 200 OK received (wire) -> first received audio packet at the caller. */
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
  /** Harness time before the wire: the call decided -> its first INVITE handed to the WebSocket (media, ICE gathering, SDP). */
  harnessPrepSeconds?: number;
  /** The answer delay the scenario configured (answer step `after`, autoAnswer): part of setup_s, subtract it to see the server's time. */
  answerDelaySeconds?: number;
  /** At a callwright callee: INVITE received -> 200 OK sent (its configured delay plus its own answer work). */
  calleeAnswerSeconds?: number;
  /** RFC 6076 session disconnect delay: BYE sent -> its final response received, on the side that hung up. */
  disconnectSeconds?: number;
  /** When the first INVITE left the caller's WebSocket (epoch ms), to match calls with a capture. */
  inviteSentAtMs?: number;
  /** Caller's ICE gathering for its offer (ms). */
  iceGatheringMs?: number;
  /** Caller's first INVITE sent -> its ICE connected (ms). */
  iceConnectedMs?: number;
  /** Caller's selected candidate pair, `host/udp 127.0.0.1:50000 -> host/udp 127.0.0.1:50002`. */
  candidatePair?: string;
  /** Seconds after the call started at which received audio stopped or went silent (first such moment on any leg). */
  audioInterruptedAtSeconds?: number;
  /** The call's SIP log and last statistics, relative to the out dir (failed calls, and a sample of others). */
  evidence?: string;
  /**
   * The other view of the caller's audio: what the far end reported in its RTCP receiver reports
   * about the stream the caller leg sent (packetLossRatio and jitterSeconds are what callwright's
   * legs received). Loss is cumulative, remote packets lost / packets sent (src/calls/lossViews.ts);
   * undefined when the far end sent no report. The caller leg is the call's first callwright leg
   * (the answering one for a call from outside callwright).
   */
  farEndLossRatio?: number;
  farEndJitterSeconds?: number;
  /**
   * Received video, the worse leg's figure each (src/calls/videoQuality.ts); undefined when no leg
   * received video. Frame rate and kbps are means over the call's samples; the resolution is the
   * last received one; freezes are counted by getStats (freezeCount, totalFreezesDuration); the
   * first freeze is in seconds after the call was established (the caller's 200 OK).
   */
  videoFpsIn?: number;
  videoResolutionIn?: string;
  videoKbpsIn?: number;
  videoFreezes?: number;
  videoFreezeSeconds?: number;
  videoFirstFreezeAtSeconds?: number;
  /** The video codec the caller leg encodes / decodes (getStats outbound-rtp / inbound-rtp of kind video), like codecOut/codecIn for audio. */
  videoCodecOut?: string;
  videoCodecIn?: string;
  /**
   * Transcoding between the call's two callwright legs (src/calls/transcoding.ts): the ways whose
   * encoded and decoded codecs differ, `audio opus->PCMU; audio PCMU->opus` (caller to callee
   * first); '' when seen and none; `unknown` when not observed (one end outside callwright, no media).
   */
  transcoded?: string;
  /** Who carried the caller's and the callee's leg: browser or lite (empty for a leg outside callwright). */
  callerAgent?: 'browser' | 'lite';
  calleeAgent?: 'browser' | 'lite';
  /**
   * Of the audio packets a lite leg received, the share carrying the lite fixture's own frames
   * (its echo from a device that echoes, or another lite agent's audio): the lite agent's payload
   * check, as it decodes nothing. The lowest over the call's lite legs; empty without one.
   */
  knownFramesRatio?: number;
  /** Each callwright leg of the call, with its transport timeline (legs.csv; not in calls.csv, so absent when calls.csv is read back). */
  legs?: LegResult[];
}

/** A call as calls.csv holds it: everything but the per-leg detail (legs.csv). */
export type CallRow = Omit<CallResult, 'legs'>;

/** Timestamps are epoch ms; undefined when the moment never came. */
export interface LegResult {
  callId: string;
  legId: string;
  role: string;
  agentId: string;
  direction: 'outgoing' | 'incoming';
  sipCallId?: string;
  /** ICE gathering of this leg's offer or answer. */
  iceGatheringMs?: number;
  iceCandidates?: number;
  /** Candidate types gathered, e.g. `host` or `host+srflx`. */
  iceCandidateTypes?: string;
  /** complete, usable (every media section had one), timeout, fixed (iceGathering: complete hit its timeout). */
  iceGatheringEndedBy?: string;
  /** Media sections that went out with no candidate. */
  iceMissingMids?: string;
  /** Transport state changes, `layer:state@+seconds` from the leg's creation, `;`-separated. */
  transportTimeline: string;
  iceConnectedAtMs?: number;
  dtlsConnectedAtMs?: number;
  /** Last ICE / DTLS / connection states seen. */
  iceState?: string;
  dtlsState?: string;
  connectionState?: string;
  localCandidate?: string;
  remoteCandidate?: string;
  firstRtpSentAtMs?: number;
  firstRtpReceivedAtMs?: number;
  createdAtMs?: number;
  endedAtMs?: number;
  /** Received audio stopped / went silent (epoch ms), when it did after having flowed. */
  audioStoppedAtMs?: number;
  audioSilentAtMs?: number;
  /** Worst main-thread lag of the leg's page while the leg lived (ms). */
  pageLagMaxMs?: number;
  /** Candidate types of the selected pair, local->remote: `host->host`, `relay->relay`, `relay->host`... */
  candidatePairType?: string;
  /** The leg's offer or answer: setLocalDescription -> its first relay candidate, i.e. the TURN allocation (ms). */
  turnAllocationMs?: number;
  /** STUN/TURN servers that failed while gathering, `url code text`, `; `-separated (no credential: Chromium's URL has none). */
  iceServerErrors?: string;
  /** The leg's last getStats sample (for evidence); not a CSV column. */
  lastStats?: unknown;
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
  /**
   * Received audio's loss as this leg counted it: lost / (received + lost), cumulative at
   * this sample; undefined before any packet was expected. (packetsLost above adds video.)
   */
  lossRatio?: number;
  /**
   * The far end's view of the audio this leg SENT, from its RTCP receiver reports
   * (remote-inbound-rtp); undefined when it sent none. remotePacketsLost is cumulative,
   * remoteLossRatio is remotePacketsLost / packetsSent of the audio stream (cumulative),
   * remoteFractionLost is RTCP's fraction lost over the last report's interval only.
   */
  remotePacketsLost?: number;
  remoteLossRatio?: number;
  remoteFractionLost?: number;
  remoteJitterSeconds?: number;
  /** The network profile (emulated impairment) the leg ran under, when the scenario set one. */
  networkProfile?: string;
  /**
   * Video, from getStats inbound-rtp / outbound-rtp of kind video (src/calls/videoQuality.ts);
   * undefined for a direction with no video stream. Frame rates and kbps are over the last
   * interval; freezes, keyframes, PLI and NACK counts are cumulative.
   */
  videoWidthIn?: number;
  videoHeightIn?: number;
  videoFpsIn?: number;
  videoKbpsIn?: number;
  videoFreezes?: number;
  videoFreezeSeconds?: number;
  videoKeyframesIn?: number;
  /** Keyframe (PLI) and retransmission (NACK) requests this leg sent about the video it receives. */
  videoPliSent?: number;
  videoNackSent?: number;
  videoWidthOut?: number;
  videoHeightOut?: number;
  videoFpsOut?: number;
  videoKbpsOut?: number;
  /** PLI requests the far end sent about the video this leg sends. */
  videoPliReceived?: number;
  /** Why the encoder sends less than asked: none, cpu, bandwidth, other. */
  videoQualityLimitation?: string;
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
  | { type: 'harness'; atMs: number; scenario: string; sample: HarnessSample; saturated: boolean; reasons: SaturationReason[] }
  /**
   * One SIP message of a call as an agent's WebSocket sent or received it (credentials
   * already redacted in the page). For evidence of failed calls; never a metric.
   */
  | { type: 'sipMessage'; atMs: number; scenario: string; agentId: string; sipCallId: string; sent: boolean; raw: string }
  /** A page's main-thread lag over one interval (a stall when past the watchdog's event-loop bound). */
  | { type: 'pageHealth'; atMs: number; scenario: string; pageId: string; lagMaxMs: number };

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
  peak?: { nodeCpuCores: number; chromiumCpuCores: number; chromiumBusiestProcessCores?: number; machineBusyCores: number; eventLoopLagP99Ms: number; nodeRssBytes: number; chromiumRssBytes: number; chromiumPssBytes?: number };
  /**
   * The budget judged by when the harness's cgroup is limited (a pod's limits): "limited to 2.6 cores
   * by its cgroup, throttled 14 s". Totals and peaks are over the judged samples, like mean and peak.
   */
  cgroup?: HarnessCgroupSummary;
}

export interface HarnessCgroupSummary {
  cpuLimitCores?: number;
  /** Throttled time in total (summed over CPUs) and the cgroup's peak CPU, when CPU-limited. */
  cpuThrottledSeconds?: number;
  peakCpuCores?: number;
  memoryLimitBytes?: number;
  /** Peak working set and OOM kills in total, when memory-limited. */
  peakMemoryBytes?: number;
  oomKills?: number;
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
  /** How a merged run was put together from its shards (`callwright merge`); absent on a run that was not merged. */
  shards?: ShardsSummary;
  /** Roles that ran on an impaired network: their path and profiles, and what the impairer did. Absent: none did. */
  network?: NetworkSummary;
  /**
   * The harness itself broke mid-run in a way that makes later results not the system's (a role's
   * network impairer died): the run stopped early and exits 3, whatever the calls did.
   */
  harnessFault?: string;
  exitCode: number;
}

/** Per role with a network of its own (docs/network.md). */
export interface NetworkSummary {
  roles: Record<
    string,
    {
      namespace: string;
      address: string;
      /** Profiles in the order they were in effect, each from its time (epoch ms). */
      profiles: { profile: string; description: string; fromMs: number }[];
      /** Counted by the impairer: packets each way, and how many it dropped, delayed and sent ahead. */
      impairer?: {
        up: { packets: number; dropped: number; delayed: number; reordered: number };
        down: { packets: number; dropped: number; delayed: number; reordered: number };
      };
    }
  >;
}

/**
 * The shards of a merged run (`callwright merge`): which were joined, which
 * are missing, and what each said of itself. A run with a missing shard is
 * incomplete: its exit code is 3 (docs/scale-out.md).
 */
export interface ShardsSummary {
  count: number;
  /** Indexes of the shards joined, ascending. */
  merged: number[];
  /** Shards not joined; none of their rows are in the merged files. */
  missing: MissingShard[];
  /** Per joined shard, from its own summary.json: per-machine figures that summing would hide. */
  byShard: ShardFigures[];
  /**
   * What the joined shards alone would exit with (judged like a whole run),
   * when shards are missing: shown beside the run's 3, never its verdict.
   */
  partialExitCode?: number;
}

/** `no_folder`: no folder for this index; `no_summary`: a folder without summary.json (crashed, killed or still running). */
export type MissingShardReason = 'no_folder' | 'no_summary';

export interface MissingShard {
  index: number;
  reason: MissingShardReason;
  folder?: string;
  /** Rows its partial calls.csv holds (left out of the merge). */
  unjoinedCalls?: number;
}

export interface ShardFigures {
  index: number;
  folder: string;
  exitCode: number;
  interrupted: boolean;
  startedAtMs: number;
  endedAtMs: number;
  calls: number;
  /** Calls that failed when no expect step asked them to. */
  failedCalls: number;
  failedSteps: number;
  lateStarts: number;
  droppedStarts: number;
  harnessSaturated: boolean;
  harnessSaturatedSeconds: number;
  /** The shard machine's busiest moment and size, when its watchdog ran. */
  peakMachineCpuCores?: number;
  cores?: number;
}
