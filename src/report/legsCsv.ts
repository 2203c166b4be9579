import { join } from 'node:path';
import type { CallResult, LegResult } from '../results.js';
import type { Reporter } from './reporter.js';
import { CsvFile, fieldColumns, isoTime, type FieldHeaders } from './csvFile.js';

export const LEGS_CSV = 'legs.csv';

type LegRow = Omit<LegResult, 'lastStats'>;

/** Column order is part of the output's contract: append new columns at the end. */
export const LEG_HEADERS: FieldHeaders<LegRow> = {
  callId: 'call_id',
  legId: 'leg_id',
  role: 'role',
  agentId: 'agent_id',
  direction: 'direction',
  sipCallId: 'sip_call_id',
  iceGatheringMs: 'ice_gathering_ms',
  iceCandidates: 'ice_candidates',
  iceCandidateTypes: 'ice_candidate_types',
  iceGatheringEndedBy: 'ice_gathering_ended_by',
  iceMissingMids: 'ice_missing_mids',
  transportTimeline: 'transport_timeline',
  iceConnectedAtMs: 'ice_connected_at',
  dtlsConnectedAtMs: 'dtls_connected_at',
  iceState: 'ice_state',
  dtlsState: 'dtls_state',
  connectionState: 'connection_state',
  localCandidate: 'local_candidate',
  remoteCandidate: 'remote_candidate',
  firstRtpSentAtMs: 'first_rtp_sent_at',
  firstRtpReceivedAtMs: 'first_rtp_received_at',
  createdAtMs: 'created_at',
  endedAtMs: 'ended_at',
  audioStoppedAtMs: 'audio_stopped_at',
  audioSilentAtMs: 'audio_silent_at',
  pageLagMaxMs: 'page_lag_max_ms',
  candidatePairType: 'candidate_pair_type',
  turnAllocationMs: 'turn_allocation_ms',
  iceServerErrors: 'ice_server_errors',
};

const LEG_COLUMNS = fieldColumns<LegRow>(LEG_HEADERS, {
  iceGatheringMs: (ms) => (ms === undefined ? undefined : Math.round(ms * 10) / 10),
  iceConnectedAtMs: isoTime,
  dtlsConnectedAtMs: isoTime,
  firstRtpSentAtMs: isoTime,
  firstRtpReceivedAtMs: isoTime,
  createdAtMs: isoTime,
  endedAtMs: isoTime,
  audioStoppedAtMs: isoTime,
  audioSilentAtMs: isoTime,
  pageLagMaxMs: (ms) => (ms === undefined ? undefined : Math.round(ms)),
  turnAllocationMs: (ms) => (ms === undefined ? undefined : Math.round(ms * 10) / 10),
});

/** `legs.csv`: one row per callwright leg of each call, its transport timeline, written when the call ends. */
export class LegsCsvReporter implements Reporter {
  readonly name = 'legs-csv';
  private readonly file: CsvFile<LegRow>;

  constructor(outDir: string) {
    this.file = new CsvFile(join(outDir, LEGS_CSV), LEG_COLUMNS);
  }

  onBegin(): void {
    this.file.open();
  }

  onCallEnd(call: CallResult): void {
    for (const leg of call.legs ?? []) this.file.write(this.file.line(leg));
  }

  onEnd(): void {
    this.file.close();
  }

  close(): void {
    this.file.close();
  }
}
