import { afterEach, describe, expect, it } from 'vitest';
import { InfraError } from '../errors.js';
import { startEmbeddedServer, type EmbeddedServerOptions, type EmbeddedSipServer } from './index.js';
import { getHeader } from './sipMessage.js';
import { RawSipClient, TestAgent } from './sipTestAgent.testkit.js';

const servers: EmbeddedSipServer[] = [];
const internalErrors: unknown[] = [];

async function start(options: EmbeddedServerOptions = {}): Promise<EmbeddedSipServer> {
  const server = await startEmbeddedServer({ onInternalError: (error) => internalErrors.push(error), ...options });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  expect(internalErrors.splice(0)).toEqual([]);
});

describe('malformed input and keep-alives', () => {
  it('answers a malformed request with 400 and keeps serving the connection', async () => {
    const server = await start();
    const client = await RawSipClient.connect(server.wsUrl);
    client.sendRaw(
      [
        'INVITE sip:bob@callwright.test SIP/2.0',
        'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKbad1',
        'From: <sip:alice@callwright.test>;tag=1',
        'To: <sip:bob@callwright.test>',
        'CSeq: 1 INVITE',
        '',
        '',
      ].join('\r\n'),
    );
    const response = await client.next((message) => message.kind === 'response');
    expect(response.kind === 'response' && response.statusCode).toBe(400);
    expect(getHeader(response, 'Warning')).toContain('Call-ID');

    const alice = await TestAgent.connect(server, 'alice');
    expect((await alice.register()).statusCode).toBe(200);
  });

  it('answers 400 when the CSeq method does not match and 400 for a Content-Length beyond the body', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const mismatch = alice.request({ method: 'OPTIONS', requestUri: 'sip:callwright.test' });
    alice.client.sendRaw(mismatch.raw.replace('OPTIONS\r\n', 'INVITE\r\n').replace(mismatch.branch, 'z9hG4bKm2'));
    expect((await alice.nextResponse(mismatch.branch)).statusCode).toBe(200);
    expect((await alice.nextResponse('z9hG4bKm2')).statusCode).toBe(400);

    const truncated = alice.request({ method: 'MESSAGE', requestUri: 'sip:callwright.test', body: 'abc', contentType: 'text/plain' });
    alice.client.sendRaw(truncated.raw.replace('Content-Length: 3', 'Content-Length: 30').replace(truncated.branch, 'z9hG4bKm3'));
    expect((await alice.nextResponse('z9hG4bKm3')).statusCode).toBe(400);
    await alice.nextResponse(truncated.branch);
  });

  it('answers 400 rather than silence to an INVITE for a login name with a space', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const sent = alice.request({ method: 'INVITE', requestUri: 'sip:john smith@callwright.test', to: '<sip:x@callwright.test>' });
    const response = await alice.nextResponse(sent.branch);
    expect(response.statusCode).toBe(400);
    expect(getHeader(response, 'Warning')).toContain('whitespace');
  });

  it('answers 416 for a non-SIP Request-URI', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const sent = alice.request({ method: 'INVITE', requestUri: 'tel:+15551234', to: '<sip:x@callwright.test>' });
    expect((await alice.nextResponse(sent.branch)).statusCode).toBe(416);
  });

  it('drops garbage and stray responses without answering or crashing', async () => {
    const server = await start();
    const client = await RawSipClient.connect(server.wsUrl);
    client.sendRaw('GET / HTTP/1.1\r\n\r\n');
    client.sendRaw('SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1:1;branch=z9hG4bKcwnothing\r\nCSeq: 1 INVITE\r\n\r\n');
    client.sendRaw('SIP/2.0 200 OK\r\n\r\n');
    client.sendRaw('');
    client.sendRaw(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'));
    const alice = await TestAgent.connect(server, 'alice');
    expect((await alice.register()).statusCode).toBe(200);
    expect(client.frames).toEqual([]);
    expect(client.isOpen).toBe(true);
  });

  it('answers a CRLF CRLF keep-alive ping with a CRLF pong and ignores pongs', async () => {
    const server = await start();
    const client = await RawSipClient.connect(server.wsUrl);
    client.sendRaw('\r\n\r\n');
    await expect.poll(() => client.frames).toEqual(['\r\n']);
    client.sendRaw('\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.frames).toEqual(['\r\n']);
  });

  it('accepts a client that offers no subprotocol', async () => {
    const server = await start();
    const client = await RawSipClient.connect(server.wsUrl, []);
    expect(client.protocol).toBe('');
    client.sendRaw('\r\n\r\n');
    await expect.poll(() => client.frames).toEqual(['\r\n']);
  });

  it('survives an onMessage observer that throws', async () => {
    const server = await start({
      onMessage: () => {
        throw new Error('observer bug');
      },
    });
    const alice = await TestAgent.connect(server, 'alice');
    expect((await alice.register()).statusCode).toBe(200);
  });
});

describe('dropConnections and stop', () => {
  it('closes the sockets of one user and removes its binding at once', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const bob = await TestAgent.connect(server, 'bob');
    await alice.register();
    await bob.register();
    expect(server.stats().registeredUsers).toBe(2);

    server.dropConnections('bob');
    expect(server.stats().registeredUsers).toBe(1);
    expect(await bob.client.closed).toBe(1006); // abrupt, like a network fault
    expect(alice.client.isOpen).toBe(true);

    const invite = alice.request({ method: 'INVITE', requestUri: 'sip:bob@callwright.test' });
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(480);
  });

  it('routes in-dialog requests to the new socket once a dropped agent reconnects and re-registers', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const bob = await TestAgent.connect(server, 'bob');
    await alice.register();
    await bob.register();
    const invite = alice.request({ method: 'INVITE', requestUri: 'sip:bob@callwright.test' });
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(100);
    const atBob = await bob.nextRequest('INVITE');
    bob.respond(atBob, 200, 'OK');
    const ok = await alice.nextResponse(invite.branch);
    expect(ok.statusCode).toBe(200);
    expect(server.stats().activeCalls).toBe(1);

    server.dropConnections('bob');
    await bob.client.closed;
    // The dialog is no longer counted: either side's connection loss ends it for the stats.
    expect(server.stats().activeCalls).toBe(0);
    const inDialog = {
      requestUri: bob.contactUri,
      to: getHeader(ok, 'To')!,
      callId: invite.callId,
      fromTag: invite.fromTag,
      headers: [`Route: <sip:127.0.0.1:${server.port};transport=ws;lr>`],
      noContact: true,
    };
    const whileAway = alice.request({ ...inDialog, method: 'INFO' });
    expect((await alice.nextResponse(whileAway.branch)).statusCode).toBe(480);

    await bob.reconnect();
    expect((await bob.register()).statusCode).toBe(200);
    const afterReturn = alice.request({ ...inDialog, method: 'INFO' });
    const info = await bob.nextRequest('INFO');
    bob.respond(info, 200, 'OK', { contact: false });
    expect((await alice.nextResponse(afterReturn.branch)).statusCode).toBe(200);
  });

  it('closes every connection when no user is named', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const anonymous = await RawSipClient.connect(server.wsUrl);
    await alice.register();
    server.dropConnections();
    await Promise.all([alice.client.closed, anonymous.closed]);
    expect(server.stats().registeredUsers).toBe(0);
  });

  it('stop closes clients and the listener, and is idempotent', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    await alice.register();
    await Promise.all([server.stop(), server.stop()]);
    await alice.client.closed;
    await expect(RawSipClient.connect(server.wsUrl)).rejects.toThrow();
    await server.stop();
  });

  it('rejects with InfraError and a hint when the port is taken', async () => {
    const first = await start();
    const failure = await startEmbeddedServer({ port: first.port }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InfraError);
    expect((failure as InfraError).message).toContain('EADDRINUSE');
    expect((failure as InfraError).hint).toMatch(/port 0/);
    expect((failure as InfraError).exitCode).toBe(3);
  });
});
