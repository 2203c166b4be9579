/**
 * What a test needs from the machine (Kamailio, rtpengine, SIPp, baresip, Chromium, root for
 * network namespaces) and what happens when it is missing. Outside CI the test skips, with the
 * reason in its name. In CI (env CI set) it runs and FAILS with the reason: a green CI run must
 * mean the proofs ran, never that they quietly vanished.
 */
import { it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { describeMissing, missingLabPrerequisites, type LabDeviceName } from '../../src/lab/index.js';

export const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';

/** Everything missing, joined; undefined when nothing is. */
export function missingOf(...reasons: (string | undefined)[]): string | undefined {
  return reasons.filter((reason): reason is string => reason !== undefined).join('; ') || undefined;
}

/** Kamailio and rtpengine, and the devices named: what is not installed, or undefined. */
export function labMissing(devices: readonly LabDeviceName[] = []): string | undefined {
  const missing = missingLabPrerequisites(devices);
  return missing.length > 0 ? describeMissing(missing) : undefined;
}

export function chromiumMissing(): string | undefined {
  return resolveChromium() === undefined ? 'no Chromium (apt-get install chromium, or set CALLWRIGHT_CHROMIUM)' : undefined;
}

/** Skip (describe.skipIf / it.skipIf) only outside CI. */
export function skipped(missing: string | undefined): boolean {
  return missing !== undefined && !inCi;
}

/** A test's name, with why it is skipped when it is. */
export function named(name: string, missing: string | undefined): string {
  return skipped(missing) ? `${name} [SKIPPED: ${missing}]` : name;
}

/** In CI a missing prerequisite is a failure of the test, never a skip. */
export function requirePrerequisites(missing: string | undefined): void {
  if (missing !== undefined) throw new Error(`CI (env CI is set): this test must run, not skip, but: ${missing}`);
}

/** `it` for a test that needs what `missing` names: skipped outside CI (the reason in its name); in CI it fails with the reason. */
export function itNeeding(missing: string | undefined) {
  return (name: string, test: () => unknown, timeoutMs?: number) =>
    it.skipIf(skipped(missing))(
      named(name, missing),
      async () => {
        requirePrerequisites(missing);
        await test();
      },
      timeoutMs,
    );
}
