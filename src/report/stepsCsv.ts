import { join } from 'node:path';
import type { RunEvent, StepResult } from '../results.js';
import type { Reporter } from './reporter.js';
import { CsvFile, fieldColumns, isoTime, type FieldHeaders } from './csvFile.js';

export const STEPS_CSV = 'steps.csv';

export const STEP_HEADERS: FieldHeaders<StepResult> = {
  scenario: 'scenario',
  iteration: 'iteration',
  index: 'index',
  name: 'name',
  kind: 'kind',
  role: 'role',
  call: 'call',
  ok: 'ok',
  failureReason: 'failure_reason',
  detail: 'detail',
  sipStatus: 'sip_status',
  startedAtMs: 'started_at',
  durationSeconds: 'duration_s',
};

export const STEP_COLUMNS = fieldColumns<StepResult>(
  STEP_HEADERS,
  { startedAtMs: isoTime },
);

/** `steps.csv`: one row per step result, written as each step ends. */
export class StepsCsvReporter implements Reporter {
  readonly name = 'steps-csv';
  private readonly file: CsvFile<StepResult>;

  constructor(outDir: string) {
    this.file = new CsvFile(join(outDir, STEPS_CSV), STEP_COLUMNS);
  }

  onBegin(): void {
    this.file.open();
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'stepEnd') this.file.write(this.file.line(event.step));
  }

  onEnd(): void {
    this.file.close();
  }

  close(): void {
    this.file.close();
  }
}
