import pLimit from 'p-limit';

/**
 * Closed-model scheduler: `iterations` runs, at most `concurrency` at once.
 * Each run gets a free slot number (which accounts it uses), so two runs at
 * the same time never share an account.
 */
export async function runIterations(
  iterations: number,
  concurrency: number,
  signal: AbortSignal,
  runOne: (iteration: number, slot: number) => Promise<void>,
): Promise<{ started: number; dropped: number }> {
  const limit = pLimit(concurrency);
  const freeSlots = Array.from({ length: concurrency }, (_, i) => i);
  let started = 0;
  let dropped = 0;
  await Promise.all(
    Array.from({ length: iterations }, (_, index) =>
      limit(async () => {
        if (signal.aborted) {
          dropped++;
          return;
        }
        const slot = freeSlots.shift()!;
        started++;
        try {
          await runOne(index + 1, slot);
        } finally {
          freeSlots.push(slot);
        }
      }),
    ),
  );
  return { started, dropped };
}
