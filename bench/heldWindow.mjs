/**
 * The bench's way of measuring held calls: run the scenario, wait until every call is up (within
 * an allowance), let it settle, then measure CPU and memory over a window while collecting the
 * samples the pages take in it. Shared by the audio rows (a, b) and the video rows.
 */
import { join } from 'node:path';

/**
 * Returns { outcome, window, samples, allUpAfterSeconds }; window is { error } when not every
 * call came up in time. `deps`: runScenario, meter, sleep, logger, signal, outDir.
 */
export async function measureHeldWindow(deps, { scenario, name, calls, setupAllowance, settleSeconds, windowSeconds }) {
  const { runScenario, meter, sleep, logger, signal, outDir } = deps;
  let established = 0;
  let allUp;
  const allUpPromise = new Promise((r) => (allUp = r));
  const samples = [];
  let windowOpen = false;
  const reporter = {
    name: 'bench',
    onEvent(event) {
      if (event.type === 'callEstablished' && ++established === calls) allUp(Date.now());
      if (event.type === 'sample' && windowOpen) samples.push(event.sample);
    },
  };
  let pids = () => [];
  const startedAt = Date.now();
  const running = runScenario({ scenario, outDir: join(outDir, 'runs', name), logger, reporters: [reporter], signal, onReady: (r) => (pids = r.browserPids) });
  const measured = (async () => {
    const upAt = await Promise.race([allUpPromise, running.then(() => undefined), sleep(setupAllowance * 1000).then(() => undefined)]);
    if (upAt === undefined) return { error: `only ${established}/${calls} calls were up after ${setupAllowance} s` };
    const allUpAfterSeconds = (upAt - startedAt) / 1000;
    await sleep(settleSeconds * 1000);
    const m = meter(pids);
    m.start();
    windowOpen = true;
    await sleep(windowSeconds * 1000);
    windowOpen = false;
    return { ...m.stop(), allUpAfterSeconds, browsers: pids().length };
  })();
  const [outcome, window] = await Promise.all([running, measured]);
  return { outcome, window, samples };
}
