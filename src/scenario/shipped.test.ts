import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from './index.js';

const scenarioDir = join(import.meta.dirname, '../../scenarios');
const files = readdirSync(scenarioDir).filter((name) => name.endsWith('.yaml'));

describe('shipped scenarios', () => {
  it('are all there', () => {
    expect(files.sort()).toEqual(
      ['codec-opus-only.yaml', 'codec-pcmu-only.yaml', 'impaired-network.yaml', 'lite-mixed.yaml', 'load-closed.yaml', 'load-ramp.yaml', 'message.yaml', 'receive-only.yaml', 'smoke.yaml', 'transfer.yaml', 'unreachable-user.yaml'],
    );
  });

  it.each(files)('%s loads against the embedded server', async (name) => {
    const scenario = await loadScenario(join(scenarioDir, name), { env: {} });
    expect(scenario.name).toBe(name.replace(/\.yaml$/, ''));
    expect(scenario.target).toBeUndefined();
    expect(scenario.steps.length).toBeGreaterThan(0);
  });

  it('smoke runs the steps the brief lists, in order', async () => {
    const scenario = await loadScenario(join(scenarioDir, 'smoke.yaml'), { env: {} });
    expect(scenario.steps.map((step) => step.name)).toEqual([
      'register alice, bob',
      'call alice->bob',
      'answer bob after 500ms',
      'expect established',
      'expect audio flowing both ways',
      'expect first audio within 3s',
      'wait 5s',
      'dtmf 123 from alice (rfc4733)',
      'dtmf 45# from alice (info)',
      'expect dtmf 45# at bob',
      'hold alice',
      'expect audio in stopped at alice',
      'unhold alice',
      'expect audio flowing both ways',
      'hangup alice',
      'expect ended',
      'unregister alice, bob',
    ]);
  });

  it('transfer answers and ends the transferred call', async () => {
    const scenario = await loadScenario(join(scenarioDir, 'transfer.yaml'), { env: {} });
    expect(scenario.steps.filter((step) => step.kind === 'answer').map((step) => [step.call, step.role])).toEqual([
      ['main', 'bob'],
      ['transferred', 'carol'],
    ]);
  });
});
