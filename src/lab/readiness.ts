import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { sleep } from './processes.js';

/** Sends one UDP datagram and resolves with the first reply, or undefined after timeoutMs. */
export function udpRequest(
  port: number,
  payload: string,
  timeoutMs: number,
  accept: (reply: string) => boolean = () => true,
  host = '127.0.0.1',
): Promise<string | undefined> {
  // Off loopback (a device in a network namespace) the kernel picks the source address by route.
  const localAddress = host === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0';
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const finish = (reply: string | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('message', (message) => {
      const text = message.toString('latin1');
      if (accept(text)) finish(text);
    });
    socket.on('error', () => finish(undefined));
    socket.bind(0, localAddress, () => socket.send(payload, port, host));
  });
}

/** A SIP OPTIONS request to host:port (default 127.0.0.1) over UDP; resolves with the status line of the answer. */
export async function sipOptionsPing(port: number, requestUri: string, timeoutMs = 500, host = '127.0.0.1'): Promise<string | undefined> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const localPort = socket.address().port;
  socket.close();
  const callId = randomBytes(8).toString('hex');
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  const request = [
    `OPTIONS ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${callId.slice(0, 8)}`,
    `To: <${requestUri}>`,
    `Call-ID: ${callId}@callwright.lab.probe`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const reply = await udpRequest(port, request, timeoutMs, (text) => text.startsWith('SIP/2.0 ') && text.includes(callId), host);
  return reply?.split('\r\n')[0];
}

/** rtpengine's ng control protocol: "cookie bencoded-dict"; ping answers result=pong. */
export async function rtpenginePing(port: number, timeoutMs = 500): Promise<boolean> {
  const cookie = randomBytes(6).toString('hex');
  const reply = await udpRequest(port, `${cookie} d7:command4:pinge`, timeoutMs, (text) => text.startsWith(cookie));
  return reply?.includes('4:pong') ?? false;
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function tcpAccepts(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Polls `check` until it returns true or timeoutMs passes; `abort` (e.g. the process exited)
 * ends the wait early with its reason.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  abort?: Promise<string>,
): Promise<{ ready: true } | { ready: false; reason: string }> {
  let aborted: string | undefined;
  void abort?.then((reason) => {
    aborted = reason;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (aborted !== undefined) return { ready: false, reason: `it exited (${aborted})` };
    if (await check()) return { ready: true };
    if (aborted !== undefined) return { ready: false, reason: `it exited (${aborted})` };
    if (Date.now() > deadline) return { ready: false, reason: `not ready after ${timeoutMs} ms` };
    await sleep(100);
  }
}
