import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../lab/binaries.js';

// helpers/impairer.py's decisions, without a kernel: its Direction class driven for many packets
// (seeded, so the figures are the same every run) and the statistics of what it decided.
const IMPAIRER = fileURLToPath(new URL('../../helpers/impairer.py', import.meta.url));
const python = findExecutable('python3');
const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';

interface Drawn {
  lossRate: number;
  meanBurst: number;
  meanHold: number;
  sdHold: number;
  minHold: number;
  immediate: number;
}

function draw(spec: Record<string, number>, packets = 200_000): Drawn {
  const script = `
import importlib.util, json, random, statistics, sys
spec = importlib.util.spec_from_file_location("impairer", sys.argv[1])
impairer = importlib.util.module_from_spec(spec); spec.loader.exec_module(impairer)
random.seed(7)
d = impairer.Direction("up"); d.set(json.loads(sys.argv[2]))
lost, bursts, run, holds = 0, [], 0, []
for _ in range(int(sys.argv[3])):
    if d.lost():
        lost += 1; run += 1
    else:
        if run: bursts.append(run)
        run = 0
        holds.append(d.delay_of_packet())
holds = holds or [0.0]
print(json.dumps({"lossRate": lost / int(sys.argv[3]), "meanBurst": statistics.mean(bursts) if bursts else 0,
  "meanHold": statistics.mean(holds), "sdHold": statistics.pstdev(holds), "minHold": min(holds),
  "immediate": sum(1 for h in holds if h == 0) / len(holds)}))
`;
  return JSON.parse(execFileSync(python!, ['-c', script, IMPAIRER, JSON.stringify(spec), String(packets)], { encoding: 'utf8' })) as Drawn;
}

describe.skipIf(python === undefined && !inCi)('the impairer (helpers/impairer.py): its loss, delay and reordering decisions', () => {
  it('loses packets at the rate given, independently (burst 1) or in runs of the mean length given', () => {
    expect(python, 'python3 (apt-get install python3)').toBeDefined();
    const random = draw({ lossPct: 5 });
    expect(random.lossRate).toBeCloseTo(0.05, 2);
    expect(random.meanBurst).toBeLessThan(1.1); // independent: a run of two is 5% as likely as one
    const bursty = draw({ lossPct: 5, burst: 3 });
    expect(bursty.lossRate).toBeGreaterThan(0.045);
    expect(bursty.lossRate).toBeLessThan(0.055);
    expect(bursty.meanBurst).toBeGreaterThan(2.8);
    expect(bursty.meanBurst).toBeLessThan(3.2);
    expect(draw({ lossPct: 0 }).lossRate).toBe(0);
    expect(draw({ lossPct: 100 }, 1000).lossRate).toBe(1);
  });

  it('holds each packet for the delay, its spread the jitter (standard deviation), never less than 0', () => {
    const fixed = draw({ delayMs: 100 });
    expect(fixed).toMatchObject({ meanHold: 0.1, sdHold: 0, minHold: 0.1 });
    const jittery = draw({ delayMs: 100, jitterMs: 20 });
    expect(jittery.meanHold).toBeCloseTo(0.1, 3);
    expect(jittery.sdHold).toBeCloseTo(0.02, 3);
    // A spread wider than the delay: cut at 0, never a negative hold.
    expect(draw({ delayMs: 10, jitterMs: 20 }).minHold).toBe(0);
  });

  it('sends the reorder share at once, ahead of the delayed ones', () => {
    const reordered = draw({ delayMs: 50, reorderPct: 10 });
    expect(reordered.immediate).toBeGreaterThan(0.09);
    expect(reordered.immediate).toBeLessThan(0.11);
    // Without delay there is nothing to overtake: reordering does nothing.
    expect(draw({ reorderPct: 10 }).meanHold).toBe(0);
  });
});
