/** One synthetic run's report data and the charts report.html must draw from it: the text test and the Chromium test share them. */
import { MediaTimeline } from '../../src/report/html/timeSeries.js';
import { evaluateThresholds } from '../../src/verdict/evaluate.js';
import { parseThresholds } from '../../src/verdict/parseThresholds.js';
import { syntheticRun } from './syntheticRun.js';

export const CHARTS = ['active-calls', 'call-rate', 'setup-time', 'mos', 'jitter-rtt', 'packet-loss', 'failures'];

export function reportData() {
  const run = syntheticRun({ count: 60, failed: ['sip_status', 'timeout', 'no_media'] });
  const thresholds = evaluateThresholds(
    parseThresholds({ call_success: ['rate>=0.99'], setup_time: ['p(95)<2s'], mos: ['avg>4.0'], packet_loss: ['max<0.05'] }, 'test'),
    { calls: run.calls, steps: run.steps, summary: run.summary },
  );
  return { ...run, thresholds, media: MediaTimeline.of(run.summary.info.startedAtMs, run.samples), generatedAtMs: run.summary.endedAtMs };
}
