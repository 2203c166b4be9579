/**
 * Runs a CLI command as bin.ts does (real yargs, strict, the command's own
 * builder and handler), in-process, with stdout and stderr captured.
 */
import yargs from 'yargs';
import { afterEach, beforeEach, vi } from 'vitest';
import type { CallwrightCommand } from '../../src/cli/command.js';
import { InputError } from '../../src/errors.js';

/** Parses argv and runs the command; resolves to its exit code (an InputError for bad options, as bin.ts would print it). */
export async function runCommandLine(command: CallwrightCommand<any>, argv: string[]): Promise<number> {
  let exitCode = -1;
  await yargs(argv)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new InputError(message);
    })
    .command(command.command as string, command.describe, command.builder, async (args) => {
      exitCode = await command.run(args);
    })
    .parseAsync();
  return exitCode;
}

/** Captures what each test writes to stdout and stderr (registers its own beforeEach and afterEach). */
export function captureOutput(): { stdout(): string; stderr(): string; clear(): void } {
  let stdout = '';
  let stderr = '';
  beforeEach(() => {
    stdout = '';
    stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    clear: () => {
      stdout = '';
      stderr = '';
    },
  };
}
