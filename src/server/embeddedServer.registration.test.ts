import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedServer, type EmbeddedServerOptions, type EmbeddedSipServer } from './index.js';
import { parseDigestParams } from './digestAuth.js';
import { getHeader, getHeaders } from './sipMessage.js';
import { TestAgent } from './sipTestAgent.testkit.js';

const servers: EmbeddedSipServer[] = [];
const wire: { direction: 'in' | 'out'; raw: string }[] = [];
const internalErrors: unknown[] = [];

async function start(options: EmbeddedServerOptions = {}): Promise<EmbeddedSipServer> {
  const server = await startEmbeddedServer({
    onMessage: (event) => wire.push(event),
    onInternalError: (error) => internalErrors.push(error),
    ...options,
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  wire.length = 0;
  expect(internalErrors.splice(0)).toEqual([]);
});

describe('embedded registrar without auth', () => {
  it('accepts the "sip" subprotocol and listens on an ephemeral port', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.port}`);
    expect(server.domain).toBe('callwright.test');
    const alice = await TestAgent.connect(server, 'alice');
    expect(alice.client.protocol).toBe('sip');
  });

  it('registers with 200 OK listing the contact with its expires, and unregisters with expires=0', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');

    const registered = await alice.register({ expires: 600 });
    expect(registered.statusCode).toBe(200);
    expect(getHeaders(registered, 'Contact')).toEqual([`<${alice.contactUri}>;expires=600`]);
    expect(getHeaders(registered, 'Via')).toHaveLength(1);
    expect(getHeader(registered, 'To')).toMatch(/^<sip:alice@callwright\.test>;tag=/);
    expect(server.stats().registeredUsers).toBe(1);

    const unregistered = await alice.register({ expires: 0 });
    expect(unregistered.statusCode).toBe(200);
    expect(getHeaders(unregistered, 'Contact')).toEqual([]);
    expect(server.stats().registeredUsers).toBe(0);
  });

  it('keeps several contacts per address-of-record', async () => {
    const server = await start();
    const desk = await TestAgent.connect(server, 'alice');
    const mobile = await TestAgent.connect(server, 'alice');
    await desk.register();
    const second = await mobile.register({ expires: 300 });
    expect(getHeaders(second, 'Contact').sort()).toEqual(
      [`<${desk.contactUri}>;expires=600`, `<${mobile.contactUri}>;expires=300`].sort(),
    );
    expect(server.stats().registeredUsers).toBe(1);
  });

  it('removes the binding when its WebSocket closes', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    await alice.register();
    expect(server.stats().registeredUsers).toBe(1);
    alice.client.close();
    await alice.client.closed;
    await expect.poll(() => server.stats().registeredUsers).toBe(0);
  });

  it('refuses to register in a domain it does not serve', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const sent = alice.request({
      method: 'REGISTER',
      requestUri: 'sip:elsewhere.example',
      to: '<sip:alice@elsewhere.example>',
    });
    const response = await alice.nextResponse(sent.branch);
    expect(response.statusCode).toBe(404);
    expect(getHeader(response, 'Warning')).toContain('elsewhere.example');
  });
});

describe('embedded registrar with digest auth', () => {
  const auth = { users: { alice: 'wonderland', bob: 'builder' } };

  it('challenges with 401 (MD5, qop=auth) and accepts the right credentials', async () => {
    const server = await start({ auth });
    const alice = await TestAgent.connect(server, 'alice');

    const challenge = await alice.register();
    expect(challenge.statusCode).toBe(401);
    const params = parseDigestParams(getHeader(challenge, 'WWW-Authenticate')!)!;
    expect(params.get('realm')).toBe('callwright.test');
    expect(params.get('qop')).toBe('auth');
    expect(params.get('algorithm')).toBe('MD5');
    expect(server.stats().registeredUsers).toBe(0);

    const accepted = await alice.register({ password: 'wonderland' });
    expect(accepted.statusCode).toBe(200);
    expect(getHeaders(accepted, 'Contact')).toEqual([`<${alice.contactUri}>;expires=600`]);
    expect(server.stats().registeredUsers).toBe(1);
  });

  it('uses the configured realm', async () => {
    const server = await start({ auth: { ...auth, realm: 'lab' } });
    const alice = await TestAgent.connect(server, 'alice');
    const challenge = await alice.register();
    expect(parseDigestParams(getHeader(challenge, 'WWW-Authenticate')!)!.get('realm')).toBe('lab');
    expect((await alice.register({ password: 'wonderland' })).statusCode).toBe(200);
  });

  it('answers 403 for a wrong password, an unknown user, or credentials of another user', async () => {
    const server = await start({ auth });
    const alice = await TestAgent.connect(server, 'alice');
    expect((await alice.register({ password: 'nope' })).statusCode).toBe(403);

    const mallory = await TestAgent.connect(server, 'mallory');
    expect((await mallory.register({ password: 'guess' })).statusCode).toBe(403);

    const impostor = await TestAgent.connect(server, 'alice');
    expect((await impostor.register({ password: 'builder', authUser: 'bob' })).statusCode).toBe(403);
    expect(server.stats().registeredUsers).toBe(0);
  });

  it('never puts a password on the wire', async () => {
    const server = await start({ auth });
    const alice = await TestAgent.connect(server, 'alice');
    await alice.register({ password: 'wonderland' });
    await alice.register({ password: 'wrong-one' });
    expect(wire.length).toBeGreaterThanOrEqual(8);
    expect(wire.some((event) => event.raw.includes('wonderland') || event.raw.includes('builder'))).toBe(false);
  });
});
