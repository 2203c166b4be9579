/**
 * Run by watchdog-cgroup.test.ts (bundled by esbuild, started with node): moves
 * itself into the cgroups named on its command line (their cgroup.procs
 * files), then keeps a core busy while the real watchdog samples, reading the
 * real /proc/self/cgroup and /sys/fs/cgroup. Prints one JSON line: every sample
 * with the reasons it was judged saturated for, and the summary.
 */
import { writeFileSync } from 'node:fs';
import type { HarnessSample, SaturationReason } from '../../src/results.js';
import { HarnessWatchdog } from '../../src/watchdog/watchdog.js';

const [samplesText, busyMsText, ...procsFiles] = process.argv.slice(2);
for (const file of procsFiles) writeFileSync(file, String(process.pid));

const judged: { sample: HarnessSample; reasons: SaturationReason[] }[] = [];
// Located after the move: the watchdog reads the cgroup this process is in now.
const watchdog = new HarnessWatchdog({ cpu: 0.95, eventLoopLagMs: 250, memory: 0.95, intervalSeconds: 1 }, () => [], {
  onSample: (sample, _saturated, reasons) => judged.push({ sample, reasons }),
});
watchdog.start();
watchdog.arm();
for (let i = 0; i < Number(samplesText); i++) {
  const until = Date.now() + Number(busyMsText);
  while (Date.now() < until) {
    // Busy: one thread wants a whole core.
  }
  watchdog.sample();
}
watchdog.stop();
process.stdout.write(`${JSON.stringify({ samples: judged, summary: watchdog.summary(0) })}\n`);
