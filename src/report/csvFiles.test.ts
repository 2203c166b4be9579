import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallResult, LegSample, StepResult } from '../results.js';
import { CallsCsvReporter } from './callsCsv.js';
import { formatCell, formatNumber } from './csvFile.js';
import { SamplesCsvReporter } from './samplesCsv.js';
import { StepsCsvReporter } from './stepsCsv.js';

const at = Date.parse('2025-03-01T10:00:00.000Z');

const fullCall: CallResult = {
  callId: '3.main',
  scenario: 'smoke',
  iteration: 3,
  name: 'main',
  callerRole: 'alice',
  calleeRole: 'bob',
  from: 'sip:alice@lab.test',
  to: 'sip:bob@lab.test',
  sipCallId: 'a84b4c76e66710',
  startedAtMs: at,
  timeTo180Seconds: 0.0421234567,
  setupSeconds: 0.25,
  timeToFirstAudioSeconds: 0.12,
  durationSeconds: 5.000001,
  result: 'success',
  failureExpected: false,
  inviteBytes: 1234,
  codecOut: 'opus',
  codecIn: 'opus',
  packetsLost: 2,
  packetLossRatio: 0.008,
  jitterSeconds: 0.0031,
  rttSeconds: 0.012,
  mos: 4.38,
  concealedRatio: 0,
  oneWayAudio: false,
  farEndLossRatio: 0.0125,
  farEndJitterSeconds: 0.0042,
  videoFpsIn: 14.5,
  videoResolutionIn: '320x240',
  videoKbpsIn: 251.25,
  videoFreezes: 1,
  videoFreezeSeconds: 2.2,
  videoFirstFreezeAtSeconds: 3.5,
  videoCodecOut: 'H264',
  videoCodecIn: 'VP8',
  transcoded: 'audio opus->PCMU; video H264->VP8',
  callerAgent: 'lite',
  calleeAgent: 'browser',
  knownFramesRatio: 0.995,
};

const failedCall: CallResult = {
  callId: '4.main',
  scenario: 'smoke',
  iteration: 4,
  name: 'main',
  callerRole: 'alice',
  from: 'sip:alice@lab.test',
  to: 'sip:"carol, jr"@lab.test',
  startedAtMs: at + 1000,
  result: 'failed',
  failureExpected: true,
  sipStatus: 486,
  failureReason: 'sip_status',
  failureDetail: 'expected 200, got 486 "Busy Here"',
  oneWayAudio: true,
};

const sample: LegSample = {
  atMs: at + 2500,
  scenario: 'smoke',
  callId: '3.main',
  legId: 'leg-7',
  role: 'alice',
  direction: 'outgoing',
  codecIn: 'opus',
  codecOut: 'opus',
  packetsReceived: 150,
  packetsSent: 151,
  bytesReceived: 12000,
  bytesSent: 12080,
  packetsLost: 1,
  inPacketRate: 50,
  outPacketRate: 50.333333333,
  jitterSeconds: 0.002,
  rttSeconds: 0.01,
  audioLevel: 0.25,
  audioEnergyRate: 0.0123,
  concealedRatio: 0.001,
  videoFramesDecoded: 0,
  videoFramesEncoded: 0,
  lossRatio: 1 / 151,
  remotePacketsLost: 2,
  remoteLossRatio: 2 / 151,
  remoteFractionLost: 0.0078125,
  remoteJitterSeconds: 0.0035,
  networkProfile: 'lossy-3g',
  videoWidthIn: 320,
  videoHeightIn: 240,
  videoFpsIn: 15,
  videoKbpsIn: 250.5,
  videoFreezes: 1,
  videoFreezeSeconds: 2.25,
  videoKeyframesIn: 3,
  videoPliSent: 2,
  videoNackSent: 11,
  videoWidthOut: 160,
  videoHeightOut: 120,
  videoFpsOut: 14.8,
  videoKbpsOut: 180,
  videoPliReceived: 1,
  videoQualityLimitation: 'none',
};

const step: StepResult = {
  scenario: 'smoke',
  iteration: 3,
  index: 1,
  name: 'alice calls bob',
  kind: 'call',
  role: 'alice',
  call: 'main',
  ok: false,
  failureReason: 'timeout',
  detail: 'no 200 OK within 10 s',
  startedAtMs: at,
  durationSeconds: 10.0004,
};

let outDir: string;
beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'callwright-csv-'));
});
afterEach(() => rmSync(outDir, { recursive: true, force: true }));

const read = (file: string) => readFileSync(join(outDir, file), 'utf8');
const lines = (file: string) => read(file).split('\n');

describe('calls.csv', () => {
  const header =
    'call_id,scenario,iteration,name,caller_role,callee_role,from,to,sip_call_id,started_at,pdd_s,setup_s,' +
    'time_to_first_audio_s,duration_s,result,failure_expected,sip_status,failure_reason,failure_detail,invite_bytes,' +
    'codec_out,codec_in,packets_lost,packet_loss_ratio,jitter_s,rtt_s,mos,concealed_ratio,one_way_audio,harness_saturated,' +
    'harness_prep_s,answer_delay_s,callee_answer_s,disconnect_s,invite_sent_at,ice_gathering_ms,ice_connected_ms,candidate_pair,' +
    'audio_interrupted_at_s,evidence,far_end_loss_ratio,far_end_jitter_s,' +
    'video_fps_in,video_resolution_in,video_kbps_in,video_freezes,video_freeze_s,video_first_freeze_at_s,' +
    'video_codec_out,video_codec_in,transcoded,caller_agent,callee_agent,known_frames_ratio';

  it('has the header at begin and each call on disk as soon as the call ends, before onEnd', () => {
    const reporter = new CallsCsvReporter(outDir);
    reporter.onBegin();
    expect(read('calls.csv')).toBe(`${header}\n`);

    reporter.onCallEnd(fullCall);
    expect(lines('calls.csv')).toEqual([
      header,
      '3.main,smoke,3,main,alice,bob,sip:alice@lab.test,sip:bob@lab.test,a84b4c76e66710,2025-03-01T10:00:00.000Z,' +
        '0.042123,0.25,0.12,5.000001,success,false,,,,1234,opus,opus,2,0.008,0.0031,0.012,4.38,0,false,,,,,,,,,,,,0.0125,0.0042,' +
        '14.5,320x240,251.25,1,2.2,3.5,H264,VP8,audio opus->PCMU; video H264->VP8,lite,browser,0.995',
      '',
    ]);

    reporter.onCallEnd(failedCall);
    expect(lines('calls.csv')[2]).toBe(
      '4.main,smoke,4,main,alice,,sip:alice@lab.test,"sip:""carol, jr""@lab.test",,2025-03-01T10:00:01.000Z,' +
        ',,,,failed,true,486,sip_status,"expected 200, got 486 ""Busy Here""",,,,,,,,,,true,,,,,,,,,,,,,' +
        ',,,,,,,,,,,,',
    );
    reporter.onEnd();
    expect(lines('calls.csv')).toHaveLength(4);
  });

  it('leaves a header-only file for a run without calls', () => {
    const reporter = new CallsCsvReporter(outDir);
    reporter.onEnd();
    expect(read('calls.csv')).toBe(`${header}\n`);
  });
});

describe('samples.csv', () => {
  const header =
    'at,at_ms,scenario,call_id,leg_id,role,direction,codec_in,codec_out,packets_received,packets_sent,bytes_received,' +
    'bytes_sent,packets_lost,in_packet_rate,out_packet_rate,jitter_s,rtt_s,audio_level,audio_energy_rate,' +
    'concealed_ratio,video_frames_decoded,video_frames_encoded,loss_ratio,remote_packets_lost,remote_loss_ratio,' +
    'remote_fraction_lost,remote_jitter_s,network_profile,' +
    'video_width_in,video_height_in,video_fps_in,video_kbps_in,video_freezes,video_freeze_s,video_keyframes_in,video_pli_sent,' +
    'video_nack_sent,video_width_out,video_height_out,video_fps_out,video_kbps_out,video_pli_received,video_quality_limitation';
  const row =
    '2025-03-01T10:00:02.500Z,1740823202500,smoke,3.main,leg-7,alice,outgoing,opus,opus,150,151,12000,12080,1,50,' +
    '50.333333,0.002,0.01,0.25,0.0123,0.001,0,0,0.006623,2,0.013245,0.007813,0.0035,lossy-3g,' +
    '320,240,15,250.5,1,2.25,3,2,11,160,120,14.8,180,1,none';

  it('has every LegSample field as a snake_case column, with ISO time and epoch ms', () => {
    const reporter = new SamplesCsvReporter(outDir);
    reporter.onBegin();
    reporter.onEvent({ type: 'sample', sample });
    reporter.onEvent({ type: 'log', atMs: at, level: 'info', message: 'not a sample' });
    reporter.onEnd();
    expect(lines('samples.csv')).toEqual([header, row, '']);
  });

  it('flushes buffered samples within the flush interval, without waiting for the end', async () => {
    const reporter = new SamplesCsvReporter(outDir, { flushIntervalMs: 20 });
    reporter.onBegin();
    reporter.onEvent({ type: 'sample', sample });
    expect(lines('samples.csv')).toEqual([header, '']); // buffered, not written one by one
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(lines('samples.csv')).toEqual([header, row, '']);
    reporter.close();
  });

  it('flushes early when many rows wait', () => {
    const reporter = new SamplesCsvReporter(outDir, { flushIntervalMs: 60_000, maxBufferedRows: 2 });
    reporter.onEvent({ type: 'sample', sample });
    reporter.onEvent({ type: 'sample', sample });
    expect(lines('samples.csv')).toEqual([header, row, row, '']);
    reporter.close();
  });

  it('omits empty optional fields as empty cells', () => {
    const reporter = new SamplesCsvReporter(outDir);
    const bare: LegSample = {
      atMs: sample.atMs,
      scenario: 'smoke',
      callId: '3.main',
      legId: 'leg-7',
      role: 'alice',
      direction: 'outgoing',
      packetsReceived: 150,
      packetsSent: 151,
      bytesReceived: 12000,
      bytesSent: 12080,
      packetsLost: 1,
      inPacketRate: 50,
      outPacketRate: 50.333333333,
    };
    reporter.onEvent({ type: 'sample', sample: bare });
    reporter.onEnd();
    expect(lines('samples.csv')[1]).toBe(
      '2025-03-01T10:00:02.500Z,1740823202500,smoke,3.main,leg-7,alice,outgoing,,,150,151,12000,12080,1,50,50.333333,,,,,,,,,,,,,' +
        ',,,,,,,,,,,,,,,',
    );
  });
});

describe('steps.csv', () => {
  it('has one row per ended step, written as it ends', () => {
    const reporter = new StepsCsvReporter(outDir);
    reporter.onBegin();
    reporter.onEvent({ type: 'stepEnd', step });
    expect(lines('steps.csv')).toEqual([
      'scenario,iteration,index,name,kind,role,call,ok,failure_reason,detail,sip_status,started_at,duration_s',
      'smoke,3,1,alice calls bob,call,alice,main,false,timeout,no 200 OK within 10 s,,2025-03-01T10:00:00.000Z,10.0004',
      '',
    ]);
    reporter.onEnd();
  });
});

describe('cell formatting', () => {
  it('keeps whole numbers, rounds others to 6 decimals, empties undefined and non-finite', () => {
    expect(formatNumber(1740823202500)).toBe('1740823202500');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(0.0123456789)).toBe('0.012346');
    expect(formatNumber(Number.NaN)).toBe('');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('');
    expect(formatCell(undefined)).toBe('');
    expect(formatCell(true)).toBe('true');
  });
});

describe('reporters without onBegin', () => {
  it('still leave header-only files at the end', () => {
    const calls = new CallsCsvReporter(outDir);
    const steps = new StepsCsvReporter(outDir);
    calls.onEnd();
    steps.onEnd();
    calls.close(); // closing twice is harmless
    expect(read('steps.csv').startsWith('scenario,')).toBe(true);
    expect(read('calls.csv').startsWith('call_id,')).toBe(true);
  });
});
