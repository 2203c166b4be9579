import { join } from 'node:path';
import type { LegSample, RunEvent } from '../results.js';
import type { Reporter } from './reporter.js';
import { CsvFile, fieldColumns, isoTime, type CsvColumn, type FieldHeaders } from './csvFile.js';

export const SAMPLES_CSV = 'samples.csv';

export const SAMPLE_HEADERS: FieldHeaders<LegSample> = {
  atMs: 'at_ms',
  scenario: 'scenario',
  callId: 'call_id',
  legId: 'leg_id',
  role: 'role',
  direction: 'direction',
  codecIn: 'codec_in',
  codecOut: 'codec_out',
  packetsReceived: 'packets_received',
  packetsSent: 'packets_sent',
  bytesReceived: 'bytes_received',
  bytesSent: 'bytes_sent',
  packetsLost: 'packets_lost',
  inPacketRate: 'in_packet_rate',
  outPacketRate: 'out_packet_rate',
  jitterSeconds: 'jitter_s',
  rttSeconds: 'rtt_s',
  audioLevel: 'audio_level',
  audioEnergyRate: 'audio_energy_rate',
  concealedRatio: 'concealed_ratio',
  videoFramesDecoded: 'video_frames_decoded',
  videoFramesEncoded: 'video_frames_encoded',
  // Appended: column order is part of the output's contract. Both views of the audio's loss (src/calls/lossViews.ts).
  lossRatio: 'loss_ratio',
  remotePacketsLost: 'remote_packets_lost',
  remoteLossRatio: 'remote_loss_ratio',
  remoteFractionLost: 'remote_fraction_lost',
  remoteJitterSeconds: 'remote_jitter_s',
  networkProfile: 'network_profile',
  // Video (src/calls/videoQuality.ts): empty where the leg has no video stream that way.
  videoWidthIn: 'video_width_in',
  videoHeightIn: 'video_height_in',
  videoFpsIn: 'video_fps_in',
  videoKbpsIn: 'video_kbps_in',
  videoFreezes: 'video_freezes',
  videoFreezeSeconds: 'video_freeze_s',
  videoKeyframesIn: 'video_keyframes_in',
  videoPliSent: 'video_pli_sent',
  videoNackSent: 'video_nack_sent',
  videoWidthOut: 'video_width_out',
  videoHeightOut: 'video_height_out',
  videoFpsOut: 'video_fps_out',
  videoKbpsOut: 'video_kbps_out',
  videoPliReceived: 'video_pli_received',
  videoQualityLimitation: 'video_quality_limitation',
};

export const SAMPLE_COLUMNS: readonly CsvColumn<LegSample>[] = [
  { header: 'at', cell: (sample) => isoTime(sample.atMs) },
  ...fieldColumns<LegSample>(SAMPLE_HEADERS),
];

export interface SamplesCsvOptions {
  /** Longest time a sample waits in memory. */
  flushIntervalMs?: number;
  /** Flush early when this many rows are waiting (a big load makes many). */
  maxBufferedRows?: number;
}

/**
 * `samples.csv`: one row per leg sample. Samples come every second from every
 * leg, so rows are buffered and written at most `flushIntervalMs` later rather
 * than one write each.
 */
export class SamplesCsvReporter implements Reporter {
  readonly name = 'samples-csv';
  private readonly file: CsvFile<LegSample>;
  private readonly maxBufferedRows: number;
  private buffered: string[] = [];
  private readonly timer: NodeJS.Timeout;
  /** A failed timed flush has nobody to throw to; the next hook throws it so the multiplexer reports it. */
  private timedFlushError: unknown;

  constructor(outDir: string, { flushIntervalMs = 1000, maxBufferedRows = 1000 }: SamplesCsvOptions = {}) {
    this.file = new CsvFile(join(outDir, SAMPLES_CSV), SAMPLE_COLUMNS);
    this.maxBufferedRows = maxBufferedRows;
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (error) {
        this.timedFlushError ??= error;
      }
    }, flushIntervalMs);
    this.timer.unref(); // never what keeps the process alive
  }

  onBegin(): void {
    this.file.open();
  }

  onEvent(event: RunEvent): void {
    this.throwTimedFlushError();
    if (event.type !== 'sample') return;
    this.buffered.push(this.file.line(event.sample));
    if (this.buffered.length >= this.maxBufferedRows) this.flush();
  }

  flush(): void {
    if (this.buffered.length === 0) return;
    const lines = this.buffered.join('');
    this.buffered = [];
    this.file.write(lines);
  }

  onEnd(): void {
    this.close();
    this.throwTimedFlushError();
  }

  /** Flushes what is left and closes; safe to call more than once. */
  close(): void {
    clearInterval(this.timer);
    try {
      this.flush();
    } finally {
      this.file.close();
    }
  }

  private throwTimedFlushError(): void {
    const error = this.timedFlushError;
    if (error === undefined) return;
    this.timedFlushError = undefined;
    throw error;
  }
}
