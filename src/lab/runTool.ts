import { execFile } from 'node:child_process';

/**
 * Runs a system tool (ip, nft, tc, iptables) and resolves with its stdout; rejects with an Error
 * naming the command and its stderr. `executable` is the resolved path, `name` what messages say.
 */
export function runTool(executable: string, args: readonly string[], options: { name?: string; input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(executable, args, { timeout: options.timeoutMs ?? 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${options.name ?? executable} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
