import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedServer, type EmbeddedServerOptions, type EmbeddedSipServer } from './index.js';
import { getHeader, getHeaders, type SipRequest } from './sipMessage.js';
import { parseVia } from './sipUri.js';
import { TestAgent } from './sipTestAgent.testkit.js';

const SDP_OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const SDP_ANSWER = SDP_OFFER.replace('o=- 1 1', 'o=- 2 2');

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

async function registered(server: EmbeddedSipServer, user: string): Promise<TestAgent> {
  const agent = await TestAgent.connect(server, user);
  expect((await agent.register()).statusCode).toBe(200);
  return agent;
}

function ourVia(server: EmbeddedSipServer): RegExp {
  return new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${server.port};branch=z9hG4bK\\S+$`);
}

/** alice calls bob; returns once bob has the INVITE. */
async function inviteBob(alice: TestAgent, bob: TestAgent) {
  const invite = alice.request({
    method: 'INVITE',
    requestUri: `sip:bob@${alice.domain}`,
    body: SDP_OFFER,
    contentType: 'application/sdp',
  });
  const trying = await alice.nextResponse(invite.branch);
  expect(trying.statusCode).toBe(100);
  const atBob = await bob.nextRequest('INVITE');
  return { invite, atBob };
}

describe('proxying a call between two registered agents', () => {
  it('routes INVITE, 180, 200, ACK and BYE with Via, Record-Route and Route handled', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { invite, atBob } = await inviteBob(alice, bob);

    // The INVITE reaches bob's socket, addressed to his registered contact, through us.
    expect(atBob.requestUri).toBe(bob.contactUri);
    const vias = getHeaders(atBob, 'Via');
    expect(vias).toHaveLength(2);
    expect(vias[0]).toMatch(ourVia(server));
    expect(vias[1]).toBe(invite.via);
    expect(getHeaders(atBob, 'Record-Route')).toEqual([`<sip:127.0.0.1:${server.port};transport=ws;lr>`]);
    expect(getHeader(atBob, 'Max-Forwards')).toBe('69');
    expect(getHeader(atBob, 'Call-ID')).toBe(invite.callId);
    expect(atBob.body).toBe(SDP_OFFER);

    // 180 and 200 come back to alice with our Via popped and the Record-Route kept.
    const bobTag = bob.respond(atBob, 180, 'Ringing');
    const ringing = await alice.nextResponse(invite.branch);
    expect(ringing.statusCode).toBe(180);
    expect(getHeaders(ringing, 'Via')).toEqual([invite.via]);
    expect(getHeader(ringing, 'To')).toBe(`<sip:bob@callwright.test>;tag=${bobTag}`);

    bob.respond(atBob, 200, 'OK', { toTag: bobTag, body: SDP_ANSWER, contentType: 'application/sdp' });
    const ok = await alice.nextResponse(invite.branch);
    expect(ok.statusCode).toBe(200);
    expect(getHeaders(ok, 'Via')).toEqual([invite.via]);
    expect(getHeaders(ok, 'Record-Route')).toEqual([`<sip:127.0.0.1:${server.port};transport=ws;lr>`]);
    expect(getHeader(ok, 'Contact')).toBe(`<${bob.contactUri}>`);
    expect(ok.body).toBe(SDP_ANSWER);
    expect(server.stats()).toMatchObject({ activeCalls: 1, invites: 1 });

    // ACK for the 2xx: sent like SIP.js does, to bob's contact with our Route; it reaches bob without the Route.
    const route = `Route: <sip:127.0.0.1:${server.port};transport=ws;lr>`;
    const dialogTo = getHeader(ok, 'To')!;
    alice.request({
      method: 'ACK',
      requestUri: bob.contactUri,
      to: dialogTo,
      callId: invite.callId,
      fromTag: invite.fromTag,
      cseq: invite.cseq,
      headers: [route],
    });
    const ack = await bob.nextRequest('ACK');
    expect(ack.requestUri).toBe(bob.contactUri);
    expect(getHeaders(ack, 'Route')).toEqual([]);
    expect(getHeaders(ack, 'Via')[0]).toMatch(ourVia(server));
    expect(getHeaders(ack, 'Via')).toHaveLength(2);

    // BYE from bob (the callee) to alice's contact.
    const bye = bob.client;
    const byeRaw = [
      `BYE ${alice.contactUri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${bob.viaHost};branch=z9hG4bKbye1`,
      'Max-Forwards: 70',
      `Route: <sip:127.0.0.1:${server.port};transport=ws;lr>`,
      `From: ${dialogTo}`,
      `To: ${getHeader(ok, 'From')}`,
      `Call-ID: ${invite.callId}`,
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    bye.sendRaw(byeRaw);
    const byeAtAlice = await alice.nextRequest('BYE');
    expect(byeAtAlice.requestUri).toBe(alice.contactUri);
    expect(getHeaders(byeAtAlice, 'Route')).toEqual([]);
    expect(getHeaders(byeAtAlice, 'Via')).toHaveLength(2);
    expect(server.stats().activeCalls).toBe(0);

    alice.respond(byeAtAlice, 200, 'OK', { contact: false });
    const byeOk = await bob.nextResponse('z9hG4bKbye1');
    expect(byeOk.statusCode).toBe(200);
    expect(getHeaders(byeOk, 'Via')).toEqual([`SIP/2.0/WSS ${bob.viaHost};branch=z9hG4bKbye1`]);

    // Nothing else was delivered to either side (e.g. no stray 100 from bob's side, no duplicate).
    expect(alice.client.unclaimed()).toEqual([]);
    expect(bob.client.unclaimed()).toEqual([]);
  });

  it('routes a re-INVITE and INFO in the dialog without counting a second call', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { invite, atBob } = await inviteBob(alice, bob);
    const bobTag = bob.respond(atBob, 200, 'OK', { body: SDP_ANSWER, contentType: 'application/sdp' });
    const ok = await alice.nextResponse(invite.branch);
    const route = `Route: <sip:127.0.0.1:${server.port};transport=ws;lr>`;
    const inDialog = { requestUri: bob.contactUri, to: getHeader(ok, 'To')!, callId: invite.callId, fromTag: invite.fromTag, headers: [route] };

    const reinvite = alice.request({ ...inDialog, method: 'INVITE', cseq: 2, body: SDP_OFFER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(reinvite.branch)).statusCode).toBe(100);
    const reinviteAtBob = await bob.nextRequest('INVITE');
    expect(getHeaders(reinviteAtBob, 'Record-Route')).toEqual([]);
    bob.respond(reinviteAtBob, 200, 'OK', { toTag: bobTag, body: SDP_ANSWER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(reinvite.branch)).statusCode).toBe(200);
    expect(server.stats()).toMatchObject({ activeCalls: 1, invites: 1 });

    const info = alice.request({ ...inDialog, method: 'INFO', cseq: 3, body: 'Signal=5\r\nDuration=100\r\n', contentType: 'application/dtmf-relay', noContact: true });
    const infoAtBob = await bob.nextRequest('INFO');
    expect(infoAtBob.body).toBe('Signal=5\r\nDuration=100\r\n');
    bob.respond(infoAtBob, 200, 'OK', { contact: false });
    expect((await alice.nextResponse(info.branch)).statusCode).toBe(200);
  });

  it('answers 480 for a known user who is not registered now and 404 for an unknown one', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    expect((await bob.register({ expires: 0 })).statusCode).toBe(200);

    const toBob = alice.request({ method: 'INVITE', requestUri: 'sip:bob@callwright.test', body: SDP_OFFER, contentType: 'application/sdp' });
    const unavailable = await alice.nextResponse(toBob.branch);
    expect(unavailable.statusCode).toBe(480);
    expect(getHeader(unavailable, 'To')).toMatch(/;tag=/);

    const toNobody = alice.request({ method: 'INVITE', requestUri: 'sip:nobody@callwright.test', body: SDP_OFFER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(toNobody.branch)).statusCode).toBe(404);
    expect(bob.client.unclaimed().filter((message) => message.kind === 'request')).toEqual([]);
  });

  it('answers 480 for a user configured for auth who never registered', async () => {
    const server = await start({ auth: { users: { alice: 'a', carol: 'c' } } });
    const alice = await TestAgent.connect(server, 'alice');
    expect((await alice.register({ password: 'a' })).statusCode).toBe(200);
    const first = alice.request({ method: 'INVITE', requestUri: 'sip:carol@callwright.test' });
    const challenge = await alice.nextResponse(first.branch);
    expect(challenge.statusCode).toBe(407);
    const second = alice.request({
      method: 'INVITE',
      requestUri: 'sip:carol@callwright.test',
      callId: first.callId,
      fromTag: first.fromTag,
      headers: [`Proxy-Authorization: ${alice.authorization(challenge, 'INVITE', 'sip:carol@callwright.test', 'a')}`],
    });
    expect((await alice.nextResponse(second.branch)).statusCode).toBe(480);
  });

  it('challenges an out-of-dialog INVITE with 407 and forwards it without our credentials once authorised', async () => {
    const server = await start({ auth: { users: { alice: 'a', bob: 'b' } } });
    const alice = await TestAgent.connect(server, 'alice');
    const bob = await TestAgent.connect(server, 'bob');
    expect((await alice.register({ password: 'a' })).statusCode).toBe(200);
    expect((await bob.register({ password: 'b' })).statusCode).toBe(200);

    const first = alice.request({ method: 'INVITE', requestUri: 'sip:bob@callwright.test', body: SDP_OFFER, contentType: 'application/sdp' });
    const challenge = await alice.nextResponse(first.branch);
    expect(challenge.statusCode).toBe(407);
    expect(getHeader(challenge, 'Proxy-Authenticate')).toMatch(/^Digest realm="callwright\.test", nonce="[0-9a-f]+", algorithm=MD5, qop="auth"$/);
    // SIP.js acknowledges the 407 hop-by-hop; it must not reach bob.
    alice.request({ method: 'ACK', requestUri: 'sip:bob@callwright.test', to: getHeader(challenge, 'To')!, callId: first.callId, fromTag: first.fromTag, cseq: first.cseq, branch: first.branch });

    const second = alice.request({
      method: 'INVITE',
      requestUri: 'sip:bob@callwright.test',
      callId: first.callId,
      fromTag: first.fromTag,
      cseq: first.cseq + 1,
      body: SDP_OFFER,
      contentType: 'application/sdp',
      headers: [`Proxy-Authorization: ${alice.authorization(challenge, 'INVITE', 'sip:bob@callwright.test', 'a')}`],
    });
    expect((await alice.nextResponse(second.branch)).statusCode).toBe(100);
    const atBob = await bob.nextRequest('INVITE');
    expect(getHeader(atBob, 'CSeq')).toBe(`${first.cseq + 1} INVITE`);
    expect(getHeaders(atBob, 'Proxy-Authorization')).toEqual([]);
    expect(bob.client.unclaimed()).toEqual([]);
    expect(server.stats().invites).toBe(1);
  });

  it('cancels a ringing call: 200 to the CANCEL, CANCEL to the callee, 487 back, ACK to the callee', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { invite, atBob } = await inviteBob(alice, bob);
    const bobTag = bob.respond(atBob, 180, 'Ringing');
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(180);

    // SIP.js sends CANCEL with the INVITE's branch, Call-ID, From and CSeq number.
    alice.request({
      method: 'CANCEL',
      requestUri: `sip:bob@callwright.test`,
      branch: invite.branch,
      callId: invite.callId,
      fromTag: invite.fromTag,
      cseq: invite.cseq,
      noContact: true,
    });
    const cancelOk = await alice.client.next(
      (message) => message.kind === 'response' && getHeader(message, 'CSeq') === `${invite.cseq} CANCEL`,
    );
    expect(cancelOk.kind === 'response' && cancelOk.statusCode).toBe(200);

    const cancelAtBob = await bob.nextRequest('CANCEL');
    expect(cancelAtBob.requestUri).toBe(atBob.requestUri);
    expect(getHeaders(cancelAtBob, 'Via')).toEqual([getHeaders(atBob, 'Via')[0]]);
    expect(getHeader(cancelAtBob, 'CSeq')).toBe(`${invite.cseq} CANCEL`);
    bob.respond(cancelAtBob, 200, 'OK', { contact: false });
    bob.respond(atBob, 487, 'Request Terminated', { toTag: bobTag, contact: false });

    const terminated = await alice.nextResponse(invite.branch);
    expect(terminated.statusCode).toBe(487);
    expect(getHeaders(terminated, 'Via')).toEqual([invite.via]);

    const ackAtBob = await bob.nextRequest('ACK');
    expect(getHeader(ackAtBob, 'CSeq')).toBe(`${invite.cseq} ACK`);
    expect(getHeaders(ackAtBob, 'Via')).toEqual([getHeaders(atBob, 'Via')[0]]);
    expect(getHeader(ackAtBob, 'To')).toBe(`<sip:bob@callwright.test>;tag=${bobTag}`);

    // alice's own ACK for the 487 is hop-by-hop: absorbed, bob sees no second ACK.
    alice.request({ method: 'ACK', requestUri: 'sip:bob@callwright.test', branch: invite.branch, callId: invite.callId, fromTag: invite.fromTag, cseq: invite.cseq, to: getHeader(terminated, 'To')!, noContact: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bob.client.unclaimed()).toEqual([]);
    expect(server.stats().activeCalls).toBe(0);
  });

  it('answers 481 to a CANCEL that matches no INVITE', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const cancel = alice.request({ method: 'CANCEL', requestUri: 'sip:bob@callwright.test', noContact: true });
    expect((await alice.nextResponse(cancel.branch)).statusCode).toBe(481);
  });

  it('answers 503 to new INVITEs when maxConcurrentCalls dialogs are up', async () => {
    const server = await start({ maxConcurrentCalls: 1 });
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    await registered(server, 'carol');
    const { invite, atBob } = await inviteBob(alice, bob);
    bob.respond(atBob, 200, 'OK', { body: SDP_ANSWER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(200);
    expect(server.stats().activeCalls).toBe(1);

    const overflow = alice.request({ method: 'INVITE', requestUri: 'sip:carol@callwright.test', body: SDP_OFFER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(overflow.branch)).statusCode).toBe(503);
    expect(server.stats()).toEqual({ registeredUsers: 3, activeCalls: 1, invites: 2, rejectedOverCapacity: 1 });
  });

  it('counts the call down when one side loses its connection', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { invite, atBob } = await inviteBob(alice, bob);
    bob.respond(atBob, 200, 'OK', { body: SDP_ANSWER, contentType: 'application/sdp' });
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(200);
    expect(server.stats().activeCalls).toBe(1);
    bob.client.close();
    await expect.poll(() => server.stats().activeCalls).toBe(0);
  });

  it('answers 480 to the caller when the callee disconnects while ringing', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { invite, atBob } = await inviteBob(alice, bob);
    bob.respond(atBob, 180, 'Ringing');
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(180);
    bob.client.close();
    expect((await alice.nextResponse(invite.branch)).statusCode).toBe(480);
  });

  it('cancels towards the callee when the caller disconnects while it rings', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const { atBob } = await inviteBob(alice, bob);
    alice.client.close();
    const cancel = await bob.nextRequest('CANCEL');
    expect(getHeaders(cancel, 'Via')).toEqual([getHeaders(atBob, 'Via')[0]]);
  });
});

describe('out-of-dialog requests', () => {
  it('delivers a MESSAGE to the registered user and its 200 back', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const message = alice.request({
      method: 'MESSAGE',
      requestUri: 'sip:bob@callwright.test',
      body: 'hello, bob ☎',
      contentType: 'text/plain',
      noContact: true,
    });
    const atBob: SipRequest = await bob.nextRequest('MESSAGE');
    expect(atBob.body).toBe('hello, bob ☎');
    expect(getHeader(atBob, 'Content-Type')).toBe('text/plain');
    expect(atBob.requestUri).toBe(bob.contactUri);
    expect(getHeaders(atBob, 'Record-Route')).toEqual([]);
    bob.respond(atBob, 200, 'OK', { contact: false });
    const ok = await alice.nextResponse(message.branch);
    expect(ok.statusCode).toBe(200);
    expect(getHeaders(ok, 'Via')).toEqual([message.via]);
  });

  it('challenges an unauthenticated MESSAGE with 407 when auth is on', async () => {
    const server = await start({ auth: { users: { alice: 'a' } } });
    const alice = await TestAgent.connect(server, 'alice');
    const message = alice.request({ method: 'MESSAGE', requestUri: 'sip:alice@callwright.test', body: 'x', contentType: 'text/plain' });
    expect((await alice.nextResponse(message.branch)).statusCode).toBe(407);
  });

  it('answers OPTIONS addressed to the server itself', async () => {
    const server = await start();
    const alice = await TestAgent.connect(server, 'alice');
    const options = alice.request({ method: 'OPTIONS', requestUri: 'sip:callwright.test' });
    const response = await alice.nextResponse(options.branch);
    expect(response.statusCode).toBe(200);
    expect(getHeader(response, 'Allow')).toContain('INVITE');
  });

  it('answers 483 when Max-Forwards is exhausted', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const sent = alice.request({ method: 'OPTIONS', requestUri: 'sip:bob@callwright.test', maxForwards: 0 });
    const response = await alice.nextResponse(sent.branch);
    expect(response.statusCode).toBe(483);
    expect(bob.client.unclaimed()).toEqual([]);
  });

  it('sends our Via with a branch that carries the magic cookie and pops it on the way back', async () => {
    const server = await start();
    const alice = await registered(server, 'alice');
    const bob = await registered(server, 'bob');
    const sent = alice.request({ method: 'OPTIONS', requestUri: 'sip:bob@callwright.test' });
    const atBob = await bob.nextRequest('OPTIONS');
    expect(parseVia(getHeaders(atBob, 'Via')[0]!)?.branch).toMatch(/^z9hG4bK/);
    bob.respond(atBob, 200, 'OK');
    expect(getHeaders(await alice.nextResponse(sent.branch), 'Via')).toEqual([sent.via]);
  });
});
