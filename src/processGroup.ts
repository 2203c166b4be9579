import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * Waits until no live process is left in the group (SIGKILL is delivered at
 * once but a process under load takes a moment to go), at most `timeoutMs`.
 * Zombies do not count: they hold no resources and their parent reaps them.
 */
export async function waitForProcessGroupGone(pgid: number | undefined, timeoutMs = 3_000): Promise<boolean> {
  if (pgid === undefined) return true;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!groupHasLiveProcess(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function groupHasLiveProcess(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc (not Linux): the group's leader is all we can ask about.
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && Number(group) === pgid) return true;
    } catch {
      // it ended while we looked
    }
  }
  return false;
}
