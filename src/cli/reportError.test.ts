import { describe, expect, it } from 'vitest';
import { InfraError, InputError } from '../errors.js';
import { reportError } from './reportError.js';

function reported(error: unknown, verbose = false): { code: number; text: string } {
  let text = '';
  const code = reportError(error, verbose, (line) => void (text += line));
  return { code, text };
}

describe('reportError', () => {
  it('tells a bug as a bug: exit 70 (EX_SOFTWARE), never 3 (infrastructure), with its stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'legId')");
    const { code, text } = reported(bug);
    expect(code).toBe(70);
    expect(text).toContain('callwright: unexpected error (a bug; please report it)');
    expect(text).toContain("TypeError: Cannot read properties of undefined (reading 'legId')");
    expect(text).toMatch(/\n\s+at /);
  });

  it('tells a thrown non-Error as a bug too', () => {
    expect(reported('boom')).toEqual({ code: 70, text: 'callwright: unexpected error (a bug; please report it)\nboom\n' });
  });

  it('keeps 3 for broken infrastructure and 2 for bad input: one line and the hint, no stack', () => {
    const infra = reported(new InfraError('cannot reach the SIP server at ws://127.0.0.1:9: connection refused', 'check target.url (or --target)'));
    expect(infra).toEqual({ code: 3, text: 'error: cannot reach the SIP server at ws://127.0.0.1:9: connection refused\nhint: check target.url (or --target)\n' });
    const input = reported(new InputError('2 problems with the options', 'see `callwright run --help`', ['--iterations: bad', '--concurrency: bad']));
    expect(input.code).toBe(2);
    expect(input.text).toBe('error: 2 problems with the options\n  --iterations: bad\n  --concurrency: bad\nhint: see `callwright run --help`\n');
  });

  it('shows the stack of an expected error only with --verbose', () => {
    expect(reported(new InfraError('down'), true).text).toMatch(/^error: down\nInfraError: down\n\s+at /);
  });
});
