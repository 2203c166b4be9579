/**
 * SIGKILL to a process and its process group. Chromium launched by puppeteer
 * (detached) leads its own group, which holds every helper process (zygotes,
 * renderers, GPU, network): killing the group leaves none behind. Falls back
 * to the one process when it leads no group; a process already gone is fine.
 */
export function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
