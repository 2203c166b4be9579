/**
 * Entry of a lite agent process (bundled by scripts/build-agent.mjs into
 * dist/lite-agent.js, started by src/lite/liteProcess.ts with an IPC channel).
 * The same PageAgent as a browser page runs its SIP.js user agents; their
 * media is the lite backend. Messages: init, then dispatch commands; events
 * go back in batches, exactly as a page's do.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { PageAgent } from '../../agent/pageAgent.js';
import { errorText } from '../../agent/agentHost.js';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { KnownFrames, loadAllAudioFrames } from '../audioFrames.js';
import { makeCertificate } from '../certificate.js';
import { liteMediaBackend } from './liteLegMedia.js';
import { pinnedWebSocket } from './pinnedWebSocket.js';
import type { LiteParentMessage, LiteChildMessage } from '../liteProtocol.js';

/** A lite process samples every leg each interval: reading its counters costs microseconds, unlike getStats. */
const LITE_STATS_PER_SECOND = 5_000;

let agent: PageAgent | undefined;

const send = (message: LiteChildMessage) => {
  // The parent gone (channel closed): nothing left to tell; the process exits with it.
  if (process.connected) process.send?.(message);
};

process.on('message', (message: LiteParentMessage) => {
  if (message.kind === 'init') {
    try {
      const { config, framesDir, tls } = message;
      (globalThis as unknown as { WebSocket: unknown }).WebSocket = pinnedWebSocket(NodeWebSocket, tls);
      const frames = loadAllAudioFrames(framesDir);
      if (frames.size === 0) throw new Error(`no audio frames in ${framesDir}: run python3 scripts/make-audio-frames.py`);
      // One DTLS certificate for the process, as Chromium's kind (certificate.ts); its files go with the process.
      const certificate = makeCertificate();
      process.on('exit', () => rmSync(dirname(certificate.certificatePemFile), { recursive: true, force: true }));
      const backend = liteMediaBackend({
        frames,
        known: new KnownFrames(frames.values()),
        certificate: { certificatePemFile: certificate.certificatePemFile, keyPemFile: certificate.keyPemFile },
        ...(message.portRange ? { portRange: message.portRange } : {}),
      });
      agent = new PageAgent(config, (events) => send({ kind: 'events', events }), backend, LITE_STATS_PER_SECOND);
      send({ kind: 'ready', pid: process.pid });
    } catch (error) {
      send({ kind: 'initFailed', error: errorText(error) });
    }
    return;
  }
  if (message.kind === 'dispatch') {
    const result = agent ? agent.dispatch(message.command) : { ok: false as const, error: 'lite agent not initialised' };
    send({ kind: 'result', id: message.id, result });
  }
});

// The parent went away (crash, kill -9): no agent may outlive callwright.
process.on('disconnect', () => process.exit(0));
// Stopped by the parent: exit through 'exit' handlers (the certificate's files go).
process.on('SIGTERM', () => process.exit(0));
