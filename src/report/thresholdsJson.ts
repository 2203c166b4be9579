/**
 * `<out>/thresholds.json`: the thresholds a run was judged by, as written and
 * as evaluated. `callwright report <out>` re-reads the expressions from it to
 * judge the run again from its CSV files the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { ThresholdResult } from '../verdict/evaluate.js';
import type { ThresholdSpec } from '../verdict/parseThresholds.js';
import { writeFileAtomically } from '../common/atomicWrite.js';

export const THRESHOLDS_JSON = 'thresholds.json';

export interface ThresholdsDocument {
  thresholds: {
    metric: string;
    expression: string;
    abortOnFail: boolean;
    delayAbortEvalSeconds: number;
    passed: boolean;
    observed: number | null;
    difference: number | null;
    sampleCount: number;
    detail: string;
  }[];
}

export async function writeThresholdsJson(outDir: string, results: readonly ThresholdResult[]): Promise<string> {
  const document: ThresholdsDocument = {
    thresholds: results.map(({ threshold, passed, observed, difference, sampleCount, detail }) => ({
      metric: threshold.metricLabel,
      expression: threshold.expression,
      abortOnFail: threshold.abortOnFail,
      delayAbortEvalSeconds: threshold.delayAbortEvalSeconds,
      passed,
      observed,
      difference,
      sampleCount,
      detail,
    })),
  };
  const path = join(outDir, THRESHOLDS_JSON);
  await writeFileAtomically(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

/** The thresholds as a spec for parseThresholds; undefined when the run wrote no thresholds.json. */
export function readThresholdSpecs(outDir: string): Record<string, ThresholdSpec[]> | undefined {
  const path = join(outDir, THRESHOLDS_JSON);
  if (!existsSync(path)) return undefined;
  let document: ThresholdsDocument;
  try {
    document = JSON.parse(readFileSync(path, 'utf8')) as ThresholdsDocument;
  } catch (error) {
    throw new InputError(`${path}: not JSON (${error instanceof Error ? error.message : String(error)})`, 'delete it, or give the thresholds with --threshold');
  }
  if (!Array.isArray(document?.thresholds)) throw new InputError(`${path}: expected { "thresholds": [...] }`, 'delete it, or give the thresholds with --threshold');
  const spec: Record<string, ThresholdSpec[]> = {};
  for (const entry of document.thresholds) {
    (spec[String(entry.metric)] ??= []).push({
      threshold: String(entry.expression),
      abortOnFail: entry.abortOnFail === true,
      delayAbortEval: typeof entry.delayAbortEvalSeconds === 'number' ? entry.delayAbortEvalSeconds : 0,
    });
  }
  return spec;
}
