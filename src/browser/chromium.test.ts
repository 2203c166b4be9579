import { describe, expect, it } from 'vitest';
import { chromiumArgs, devShmBytes, shouldDisableDevShm, SMALL_DEV_SHM_BYTES } from './chromium.js';

const MiB = 1024 * 1024;

describe('/dev/shm and --disable-dev-shm-usage', () => {
  it("keeps shared memory out of Docker's default 64 MiB /dev/shm, and of anything under 512 MiB", () => {
    expect(shouldDisableDevShm(64 * MiB)).toBe(true);
    expect(shouldDisableDevShm(SMALL_DEV_SHM_BYTES - 1)).toBe(true);
    expect(shouldDisableDevShm(0)).toBe(true);
  });

  it('leaves a /dev/shm of 512 MiB or more, and a machine without one, to Chromium', () => {
    expect(shouldDisableDevShm(SMALL_DEV_SHM_BYTES)).toBe(false);
    expect(shouldDisableDevShm(24 * 1024 * MiB)).toBe(false);
    expect(shouldDisableDevShm(undefined)).toBe(false);
  });

  it('adds the flag to the launch arguments only for a small /dev/shm', () => {
    expect(chromiumArgs({}, undefined, 64 * MiB)).toContain('--disable-dev-shm-usage');
    expect(chromiumArgs({}, undefined, 1024 * MiB)).not.toContain('--disable-dev-shm-usage');
    expect(chromiumArgs({}, undefined, undefined)).not.toContain('--disable-dev-shm-usage');
  });

  it('reads the size of a mounted file system, and nothing for a path that does not exist', () => {
    const here = devShmBytes(process.cwd());
    expect(here).toBeGreaterThan(0);
    expect(devShmBytes('/no/such/dev/shm')).toBeUndefined();
  });
});
