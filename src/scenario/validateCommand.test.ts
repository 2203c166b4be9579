import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { InputError } from '../errors.js';

// Lives here rather than in cli/ because this change owns scenario/; it tests the command in-process, as bin.ts calls it.
describe('callwright validate', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints a one-line summary and returns 0 for a valid scenario', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const file = join(import.meta.dirname, '../../scenarios/smoke.yaml');
    await expect(validateCommand.run({ scenario: file })).resolves.toBe(0);
    expect(write).toHaveBeenCalledWith(`ok: ${file}: smoke, 2 roles, 17 steps, 1 iteration\n`);
  });

  it('throws the InputError for bin.ts to print (exit code 2)', async () => {
    await expect(validateCommand.run({ scenario: 'no/such/file.yaml' })).rejects.toThrow(InputError);
  });
});
