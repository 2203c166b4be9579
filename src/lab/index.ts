/**
 * The real interop lab: Kamailio (SIP over UDP/TCP/ws/wss, digest auth, registrar),
 * rtpengine (WebRTC <-> plain RTP), SIP devices to call: a SIPp echo UAS and baresip, and a
 * TURN relay (coturn).
 * Everything binds 127.0.0.1 and runs detached until labDown.
 */
export { labUp, labDown, labStatus } from './lab.js';
export { runSippUac, type SippUacOptions, type SippUacResult } from './sipp.js';
export { callFromDevice, type DeviceCallOptions, type DeviceCallResult } from './deviceCall.js';
export { sippUacCallScenario, type SippUacCallOptions } from './sippUacScenario.js';
export { defaultExtraLabUsers, defaultLabPorts, defaultLabUsers, labDomain, labPortsFrom } from './labOptions.js';
export { kamailioSends, type KamailioSend } from './kamailioLog.js';
export { parseSippTrace, sippInviteOutcome, type SippTraceMessage } from './sippTrace.js';
export { lossyPathUnavailable } from './lossyPath.js';
// The MTU sweep (./mtuSweep.js) is not re-exported: it runs browsers, and the rest of the lab must load without the runner.
export { missingLabPrerequisites, describeMissing, type LabExtras, type MissingPrerequisite } from './binaries.js';
export { TURN_ENV } from './coturn.js';
export { rtpengineFlags } from './kamailioConfig.js';
export { digestAuthorization, parseDigestChallenge, type DigestChallenge, type DigestCredentials } from './digest.js';
export type {
  LabDevice,
  LabDeviceName,
  LabOptions,
  LabPorts,
  LabProcess,
  LabState,
  LabStatus,
  LabTurn,
  LabUser,
  LabUsersOptions,
} from './types.js';
