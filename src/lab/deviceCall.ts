import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { runSippUac } from './sipp.js';
import { parseSippTrace, sippInviteOutcome } from './sippTrace.js';
import { sippUacCallScenario } from './sippUacScenario.js';
import type { LabState } from './types.js';

export interface DeviceCallOptions {
  /** A registered lab user ('1001') or a device ('echo'). */
  target: string;
  /** How long the call stays up after the 200 OK before the device sends BYE. */
  seconds: number;
  /**
   * Keep trying while the target is not registered yet (404/480), up to this long: the browser
   * of a scenario registers a moment after its run starts. Default 30.
   */
  waitSeconds?: number;
  /** RFC 4733 digits the device sends after the ACK. */
  dtmf?: string;
  signal?: AbortSignal;
}

export interface DeviceCallResult {
  /** The final answer to the last INVITE (undefined: none came). */
  status?: number;
  reason?: string;
  /** The call was answered, held and hung up with BYE 200: SIPp counted it successful. */
  succeeded: boolean;
  attempts: number;
  callId?: string;
  inviteBytes?: number;
  /** SIPp's message trace of the last attempt. */
  messageTrace: string;
  runDir: string;
}

/**
 * A SIP device (SIPp over UDP, plain RTP) calls through the lab's Kamailio, as a desk phone
 * would: INVITE, ACK, `seconds` of media, BYE. SIPp echoes the RTP it receives (-rtp_echo), so
 * a browser that answers hears its own audio back through rtpengine.
 */
export async function callFromDevice(state: LabState, options: DeviceCallOptions): Promise<DeviceCallResult> {
  if (!(options.seconds > 0 && options.seconds <= 3600)) throw new InputError(`seconds: expected 0 < seconds <= 3600, got ${options.seconds}`);
  const waitSeconds = options.waitSeconds ?? 30;
  const deadline = Date.now() + waitSeconds * 1000;
  const scenarioXml = sippUacCallScenario({ callDurationMs: Math.round(options.seconds * 1000), ...(options.dtmf ? { dtmfDigits: options.dtmf } : {}) });
  for (let attempts = 1; ; attempts++) {
    const result = await runSippUac(state, {
      target: options.target,
      scenarioXml,
      // Ringing, answer and the call itself, with room for Kamailio's 5 s timer.
      timeoutSeconds: options.seconds + 60,
      extraArgs: ['-rtp_echo'],
    });
    const outcome = sippInviteOutcome(parseSippTrace(readFileSync(result.messageTrace, 'utf8')));
    const notThereYet = outcome.status === 404 || outcome.status === 480;
    if (!notThereYet || Date.now() >= deadline || options.signal?.aborted) {
      return {
        ...(outcome.status === undefined ? {} : { status: outcome.status, reason: outcome.reason ?? '' }),
        succeeded: result.exitCode === 0 && result.successful === 1,
        attempts,
        ...(outcome.callId === undefined ? {} : { callId: outcome.callId }),
        ...(outcome.inviteBytes === undefined ? {} : { inviteBytes: outcome.inviteBytes }),
        messageTrace: result.messageTrace,
        runDir: result.runDir,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
