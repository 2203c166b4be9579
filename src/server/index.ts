/**
 * The embedded SIP-over-WebSocket registrar and proxy (RFC 7118, subprotocol
 * "sip") that callwright starts on 127.0.0.1 when a scenario names no SIP
 * server. This file owns the WebSocket listener; SIP handling is in sipProxy.ts.
 *
 * Behaviour worth knowing when writing scenarios against it:
 * - A call to a user with several registered contacts goes to the most
 *   recently registered one (no forking).
 * - 404 for a user never seen (not in auth.users, never registered), 480 for
 *   a known user with no live binding, 503 over maxConcurrentCalls.
 * - With auth, REGISTER needs credentials of the user it registers (else 403);
 *   out-of-dialog INVITE and MESSAGE need credentials of any configured user.
 * - stats().invites counts out-of-dialog INVITEs that passed authentication,
 *   whatever their outcome; activeCalls drops when either side's WebSocket
 *   closes, even if that agent later reconnects and keeps its session.
 * - An INVITE with no final response 180 s after its last provisional one is
 *   answered 408 and cancelled towards the callee (Timer C).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { InfraError } from '../errors.js';
import { ConnectionTable, type SipConnection } from './connectionTable.js';
import { DigestAuthenticator } from './digestAuth.js';
import { SipProxy } from './sipProxy.js';

export interface EmbeddedServerOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // default 0 (ephemeral)
  domain?: string; // default 'callwright.test'
  /** When set, REGISTER (and out-of-dialog INVITE/MESSAGE) must pass digest auth (MD5, qop=auth) for these users. */
  auth?: { realm?: string; users: Record<string, string> }; // user -> password
  /** Answer 503 Service Unavailable to new INVITEs when this many dialogs are up (capacity tests use it). */
  maxConcurrentCalls?: number;
  /** Called for every SIP message sent or received, raw text; tests use it to assert on what crossed the wire. */
  onMessage?: (event: { direction: 'in' | 'out'; connectionId: number; raw: string }) => void;
  /**
   * Called when handling one message failed unexpectedly (a bug in the server, never bad input).
   * The server drops that message and keeps running; without this the error is swallowed.
   */
  onInternalError?: (error: unknown) => void;
}

export interface EmbeddedSipServer {
  readonly wsUrl: string; // e.g. ws://127.0.0.1:43211
  readonly domain: string;
  readonly port: number;
  /** Registered AORs now (user part), dialog count, totals: for summaries and tests. */
  stats(): { registeredUsers: number; activeCalls: number; invites: number; rejectedOverCapacity: number };
  /** Close the WebSocket connections of one registered user (or all), as a network fault would. */
  dropConnections(user?: string): void;
  stop(): Promise<void>; // closes all connections and the listener; idempotent
}

/** One SIP message per WebSocket frame (RFC 7118 section 5); big enough for any SDP offer. */
const MAX_FRAME_BYTES = 1024 * 1024;

export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedSipServer> {
  const host = options.host ?? '127.0.0.1';
  const domain = options.domain ?? 'callwright.test';
  const onMessage = options.onMessage;
  const guarded = (action: () => void): void => {
    try {
      action();
    } catch (error) {
      // Nothing a client sends may take the server down: a bug drops one message, not the run.
      try {
        options.onInternalError?.(error);
      } catch {
        // An observer's own failure is not ours to raise.
      }
    }
  };
  const tap = (direction: 'in' | 'out', connectionId: number, raw: string): void => {
    if (onMessage === undefined) return;
    try {
      onMessage({ direction, connectionId, raw });
    } catch {
      // A throwing observer must not break signalling.
    }
  };

  const wss = await listen(host, options.port ?? 0);
  const port = (wss.address() as AddressInfo).port;
  const connections = new ConnectionTable();
  const proxy = new SipProxy(
    {
      host,
      port,
      domain,
      ...(options.auth === undefined
        ? {}
        : { authenticator: new DigestAuthenticator({ realm: options.auth.realm ?? domain, users: options.auth.users }) }),
      ...(options.maxConcurrentCalls === undefined ? {} : { maxConcurrentCalls: options.maxConcurrentCalls }),
    },
    connections,
  );

  let nextConnectionId = 1;
  wss.on('connection', (socket) => {
    const id = nextConnectionId++;
    const connection: SipConnection = {
      id,
      isOpen: () => socket.readyState === WebSocket.OPEN,
      send: (raw) => {
        if (socket.readyState !== WebSocket.OPEN) return false;
        if (!isKeepAlive(raw)) tap('out', id, raw);
        socket.send(raw, () => undefined); // a failed write shows up as a close event
        return true;
      },
      terminate: () => socket.terminate(),
    };
    connections.add(connection);
    socket.on('message', (data: RawData) => {
      const raw = rawDataToText(data);
      if (raw === '\r\n\r\n') {
        connection.send('\r\n'); // RFC 5626 section 4.4.1 keep-alive pong
        return;
      }
      if (raw.trim() === '') return; // CRLF pongs and empty frames
      tap('in', id, raw);
      guarded(() => proxy.receive(connection, raw));
    });
    socket.on('close', () => guarded(() => proxy.connectionClosed(id)));
    socket.on('error', () => undefined); // always followed by 'close'
  });

  const wsHost = host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;
  return {
    wsUrl: `ws://${wsHost}:${port}`,
    domain,
    port,
    stats: () => proxy.stats(),
    dropConnections: (user?: string) => guarded(() => proxy.dropConnections(user)),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        proxy.stop();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      });
      return stopping;
    },
  };
}

function listen(host: string, port: number): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({
      host,
      port,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      // RFC 7118 asks for "sip"; tolerate clients that offer nothing.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    const onError = (error: NodeJS.ErrnoException): void => {
      wss.close();
      reject(
        new InfraError(
          `Cannot start the embedded SIP server on ${host}:${port}: ${error.code ?? error.message}`,
          listenHint(error.code, host, port),
        ),
      );
    };
    wss.once('error', onError);
    wss.once('listening', () => {
      wss.off('error', onError);
      wss.on('error', () => undefined); // the listener is up; later errors surface per connection
      resolve(wss);
    });
  });
}

function listenHint(code: string | undefined, host: string, port: number): string {
  switch (code) {
    case 'EADDRINUSE':
      return `Something already listens on port ${port}: stop it, choose another port, or use port 0 for a free one.`;
    case 'EACCES':
      return `Port ${port} needs privileges: use a port above 1023, or 0 for a free one.`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: use 127.0.0.1.`;
    default:
      return 'Check the host and port of the embedded SIP server, or use port 0 for a free one.';
  }
}

function isKeepAlive(raw: string): boolean {
  return /^(\r\n)+$/.test(raw);
}

function rawDataToText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
