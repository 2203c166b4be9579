/**
 * The only errors callwright throws on purpose. Everything else that goes wrong
 * during a run (a call rejected, media missing, a step timing out) is data: a
 * CallResult or StepResult with a FailureReason, counted by reporters.
 *
 * The CLI maps these to an exit code and one line for the user, plus the hint.
 */
export abstract class CallwrightError extends Error {
  abstract readonly exitCode: number;
  constructor(
    message: string,
    /** How to fix it, in one sentence; printed under the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: a scenario, an option, a fixture. Exit code 2. */
export class InputError extends CallwrightError {
  readonly exitCode = 2;
  constructor(
    message: string,
    hint?: string,
    /** Every problem found, when validation collected several. */
    readonly problems: readonly string[] = [],
  ) {
    super(message, hint);
  }
}

/** Broken infrastructure: SIP server unreachable, browser failed to start. Exit code 3. */
export class InfraError extends CallwrightError {
  readonly exitCode = 3;
}

/** The table, with when each applies, is in src/verdict/exitCodes.ts. */
export const ExitCode = {
  pass: 0,
  failed: 1,
  badInput: 2,
  infrastructure: 3,
  /** EX_SOFTWARE (sysexits.h): a bug in callwright, not a fault of the input or the infrastructure. */
  internalError: 70,
  thresholdsFailed: 99,
  /** 128 + SIGINT, the shell's code for Ctrl-C: stopped from outside (SIGINT or SIGTERM, gracefully or forced). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code an error ends the process with: ours carry theirs; anything else is a bug. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CallwrightError ? error.exitCode : ExitCode.internalError;
}
