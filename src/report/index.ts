/**
 * The run's outputs, assembled: CSV files, summary.json, Prometheus metrics
 * (live endpoint, metrics.prom, optional push), all behind one multiplexer.
 * Adding an output means adding a reporter here and nowhere else.
 */
import type { Registry } from 'prom-client';
import { InputError } from '../errors.js';
import { createMetricsRegistry } from '../metrics/definitions.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metricsServer.js';
import { DEFAULT_PUSH_INTERVAL_SECONDS } from '../metrics/periodicPush.js';
import { PrometheusReporter } from './prometheusReporter.js';
import type { CallResult } from '../results.js';
import type { Reporter } from './reporter.js';
import { CallsCsvReporter } from './callsCsv.js';
import { LegsCsvReporter } from './legsCsv.js';
import { ReporterMultiplexer } from './multiplexer.js';
import { RunReportsReporter } from './runReports.js';
import { prepareOutDir } from './outDir.js';
import { withoutUrlCredentials } from '../common/redact.js';
import { SamplesCsvReporter } from './samplesCsv.js';
import { evidenceOptions, evidencePath, keepsEvidence, SipEvidenceReporter, type SipEvidenceOptions } from './sipEvidence.js';
import { StepsCsvReporter } from './stepsCsv.js';
import { SummaryJsonReporter } from './summaryJson.js';

export { ReporterMultiplexer, type ReporterFailure } from './multiplexer.js';
export { CALLS_CSV } from './callsCsv.js';
export { LEGS_CSV } from './legsCsv.js';
export { SAMPLES_CSV } from './samplesCsv.js';
export { STEPS_CSV } from './stepsCsv.js';
export { SUMMARY_JSON, type SummaryDocument } from './summaryJson.js';
export { METRICS_PROM } from './prometheusReporter.js';
export { evidencePath, keepsEvidence, SIP_EVIDENCE_DIR, type SipEvidenceOptions } from './sipEvidence.js';

/** The Pushgateway job name; the run id and shard go in the grouping key. */
export const PUSHGATEWAY_JOB = 'callwright';
export { DEFAULT_PUSH_INTERVAL_SECONDS } from '../metrics/periodicPush.js';

export interface ReporterOptions {
  /** Serve live metrics at /metrics on this port (0: any free port); no server when undefined. */
  metricsPort?: number;
  /** Address for the metrics server; 127.0.0.1 unless told otherwise. */
  metricsHost?: string;
  /**
   * Push metrics to this Pushgateway every `intervalSeconds` (default 10) while the run goes and once
   * at the end, under job=callwright and `grouping` (run_id, shard). They stay there after the run.
   */
  pushgateway?: { url: string; grouping: Readonly<Record<string, string>>; intervalSeconds?: number };
  /** Where reporter failures and a failed push are told. */
  warn: (message: string) => void;
  /** SIP logs of failed calls (and a sample of the rest) in <out>/sip/; defaults: sample 0, 1000 files. */
  evidence?: Partial<SipEvidenceOptions> & {
    /** Account passwords, scrubbed should one ever appear in a SIP message. */
    secrets?: readonly string[];
  };
  /** More reporters (tests, a progress display), fanned out like the built-in ones. */
  extra?: readonly Reporter[];
  /** The scenario's steps: their failure series start at 0 (by step number and kind, bounded). */
  steps?: readonly { kind: string }[];
}

export interface Reporters {
  reporter: ReporterMultiplexer;
  metricsUrl?: string;
  registry: Registry;
  /** What the runner puts in call.evidence before reporting the call: the path of its SIP log, when it gets one. */
  evidenceFor(call: CallResult): string | undefined;
  /** Flushes and closes the files and stops the metrics server; safe to call more than once, never throws. */
  close(): Promise<void>;
}

export async function createReporters(outDir: string, options: ReporterOptions): Promise<Reporters> {
  const { warn } = options;
  const pushgateway = options.pushgateway === undefined ? undefined : checkedPushgateway(options.pushgateway);
  const evidence = evidenceOptions(options.evidence);
  prepareOutDir(outDir);

  const { registry, metrics } = createMetricsRegistry();
  const files = [new CallsCsvReporter(outDir), new LegsCsvReporter(outDir), new StepsCsvReporter(outDir), new SamplesCsvReporter(outDir)];
  const closeFiles = () => {
    for (const file of files) {
      try {
        file.close();
      } catch (error) {
        warn(`closing ${file.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  let server: MetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    try {
      server = await startMetricsServer(registry, { host: options.metricsHost ?? '127.0.0.1', port: options.metricsPort });
    } catch (error) {
      closeFiles();
      throw error;
    }
  }

  const prometheus = new PrometheusReporter({
    registry,
    metrics,
    outDir,
    warn,
    ...(options.steps ? { steps: options.steps } : {}),
    ...(pushgateway ? { pushgateway: { ...pushgateway, job: PUSHGATEWAY_JOB } } : {}),
  });
  const reporter = new ReporterMultiplexer(
    [
      ...files,
      new SummaryJsonReporter(outDir),
      new SipEvidenceReporter(outDir, { ...evidence, warn, secrets: options.evidence?.secrets ?? [] }),
      prometheus,
      new RunReportsReporter(outDir),
      ...(options.extra ?? []),
    ],
    warn,
  );

  return {
    reporter,
    ...(server ? { metricsUrl: server.url } : {}),
    registry,
    evidenceFor: (call) => (keepsEvidence(call, evidence.sampleSuccessful) ? evidencePath(call.callId) : undefined),
    async close() {
      prometheus.close();
      closeFiles();
      await server?.stop();
    },
  };
}

function checkedPushgateway(pushgateway: NonNullable<ReporterOptions['pushgateway']>): {
  url: string;
  grouping: Readonly<Record<string, string>>;
  intervalSeconds: number;
} {
  const intervalSeconds = pushgateway.intervalSeconds ?? DEFAULT_PUSH_INTERVAL_SECONDS;
  // Pushing more often than every second only loads the gateway: Prometheus scrapes it every 15 s or so.
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1) {
    throw new InputError(`--push-interval must be at least 1 s, got ${intervalSeconds} s`, `give it as ${DEFAULT_PUSH_INTERVAL_SECONDS}s (the default) or more`);
  }
  return { url: checkedPushgatewayUrl(pushgateway.url), grouping: pushgateway.grouping, intervalSeconds };
}

function checkedPushgatewayUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--pushgateway ${withoutUrlCredentials(url)} is not a URL`, 'give it as http://host:9091');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InputError(`--pushgateway ${withoutUrlCredentials(url)} must be an http:// or https:// URL`, 'give it as http://host:9091');
  }
  return url;
}
