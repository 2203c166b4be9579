/**
 * The typed scenario, after loading and validation. YAML shapes (durations
 * like "5s", single-key step maps, account ranges) are normalised away by the
 * loader; everything downstream reads only these types.
 */

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
  /** k6-style thresholds by metric name, e.g. { call_success: ['rate>=0.99'] }. */
  thresholds: Record<string, string[]>;
}

export interface Target {
  /** ws:// or wss:// URL of the SIP-over-WebSocket server. */
  url: string;
  /** SIP domain of the accounts (the host part of their address of record). */
  domain: string;
  /** CA certificate file for wss:// servers with self-signed certificates. */
  caFile?: string;
  /** Accept any certificate (loudly logged). */
  insecureTls?: boolean;
}

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
  /** Answer incoming calls by itself (load scenarios); otherwise an `answer` step does. */
  autoAnswer?: { afterSeconds: number };
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
  | { kind: 'codec'; codec: string; direction: MediaDirection }
  | { kind: 'firstAudio'; withinSeconds: number }
  | { kind: 'dtmf'; tones: string }
  | { kind: 'message'; body: string }
  | { kind: 'inviteSize'; maxBytes?: number; minBytes?: number };

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
      codecs?: string[];
      /** Extra SDP lines put into the INVITE's offer. */
      extraSdp?: string[];
      headers?: string[];
      /** The step ends when the call reaches this point. */
      until: 'sent' | 'ringing' | 'established';
    })
  | (StepBase & {
      kind: 'answer';
      call: string;
      role: string;
      afterSeconds: number;
      /** Reject with this SIP status instead of answering. */
      rejectStatus?: number;
      audio: boolean;
      video: boolean;
      codecs?: string[];
      /** Extra SDP lines put into the 200 OK's answer. */
      extraSdp?: string[];
    })
  | (StepBase & { kind: 'expect'; call: string; role?: string; check: Check })
  | (StepBase & { kind: 'wait'; seconds: number })
  | (StepBase & { kind: 'dtmf'; call: string; role: string; tones: string; mode: 'rfc4733' | 'info'; durationMs: number; gapMs: number })
  | (StepBase & { kind: 'hold'; call: string; role: string })
  | (StepBase & { kind: 'unhold'; call: string; role: string })
  | (StepBase & { kind: 'transfer'; call: string; role: string; to: Party; newCall: string })
  | (StepBase & { kind: 'message'; from: string; to: Party; body: string; contentType: string })
  | (StepBase & { kind: 'hangup'; call: string; role: string });

export type StepKind = Step['kind'];

export interface Load {
  /** How many times the step script runs in all. */
  iterations: number;
  /** How many iterations run at once (closed model). */
  concurrency: number;
}

export interface ScenarioOptions {
  statsIntervalSeconds: number;
  iceGatheringTimeoutMs: number;
  registerExpiresSeconds: number;
  /** SIP user agents hosted by one page (they share one media capture). */
  agentsPerPage: number;
  pagesPerBrowser: number;
  playReceivedAudio: boolean;
}
