/**
 * The typed scenario, after loading and validation. YAML shapes (durations
 * like "5s", single-key step maps, account ranges) are normalised away by the
 * loader; everything downstream reads only these types.
 */
import type { ShardInfo } from '../results.js';

export interface Scenario {
  name: string;
  description?: string;
  /** Path of the file it came from, for messages. */
  file: string;
  /** Absent: callwright starts its embedded SIP server. */
  target?: Target;
  roles: Record<string, Role>;
  steps: Step[];
  load: Load;
  options: ScenarioOptions;
  /** k6-style thresholds by metric name, e.g. { call_success: ['rate>=0.99'] }; checked as written by verdict/. */
  thresholds: Record<string, ScenarioThreshold[]>;
  /**
   * Network impairment profiles by name: the presets (scenario/networkPresets.ts) and the scenario's own
   * `network.profiles`, which may add names or replace a preset. Absent: no role is impaired.
   */
  network?: { profiles: Record<string, NetworkProfile> };
}

/** What one direction of a role's path does to packets (netem's vocabulary); 0 / absent: nothing. */
export interface ImpairmentDirection {
  /** Packets lost, percent (0..100). */
  lossPercent: number;
  /** Mean length of a run of lost packets (Gilbert model); 1: each loss independent. */
  lossBurst: number;
  /** Added one-way delay, ms. */
  delayMs: number;
  /** The delay's standard deviation, ms: normally distributed around delayMs, never below 0 (packets may then overtake each other, as with netem). */
  jitterMs: number;
  /** Packets sent at once, skipping the delay, percent: reordering. */
  reorderPercent: number;
  /** Rate limit in kbit/s (tbf); absent: none. */
  rateKbit?: number;
}

/** A named impairment: up is what the role sends, down what it receives. */
export interface NetworkProfile {
  name: string;
  up: ImpairmentDirection;
  down: ImpairmentDirection;
}

/** One threshold: an expression, or k6's object form that may stop the run once it is lost. */
export type ScenarioThreshold =
  | string
  | {
      threshold: string;
      abortOnFail?: boolean;
      /** Seconds into the run before an abort may happen. */
      delayAbortEval?: number;
    };

export interface Target {
  /** ws:// or wss:// URL of the SIP-over-WebSocket server. */
  url: string;
  /** SIP domain of the accounts (the host part of their address of record). */
  domain: string;
  /** CA certificate file for wss:// servers with self-signed certificates. */
  caFile?: string;
  /** Accept any certificate (loudly logged). */
  insecureTls?: boolean;
  /**
   * STUN and TURN servers the browsers' peer connections use. Absent: none, so legs
   * offer host candidates only (no packet leaves for a public STUN server).
   */
  iceServers?: IceServer[];
  /** 'relay': legs use TURN relay candidates only, as behind a firewall that lets only the relay through. Absent: 'all'. */
  iceTransportPolicy?: 'all' | 'relay';
}

/** A STUN or TURN server for the browsers, its credentials already read from the file or the environment. */
export type IceServer =
  /** STUN, or TURN with long-term credentials used as given. */
  | { kind: 'static'; urls: string[]; username?: string; credential?: string }
  /**
   * TURN REST API (coturn's use-auth-secret, most TURN services): for each run callwright
   * makes the username `<now + ttl>:<user>` and its credential, base64 HMAC-SHA1 under the secret.
   */
  | { kind: 'sharedSecret'; urls: string[]; secret: string; user: string; ttlSeconds: number };

export interface Account {
  /** SIP user part, already validated against RFC 3261 (escaped if needed). */
  user: string;
  /** Authentication user name when it differs from `user`. */
  authUser?: string;
  password?: string;
  displayName?: string;
}

export interface Role {
  name: string;
  accounts: Account[];
  /** Answer incoming calls by itself (load scenarios); otherwise an `answer` step does. receiveOnly: answer recvonly, sending nothing. */
  autoAnswer?: { afterSeconds: number; receiveOnly?: true };
  /**
   * The impairment profile (a key of scenario.network.profiles) its browsers' network starts with.
   * A role with one runs its browsers in a network namespace of its own, even on 'clean'.
   */
  network?: string;
  /**
   * 'lite': its user agents are lite agents (SIP.js in Node processes, node-datachannel media,
   * pre-encoded audio, audio only); absent: headless Chromium.
   */
  agent?: 'lite';
}

/** Extra SDP lines for the sections of one kind of media: each m=audio / m=video section gets them. */
export interface ExtraMediaSdp {
  audio?: string[];
  video?: string[];
}

/** A role name, or a SIP URI (sip:/sips:) of a device outside callwright. */
export type Party = { role: string } | { uri: string };

export type CallState = 'ringing' | 'established' | 'ended' | 'failed';
export type MediaFlow = 'flowing' | 'stopped';
/** Seen from the role's leg: 'in' is what it receives, 'out' what it sends. */
export type MediaDirection = 'both' | 'in' | 'out';

export type Check =
  | { kind: 'state'; state: CallState; status?: number }
  | { kind: 'media'; flow: MediaFlow; direction: MediaDirection; media: 'audio' | 'video' }
  /** The codec getStats names for the role's `media` stream: 'out' what it encodes, 'in' what it decodes. */
  | { kind: 'codec'; codec: string; direction: MediaDirection; media: 'audio' | 'video' }
  /**
   * Whether the call was transcoded: per media kind and way, the codec one callwright leg encodes
   * differs from the one the other decodes (src/calls/transcoding.ts). Needs both ends to be callwright legs.
   */
  | { kind: 'transcoded'; expected: boolean }
  | { kind: 'firstAudio'; withinSeconds: number }
  | { kind: 'dtmf'; tones: string }
  | { kind: 'message'; body: string }
  | { kind: 'inviteSize'; maxBytes?: number; minBytes?: number }
  /**
   * Lines the SDP crossing this leg's WebSocket must hold: 'in' what the far end sent (its offer
   * or answer, e.g. b=TIAS lines it added, m=video 0 for a refused video stream), 'out' what
   * this leg sent, 'both' each. A line matches when it equals the text or starts with it and a space.
   */
  | { kind: 'sdp'; lines: string[]; direction: MediaDirection }
  /** The video the role's leg receives, within limits (src/runner/checks.ts): at least one is set. */
  | { kind: 'video'; limits: VideoLimits };

/**
 * Limits on received video. Frame rate and bitrate are over the last stats interval,
 * the size is the last decoded frame's, freezes count from the call's start (getStats).
 */
export interface VideoLimits {
  minFps?: number;
  maxFreezes?: number;
  maxFreezeSeconds?: number;
  minKbps?: number;
  maxKbps?: number;
  minWidth?: number;
  minHeight?: number;
}

interface StepBase {
  /** Human name for reports; defaults to the kind and its main argument. */
  name: string;
  /** Seconds the step may take before it fails with reason 'timeout'. */
  timeoutSeconds: number;
}

export type Step =
  | (StepBase & { kind: 'register'; roles: string[] })
  | (StepBase & { kind: 'unregister'; roles: string[] })
  | (StepBase & {
      kind: 'call';
      call: string;
      from: string;
      to: Party;
      audio: boolean;
      video: boolean;
      /** A listen-only leg: offers a=recvonly, takes no microphone or camera and sends no RTP. */
      receiveOnly?: true;
      codecs?: string[];
      /** Extra SDP lines put into the INVITE's offer, at session level. */
      extraSdp?: string[];
      /** Extra lines for the offer's audio or video sections (b=AS:256 there is what a browser obeys). */
      extraMediaSdp?: ExtraMediaSdp;
      headers?: string[];
      /** The step ends when the call reaches this point. */
      until: 'sent' | 'ringing' | 'established';
    })
  | (StepBase & {
      kind: 'answer';
      call: string;
      role: string;
      /**
       * The call comes from outside callwright (a SIP device calling the role's registered
       * account): the step waits for the role's next incoming call that no step placed and
       * names it `call`. Otherwise `call` was placed by an earlier call or transfer step.
       */
      incoming?: true;
      afterSeconds: number;
      /** Reject with this SIP status instead of answering. */
      rejectStatus?: number;
      audio: boolean;
      video: boolean;
      /** A listen-only leg: answers a=recvonly, takes no microphone or camera and sends no RTP. */
      receiveOnly?: true;
      codecs?: string[];
      /** Extra SDP lines put into the 200 OK's answer, at session level. */
      extraSdp?: string[];
      /** Extra lines for the answer's audio or video sections. */
      extraMediaSdp?: ExtraMediaSdp;
    })
  | (StepBase & { kind: 'expect'; call: string; role?: string; check: Check })
  /** `holdTime`: a `wait: holdTime` step; it lasts the iteration's draw from load.holdTime (seconds is then 0). */
  | (StepBase & { kind: 'wait'; seconds: number; holdTime?: true })
  | (StepBase & { kind: 'dtmf'; call: string; role: string; tones: string; mode: 'rfc4733' | 'info'; durationMs: number; gapMs: number })
  | (StepBase & { kind: 'hold'; call: string; role: string })
  | (StepBase & { kind: 'unhold'; call: string; role: string })
  /**
   * Fault injection on the role's own sender: 'stop' sends no more RTP, 'silence' keeps
   * sending packets of silence, 'restore' undoes either. The far end's checks then see
   * media_stopped / silent_audio: a way to prove a pipeline catches them. mediaKind 'video'
   * acts on the camera instead: 'stop' sends no frames (the far end sees a freeze once they
   * resume), 'silence' sends black frames.
   */
  | (StepBase & { kind: 'fault'; call: string; role: string; media: 'stop' | 'silence' | 'restore'; mediaKind: 'audio' | 'video' })
  | (StepBase & { kind: 'transfer'; call: string; role: string; to: Party; newCall: string })
  | (StepBase & { kind: 'message'; from: string; to: Party; body: string; contentType: string })
  | (StepBase & { kind: 'hangup'; call: string; role: string })
  /** Switches a role's network to another profile at once (all its legs: the namespace is the role's). */
  | (StepBase & { kind: 'network'; role: string; profile: string });

export type StepKind = Step['kind'];

/**
 * How calls are started, in k6/Artillery/SIPp terms. Closed model (SIPp -l,
 * k6 constant-vus): `concurrency` iterations kept running, each starting the
 * moment another ends. Open model (SIPp -r/-rp, Artillery phases, k6
 * ramping-arrival-rate): iterations arrive at a rate whatever is in progress,
 * at most `concurrency` at once; an arrival that finds them all busy is
 * dropped and counted, never queued. The plan (src/plan) turns this into
 * arrival times and account slots.
 */
export interface Load {
  model: 'closed' | 'open';
  /** Most iterations started in all (SIPp -m); absent when the duration or the phases bound the run. */
  iterations?: number;
  /** Closed: iterations at once. Open: the cap on iterations at once (load.maxConcurrent). Also the number of account slots. */
  concurrency: number;
  /** Open model only (empty for closed): the arrival rate over time. */
  phases: RatePhase[];
  /** Open model: evenly spaced arrivals (SIPp, k6) or a Poisson process (random gaps, same mean rate). */
  arrivals: 'uniform' | 'poisson';
  /** Closed: stop starting iterations after this. Open: the phases' total. */
  durationSeconds?: number;
  /** How long `wait: holdTime` steps hold the call; drawn per iteration. */
  holdTime?: HoldTime;
  /** A start this much after its planned time counts as late (the harness was busy). */
  lateAfterSeconds: number;
  /** A start this much after its planned time is dropped instead: catching up would be a burst the PBX never asked for. */
  dropAfterSeconds: number;
  /** After the last start, iterations still running get this long to finish, then they are stopped (k6 gracefulStop). */
  gracefulStopSeconds: number;
  /** Register every slot's accounts before the first call, at registerRate per second. */
  preRegister: boolean;
  registerRate: number;
  /** Seeds Poisson arrivals and hold-time draws, so a plan is reproducible. */
  seed: number;
  /** How often a row is added to stats.csv. */
  statsPeriodSeconds: number;
  /** Set when this process runs one shard of the scenario (src/plan/shards.ts): the plan keeps its share of the arrivals. */
  shard?: ShardInfo;
}

/** One stretch of an open model: `rate` calls/s at its start, moving linearly to `endRate` at its end. */
export interface RatePhase {
  durationSeconds: number;
  rate: number;
  endRate: number;
}

/** A call hold time: fixed, or a distribution drawn once per iteration (seeded). */
export type HoldTime =
  | { kind: 'fixed'; seconds: number }
  | { kind: 'uniform'; minSeconds: number; maxSeconds: number }
  /** Exponential (memoryless, the classic telephony call-duration model), cut at maxSeconds. */
  | { kind: 'exponential'; meanSeconds: number; maxSeconds: number }
  /** Normal, cut to [minSeconds, maxSeconds]. */
  | { kind: 'normal'; meanSeconds: number; stddevSeconds: number; minSeconds: number; maxSeconds: number };

export interface ScenarioOptions {
  statsIntervalSeconds: number;
  /**
   * 'usable' (default): a description leaves once every media section has a usable
   * candidate, within iceGatheringTimeoutMs; 'complete': it waits for gathering to
   * complete, cut at iceGatheringTimeoutMs (a fixed timeout).
   */
  iceGathering: 'usable' | 'complete';
  iceGatheringTimeoutMs: number;
  registerExpiresSeconds: number;
  /** SIP user agents hosted by one page (they share one media capture); absent: the plan's placement decides. */
  agentsPerPage?: number;
  /** Absent: the plan's placement decides (within Chromium's per-browser limits). */
  pagesPerBrowser?: number;
  /** SIP user agents of lite roles per lite agent process (one event loop each); absent: 250. */
  liteAgentsPerProcess?: number;
  playReceivedAudio: boolean;
  /** Fraction of legs whose received audio is played (decoded), chosen per leg; the others still count packets. 1: all. */
  receivedAudioSample: number;
  /** Audio packet time (a=ptime) asked of the far end and used by the browser; absent: the browser's 20 ms. */
  opusPtimeMs?: number;
  /** 'low-cost' sets opusPtimeMs 60 and receivedAudioSample 0.1 unless they are given (docs/load.md). */
  mediaProfile: 'standard' | 'low-cost';
  /** New agents go to a fresh page once a page has created this many RTCPeerConnections (Chromium: 500 per page lifetime). */
  pageRecycleAfter: number;
  /** When the harness counts itself as saturated (src/watchdog/watchdog.ts). */
  watchdog: WatchdogOptions;
  /** SIP logs kept in <out>/sip/: every failed call, plus this fraction of the others; at most maxFiles. */
  evidence: { sampleSuccessful: number; maxFiles: number };
}

export interface WatchdogOptions {
  /** Busy CPU of the machine, as a fraction of its cores, at or above which the harness is saturated. */
  cpu: number;
  /** Node's event-loop delay (p99 over one sample) at or above which the harness is saturated. */
  eventLoopLagMs: number;
  /** Fraction of the machine's memory in use at or above which the harness is saturated. */
  memory: number;
  intervalSeconds: number;
}
