import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labPortsFrom, labUp, type LabProcess, type LabState } from '../../src/lab/index.js';
import { processGroupMembers, startDetached } from '../../src/lab/processes.js';
import { sipOptionsPing, tcpAccepts } from '../../src/lab/readiness.js';
import { killProcessGroup } from '../../src/processGroup.js';
import { runScenario } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/index.js';
import { captureLogger, expectRestartSurvived, ONE_CALL_PER_ITERATION, restartDuringSecondCall, sleep } from './faultsSupport.js';
import { chromiumMissing, labMissing, missingOf, named, requirePrerequisites, skipped } from './prerequisites.js';
import { processesInGroups, tempDir } from './support.js';

// The server fault of faults-server.test.ts, against the real Kamailio of the lab:
// Kamailio killed by PID (SIGKILL to its process group: the main process and its
// workers) while a call is up, then started again with the same config. The lab
// runs on its own ports (9060..9359) in its own temp dir, without SIP devices
// (the calls go browser to browser), so it meets no other lab.
//
// Needs Kamailio, rtpengine and Chromium. Outside CI a missing one skips with the reason in the
// name; in CI (env CI set) it FAILS.
const PORT_BASE = 9060;
const missing = missingOf(labMissing(), chromiumMissing());

const out = tempDir('callwright-faults-lab-');
const labDir = join(out, 'lab');
let lab: LabState;
const browserPids: number[] = [];

/** SIGKILL to Kamailio's process group (it leads its own: the lab starts it detached), then wait until every member is gone. */
async function killKamailio(kamailio: LabProcess): Promise<void> {
  const pid = Number(readFileSync(kamailio.pidFile, 'utf8').trim());
  killProcessGroup(pid);
  for (let waited = 0; processGroupMembers(pid).length > 0; waited += 50) {
    if (waited > 5_000) throw new Error(`Kamailio (pid ${pid}) still has processes after SIGKILL: ${processGroupMembers(pid).join(', ')}`);
    await sleep(50);
  }
}

/**
 * Kamailio again, as labUp starts it (same program, config and run dir), with its
 * pid file rewritten so labDown stops the new one; ready once it answers OPTIONS
 * and accepts WebSocket connections.
 */
async function restartKamailio(kamailio: LabProcess): Promise<void> {
  const args = ['-DD', '-E', '-f', join(labDir, 'kamailio.cfg'), '-m', '256', '-M', '16', '-Y', labDir];
  await startDetached({ command: kamailio.program, args, logFile: kamailio.log, pidFile: kamailio.pidFile, cwd: labDir });
  for (let waited = 0; ; waited += 100) {
    const status = await sipOptionsPing(lab.ports.sipUdpTcp, `sip:127.0.0.1:${lab.ports.sipUdpTcp}`);
    if (status?.startsWith('SIP/2.0 200') && (await tcpAccepts(lab.ports.ws))) return;
    if (waited > 15_000) throw new Error(`Kamailio did not come back; see ${kamailio.log}`);
    await sleep(100);
  }
}

describe.skipIf(skipped(missing))(named('Kamailio killed and restarted mid-run (the lab)', missing), () => {
  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: the test fails with the reason
    lab = await labUp({ dir: labDir, ports: labPortsFrom(PORT_BASE), devices: [] });
  }, 60_000);
  afterAll(async () => {
    if (existsSync(labDir)) await labDown(labDir);
    expect(processesInGroups(browserPids)).toEqual([]);
  }, 30_000);

  it('the call up ends as transport_lost, the agents re-register with the new Kamailio, later calls succeed; every call in calls.csv once', async () => {
    requirePrerequisites(missing);
    const kamailio = lab.processes.find((p) => p.name === 'kamailio')!;
    const [alice, bob] = lab.users;
    const iterations = 5;
    const scenario = parseScenario(
      `
name: lab-kamailio-restart
target: { url: "${lab.wsUrl}", domain: ${lab.domain} }
load: { iterations: ${iterations}, concurrency: 1 }
roles:
  alice: { accounts: [{ user: "${alice!.user}", passwordEnv: CW_LAB_ALICE }] }
  bob: { accounts: [{ user: "${bob!.user}", passwordEnv: CW_LAB_BOB }] }
${ONE_CALL_PER_ITERATION}
`,
      join(out, 'kamailio-restart.yaml'),
      { env: { CW_LAB_ALICE: alice!.password, CW_LAB_BOB: bob!.password } },
    );
    const firstPid = Number(readFileSync(kamailio.pidFile, 'utf8').trim());
    const restart = restartDuringSecondCall({ stop: () => killKamailio(kamailio), start: () => restartKamailio(kamailio) });
    const log = captureLogger();
    const dir = join(out, 'kamailio-restart');
    const outcome = await runScenario({ scenario, outDir: dir, logger: log.logger, reporters: [restart.reporter] });
    browserPids.push(...log.browserPids());
    await restart.restarted();
    expect(restart.times.backAtMs, 'Kamailio was restarted mid-run').toBeGreaterThan(restart.times.killedAtMs);
    expect(processGroupMembers(firstPid), 'the first Kamailio is gone').toEqual([]);
    expect(Number(readFileSync(kamailio.pidFile, 'utf8').trim())).not.toBe(firstPid);

    // The new Kamailio knows nobody (usrloc is in memory): calls 3 to 5 reached bob only because both registered again.
    expectRestartSurvived({ dir, outcome, events: restart.events, iterations, killedAtMs: restart.times.killedAtMs, context: log.lines.slice(-40).join('\n') });
    // Nothing of the lab's test passwords in the reports.
    for (const file of ['calls.csv', 'steps.csv', 'summary.json']) expect(readFileSync(join(dir, file), 'utf8')).not.toContain(alice!.password);
    expect(processesInGroups(log.browserPids())).toEqual([]);
  }, 120_000);
});
