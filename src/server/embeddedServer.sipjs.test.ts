/**
 * Interop with the real SIP.js 0.21 core, run in Node over `ws` instead of a
 * browser (no WebRTC: a canned session description handler). SIP.js silently
 * drops messages it dislikes (extra Via, changed Via sent-by, bad
 * Content-Length...) and logs a warning, so every warning or error it logs
 * fails the test.
 */
import {
  Inviter,
  Messager,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Invitation,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startEmbeddedServer, type EmbeddedServerOptions, type EmbeddedSipServer } from './index.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';

/** Stands in for the WebRTC handler: always offers/answers the same SDP. */
class CannedSdp implements SessionDescriptionHandler {
  close(): void {}
  getDescription(): Promise<{ body: string; contentType: string }> {
    return Promise.resolve({ body: SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  setDescription(): Promise<void> {
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
}

const sipJsComplaints: string[] = [];
const servers: EmbeddedSipServer[] = [];
const agents: UserAgent[] = [];
const wire: string[] = [];

beforeAll(() => {
  // SIP.js's web transport uses the global WebSocket; Node 20 has none. This file runs in its own worker.
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  wire.length = 0;
  expect(sipJsComplaints.splice(0)).toEqual([]);
});

async function start(options: EmbeddedServerOptions = {}): Promise<EmbeddedSipServer> {
  const server = await startEmbeddedServer({ onMessage: (event) => wire.push(event.raw), ...options });
  servers.push(server);
  return server;
}

interface Agent {
  readonly userAgent: UserAgent;
  readonly invitations: Invitation[];
  readonly messages: string[];
  readonly infos: string[];
}

async function agent(
  server: EmbeddedSipServer,
  user: string,
  password?: string,
  answer: 'accept' | 'ring' = 'accept',
): Promise<Agent> {
  const invitations: Invitation[] = [];
  const messages: string[] = [];
  const infos: string[] = [];
  const userAgent = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${server.domain}`)!,
    transportOptions: { server: server.wsUrl },
    ...(password === undefined ? {} : { authorizationUsername: user, authorizationPassword: password }),
    sessionDescriptionHandlerFactory: () => new CannedSdp(),
    logBuiltinEnabled: false,
    logLevel: 'warn',
    logConnector: (level, category, _label, content) => {
      if (level === 'warn' || level === 'error') sipJsComplaints.push(`${user} ${level} ${category}: ${content}`);
    },
    delegate: {
      onInvite: (invitation) => {
        invitations.push(invitation);
        invitation.delegate = {
          onInfo: (info) => {
            infos.push(info.request.body);
            void info.accept();
          },
          // Blind transfer: accept and call the target; SIP.js then NOTIFYs the referrer in-dialog.
          onRefer: (referral) => {
            void referral.accept().then(() => referral.makeInviter().invite());
          },
        };
        if (answer === 'accept') void invitation.accept();
        else void invitation.progress();
      },
      onMessage: (message) => {
        messages.push(message.request.body);
        void message.accept();
      },
    },
  });
  agents.push(userAgent);
  await userAgent.start();
  const registerer = new Registerer(userAgent);
  await registerer.register();
  await expect.poll(() => registerer.state).toBe(RegistererState.Registered);
  return { userAgent, invitations, messages, infos };
}

function call(caller: Agent, callee: string): Inviter {
  const inviter = new Inviter(caller.userAgent, UserAgent.makeURI(`sip:${callee}@callwright.test`)!);
  void inviter.invite();
  return inviter;
}

async function established(session: Session | undefined): Promise<void> {
  await expect.poll(() => session?.state, { timeout: 3000 }).toBe(SessionState.Established);
}

describe('SIP.js 0.21 through the embedded server', () => {
  it('registers with digest auth, calls, sends INFO, re-INVITEs and MESSAGEs, and hangs up', async () => {
    const server = await start({ auth: { users: { alice: 'a-secret', bob: 'b-secret' } } });
    const alice = await agent(server, 'alice', 'a-secret');
    const bob = await agent(server, 'bob', 'b-secret');
    expect(server.stats().registeredUsers).toBe(2);

    const inviter = call(alice, 'bob');
    await established(inviter);
    await established(bob.invitations[0]);
    expect(server.stats()).toMatchObject({ activeCalls: 1, invites: 1 });

    await inviter.info({
      requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: 'Signal=5\r\nDuration=160' } },
    });
    await expect.poll(() => bob.infos).toEqual(['Signal=5\r\nDuration=160']);

    let reinviteAccepted = false;
    await inviter.invite({ requestDelegate: { onAccept: () => (reinviteAccepted = true) } });
    await expect.poll(() => reinviteAccepted).toBe(true);
    expect(server.stats().activeCalls).toBe(1);

    await new Messager(alice.userAgent, UserAgent.makeURI('sip:bob@callwright.test')!, 'hello bob').message();
    await expect.poll(() => bob.messages).toEqual(['hello bob']);

    // The callee hangs up: BYE travels bob -> alice through the Record-Route.
    await bob.invitations[0]!.bye();
    await expect.poll(() => inviter.state).toBe(SessionState.Terminated);
    expect(server.stats().activeCalls).toBe(0);
    expect(wire.some((raw) => raw.startsWith('BYE sip:'))).toBe(true);
    expect(wire.some((raw) => /a-secret|b-secret/.test(raw))).toBe(false);
  });

  it('carries a blind transfer: REFER, 202, the new call, and the NOTIFY back to the referrer', async () => {
    const server = await start();
    const alice = await agent(server, 'alice');
    const bob = await agent(server, 'bob');
    const carol = await agent(server, 'carol');
    const inviter = call(alice, 'bob');
    await established(inviter);

    const notifications: string[] = [];
    let referAccepted = false;
    await inviter.refer(UserAgent.makeURI('sip:carol@callwright.test')!, {
      requestDelegate: { onAccept: () => (referAccepted = true) },
      onNotify: (notification) => {
        notifications.push(notification.request.body);
        void notification.accept();
      },
    });
    await expect.poll(() => referAccepted).toBe(true);
    await established(carol.invitations[0]);
    await expect.poll(() => notifications).toContain('SIP/2.0 200 OK');
    expect(server.stats().activeCalls).toBe(2);
    expect(bob.invitations).toHaveLength(1);
  });

  it('cancels a ringing call and both sides end up terminated with a 487', async () => {
    const server = await start();
    const alice = await agent(server, 'alice');
    const bob = await agent(server, 'bob', undefined, 'ring');
    const inviter = call(alice, 'bob');
    await expect.poll(() => bob.invitations.length).toBe(1);
    await expect.poll(() => wire.some((raw) => raw.startsWith('SIP/2.0 180'))).toBe(true);

    await inviter.cancel();
    await expect.poll(() => inviter.state).toBe(SessionState.Terminated);
    await expect.poll(() => bob.invitations[0]!.state).toBe(SessionState.Terminated);
    expect(wire.filter((raw) => raw.startsWith('SIP/2.0 487')).length).toBeGreaterThanOrEqual(2);
    expect(server.stats().activeCalls).toBe(0);
  });

  it('reports 404 and 480 to the caller', async () => {
    const server = await start();
    const alice = await agent(server, 'alice');
    const carol = await agent(server, 'carol');
    await carol.userAgent.stop();
    agents.splice(agents.indexOf(carol.userAgent), 1);

    const rejections: number[] = [];
    for (const callee of ['nobody', 'carol']) {
      const inviter = new Inviter(alice.userAgent, UserAgent.makeURI(`sip:${callee}@callwright.test`)!);
      await inviter.invite({ requestDelegate: { onReject: (response) => rejections.push(response.message.statusCode!) } });
      await expect.poll(() => inviter.state).toBe(SessionState.Terminated);
    }
    expect(rejections).toEqual([404, 480]);
  });

  it('answers 503 over capacity', async () => {
    const server = await start({ maxConcurrentCalls: 1 });
    const alice = await agent(server, 'alice');
    await agent(server, 'bob');
    await agent(server, 'carol');
    await established(call(alice, 'bob'));

    let status: number | undefined;
    const second = new Inviter(alice.userAgent, UserAgent.makeURI('sip:carol@callwright.test')!);
    await second.invite({ requestDelegate: { onReject: (response) => (status = response.message.statusCode) } });
    await expect.poll(() => status).toBe(503);
    expect(server.stats().rejectedOverCapacity).toBe(1);
  });
});
