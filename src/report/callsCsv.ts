import { join } from 'node:path';
import type { CallResult, CallRow } from '../results.js';
import type { Reporter } from './reporter.js';
import { CsvFile, fieldColumns, isoTime, type FieldHeaders } from './csvFile.js';

export const CALLS_CSV = 'calls.csv';

/** Column order is part of the output's contract: append new columns at the end. */
export const CALL_HEADERS: FieldHeaders<CallRow> = {
  callId: 'call_id',
  scenario: 'scenario',
  iteration: 'iteration',
  name: 'name',
  callerRole: 'caller_role',
  calleeRole: 'callee_role',
  from: 'from',
  to: 'to',
  sipCallId: 'sip_call_id',
  startedAtMs: 'started_at',
  timeTo180Seconds: 'pdd_s',
  setupSeconds: 'setup_s',
  timeToFirstAudioSeconds: 'time_to_first_audio_s',
  durationSeconds: 'duration_s',
  result: 'result',
  failureExpected: 'failure_expected',
  sipStatus: 'sip_status',
  failureReason: 'failure_reason',
  failureDetail: 'failure_detail',
  inviteBytes: 'invite_bytes',
  codecOut: 'codec_out',
  codecIn: 'codec_in',
  packetsLost: 'packets_lost',
  packetLossRatio: 'packet_loss_ratio',
  jitterSeconds: 'jitter_s',
  rttSeconds: 'rtt_s',
  mos: 'mos',
  concealedRatio: 'concealed_ratio',
  oneWayAudio: 'one_way_audio',
  harnessSaturated: 'harness_saturated',
  harnessPrepSeconds: 'harness_prep_s',
  answerDelaySeconds: 'answer_delay_s',
  calleeAnswerSeconds: 'callee_answer_s',
  disconnectSeconds: 'disconnect_s',
  inviteSentAtMs: 'invite_sent_at',
  iceGatheringMs: 'ice_gathering_ms',
  iceConnectedMs: 'ice_connected_ms',
  candidatePair: 'candidate_pair',
  audioInterruptedAtSeconds: 'audio_interrupted_at_s',
  evidence: 'evidence',
  farEndLossRatio: 'far_end_loss_ratio',
  farEndJitterSeconds: 'far_end_jitter_s',
  // Received video, the worse leg's (src/calls/videoQuality.ts).
  videoFpsIn: 'video_fps_in',
  videoResolutionIn: 'video_resolution_in',
  videoKbpsIn: 'video_kbps_in',
  videoFreezes: 'video_freezes',
  videoFreezeSeconds: 'video_freeze_s',
  videoFirstFreezeAtSeconds: 'video_first_freeze_at_s',
  // The caller leg's video codec each way, and transcoding between the call's legs (src/calls/transcoding.ts).
  videoCodecOut: 'video_codec_out',
  videoCodecIn: 'video_codec_in',
  transcoded: 'transcoded',
  // Lite agents (docs/lite-agents.md): who carried each leg, and the payload check of lite legs.
  callerAgent: 'caller_agent',
  calleeAgent: 'callee_agent',
  knownFramesRatio: 'known_frames_ratio',
};

export const CALL_COLUMNS = fieldColumns<CallRow>(
  CALL_HEADERS,
  { startedAtMs: isoTime, inviteSentAtMs: isoTime },
);

/** `calls.csv`: one row per call, written the moment the call ends. */
export class CallsCsvReporter implements Reporter {
  readonly name = 'calls-csv';
  private readonly file: CsvFile<CallRow>;

  constructor(outDir: string) {
    this.file = new CsvFile(join(outDir, CALLS_CSV), CALL_COLUMNS);
  }

  onBegin(): void {
    this.file.open();
  }

  onCallEnd(call: CallResult): void {
    this.file.write(this.file.line(call));
  }

  onEnd(): void {
    this.file.close();
  }

  close(): void {
    this.file.close();
  }
}
