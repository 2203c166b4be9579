/**
 * Resolves after `ms`, or at once when `signal` aborts, whichever is first.
 * The abort listener goes when the sleep ends: hundreds of sleeps share one
 * signal in a load run, and listeners left behind would pile up.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}
