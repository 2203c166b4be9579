import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { clearRunOwnedFiles } from './runOwnedFiles.js';

/** Below this much free space even a short run's reports may not fit (samples.csv grows by ~100 bytes per leg per second). */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;
/** The write probe is this big: an empty file can still be created on a full disk. */
const PROBE_BYTES = 64 * 1024;

/**
 * Makes the output folder and proves it is writable, with room to spare,
 * before the run starts: finding out at the first finished call, with
 * browsers up and calls in flight, would be too late. Then clears the files
 * an earlier run left there (runOwnedFiles.ts): from here on, whatever is in
 * the folder is this run's.
 */
export function prepareOutDir(outDir: string, minFreeBytes = MIN_FREE_BYTES): void {
  const hint = 'choose another folder with --out, or fix its permissions';
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    const why = WHY[errorCode(error)];
    throw new InputError(`cannot create the output folder ${outDir}: ${errorCode(error)}`, why ? `${why}: ${hint}` : hint);
  }
  const free = freeBytes(outDir);
  if (free !== undefined && free < minFreeBytes) {
    throw new InputError(
      `the output folder ${outDir} is on a disk with only ${mebibytes(free)} free; callwright wants at least ${mebibytes(minFreeBytes)} for its reports`,
      'free some space, or choose a folder on another disk with --out',
    );
  }
  const probe = join(outDir, `.callwright-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, Buffer.alloc(PROBE_BYTES));
  } catch (error) {
    const why = WHY[errorCode(error)];
    throw new InputError(`cannot write in the output folder ${outDir}: ${errorCode(error)}`, why ? `${why}: ${hint}` : hint);
  } finally {
    rmSync(probe, { force: true });
  }
  try {
    clearRunOwnedFiles(outDir);
  } catch (error) {
    const why = WHY[errorCode(error)];
    throw new InputError(`cannot remove an earlier run's files in the output folder ${outDir}: ${errorCode(error)}`, why ? `${why}: ${hint}` : hint);
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    // Pseudo file systems (sysfs, procfs, some FUSE mounts) count no blocks at all: nothing to judge by.
    return stats.blocks === 0 ? undefined : stats.bavail * stats.bsize;
  } catch {
    return undefined; // the write probe still runs
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;
}

/** What an error code means, for the hint. */
const WHY: Record<string, string | undefined> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file of that name is in the way',
  EISDIR: 'a folder has the name of a report file',
  ERR_FS_EISDIR: 'a folder has the name of a report file',
};

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
