import { describe, expect, it } from 'vitest';
import type { StepResult } from '../results.js';
import { parseScenario } from '../scenario/index.js';
import type { Scenario } from '../scenario/types.js';
import { AgentDirectory } from './agentDirectory.js';
import { plannedCalls, unreachedCalls } from './plannedCalls.js';

// Every planned call appears in calls.csv once: the ones an iteration never placed are reported
// failed, with the reason of what stopped it. Pure: the directory only names agents and addresses.

const scenario = parseScenario(
  `
name: planned
roles:
  alice: { accounts: [{ user: a1 }, { user: a2 }] }
  bob: { accounts: [{ user: b1 }, { user: b2 }] }
  carol: { accounts: [{ user: c1 }, { user: c2 }] }
steps:
  - register: [alice, bob, carol]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - transfer: { role: alice, to: carol, as: toCarol }
  - call: { from: carol, to: "sip:echo@{domain}", name: toEcho }
  - answer: { role: bob, incoming: true, as: fromDevice }
  - hangup: { call: main, role: alice }
`,
  'planned.yaml',
);

const directory = new AgentDirectory(scenario, { wsUrl: 'ws://127.0.0.1:5062', domain: 'lab.test' }, undefined as never, undefined as never);

function unreached(p: { made: string[]; slot?: number; stoppedBy?: StepResult; interrupted?: boolean; of?: Scenario }) {
  return unreachedCalls({
    scenario: p.of ?? scenario,
    iteration: 7,
    slot: p.slot ?? 1,
    made: new Set(p.made),
    agents: directory,
    stoppedBy: p.stoppedBy,
    interrupted: p.interrupted ?? false,
  });
}

const failedStep: StepResult = {
  scenario: 'planned', iteration: 7, index: 3, name: 'expect established', kind: 'expect',
  ok: false, failureReason: 'sip_status', detail: 'expected established, got failed (SIP 486)', startedAtMs: 0, durationSeconds: 0.4,
};

describe('plannedCalls', () => {
  it('lists every call step, the new call of a transfer (placed by the transferee) and a call answered from outside', () => {
    expect(plannedCalls(scenario.steps)).toEqual([
      { name: 'main', callerRole: 'alice', calleeRole: 'bob', to: { role: 'bob' } },
      // alice transfers bob: bob, the other party of 'main', places the new call.
      { name: 'toCarol', callerRole: 'bob', calleeRole: 'carol', to: { role: 'carol' } },
      { name: 'toEcho', callerRole: 'carol', calleeRole: undefined, to: { uri: 'sip:echo@{domain}' } },
      { name: 'fromDevice', callerRole: '(outside)', calleeRole: 'bob', to: { role: 'bob' } },
    ]);
  });
});

describe('unreachedCalls', () => {
  it('reports nothing when every planned call was placed', () => {
    expect(unreached({ made: ['main', 'toCarol', 'toEcho', 'fromDevice'] })).toEqual([]);
  });

  it('after a failed step: each call not placed, failed with that step\'s reason and what it saw', () => {
    const calls = unreached({ made: ['main'], stoppedBy: failedStep });
    expect(calls.map((c) => c.key)).toEqual(['7.toCarol', '7.toEcho', '7.fromDevice']);
    for (const call of calls) {
      expect(call.failure).toEqual({ reason: 'sip_status', detail: 'not placed: step 4 (expect established) failed: expected established, got failed (SIP 486)' });
      expect(call).toMatchObject({ iteration: 7, failureExpected: false, reported: false, calleeLegId: undefined });
    }
  });

  it('a failed step that gave no reason makes command_failed', () => {
    const [first] = unreached({ made: ['main', 'toCarol', 'toEcho'], stoppedBy: { ...failedStep, failureReason: undefined, detail: undefined } });
    expect(first!.failure).toEqual({ reason: 'command_failed', detail: 'not placed: step 4 (expect established) failed' });
  });

  it('after a stop (Ctrl-C, the duration over): interrupted, not a failure of the system under test', () => {
    const calls = unreached({ made: [], interrupted: true });
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => JSON.stringify(c.failure)))).toEqual(new Set([JSON.stringify({ reason: 'interrupted', detail: 'not placed: the run was stopped first' })]));
    // A failed step wins over the stop: it is why the iteration ended.
    expect(unreached({ made: [], interrupted: true, stoppedBy: failedStep })[0]!.failure!.reason).toBe('sip_status');
  });

  it('neither a failed step nor a stop: command_failed, "not placed"', () => {
    expect(unreached({ made: ['main', 'toCarol', 'fromDevice'] }).map((c) => [c.key, c.failure])).toEqual([['7.toEcho', { reason: 'command_failed', detail: 'not placed' }]]);
  });

  it('names who would have called whom: the slot\'s accounts, the URI with its domain, the leg id the caller would have had', () => {
    const [main, toCarol, toEcho, fromDevice] = unreached({ made: [], slot: 1, interrupted: true });
    expect(main).toMatchObject({ key: '7.main', name: 'main', callerRole: 'alice', calleeRole: 'bob', calleeAgentId: 'bob#1', from: 'sip:a2@lab.test', to: 'sip:b2@lab.test', callerLegId: '7.main.alice' });
    expect(toCarol).toMatchObject({ callerRole: 'bob', calleeRole: 'carol', calleeAgentId: 'carol#1', from: 'sip:b2@lab.test', to: 'sip:c2@lab.test', callerLegId: '7.toCarol.bob' });
    expect(toEcho).toMatchObject({ callerRole: 'carol', calleeRole: undefined, calleeAgentId: undefined, from: 'sip:c2@lab.test', to: 'sip:echo@lab.test' });
    // A device outside callwright has no role, so no address of ours.
    expect(fromDevice).toMatchObject({ callerRole: '(outside)', from: '', to: 'sip:b2@lab.test', calleeAgentId: 'bob#1', callerLegId: '7.fromDevice.(outside)' });
    // Slots past the accounts wrap around them.
    expect(unreached({ made: [], slot: 2, interrupted: true })[0]).toMatchObject({ from: 'sip:a1@lab.test', calleeAgentId: 'bob#0' });
  });
});
