import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { coturnArgs, coturnConfig, labTurnCredentials, stunBindingPing, turnSecretsFile, TURN_ENV } from './coturn.js';
import { labPortsFrom, resolveLabOptions } from './labOptions.js';

const turn = { port: 3478, relayMin: 32000, relayMax: 32099, realm: 'callwright.lab', secret: 'abc_DEF-123' };

describe('coturnConfig', () => {
  const config = coturnConfig({ turn, userDb: '/lab/coturn.db', pidFile: '/lab/coturn.pid' });
  const lines = config.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

  it('listens and relays on 127.0.0.1 only, UDP and TCP, no TLS, DTLS, RFC 5780 port or CLI', () => {
    expect(lines).toEqual(expect.arrayContaining(['listening-ip=127.0.0.1', 'relay-ip=127.0.0.1', 'listening-port=3478', 'no-tls', 'no-dtls', 'no-rfc5780', 'no-cli']));
    expect(lines.filter((line) => /^(listening-ip|relay-ip|external-ip)=/.test(line))).toEqual(['listening-ip=127.0.0.1', 'relay-ip=127.0.0.1']);
    expect(lines).toEqual(expect.arrayContaining(['min-port=32000', 'max-port=32099']));
  });

  it('relays to loopback peers (every lab peer is on 127.0.0.1) but not to multicast', () => {
    expect(lines).toEqual(expect.arrayContaining(['allow-loopback-peers', 'no-multicast-peers']));
  });

  it('authenticates with the TURN REST API secret only (coturn cannot mix it with static users), in the lab realm', () => {
    expect(lines).toEqual(expect.arrayContaining(['use-auth-secret', 'static-auth-secret=abc_DEF-123', 'realm=callwright.lab']));
    expect(lines.some((line) => /^(lt-cred-mech|user=)/.test(line))).toBe(false);
  });

  it("keeps its files in the lab's dir and logs to stdout (the lab's log file)", () => {
    expect(lines).toEqual(expect.arrayContaining(['userdb=/lab/coturn.db', 'pidfile=/lab/coturn.pid', 'log-file=stdout', 'simple-log']));
    // -c: Debian's /etc/turnserver.conf is never read.
    expect(coturnArgs('/lab/coturn.conf')).toEqual(['-c', '/lab/coturn.conf']);
  });
});

describe('labTurnCredentials', () => {
  it('makes a fresh URL-safe secret per lab, and a long-term credential from it valid a year', () => {
    const nowMs = 1_800_000_000_000;
    const first = labTurnCredentials(nowMs);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(labTurnCredentials(nowMs).secret).not.toBe(first.secret);
    expect(first.username).toBe(`${1_800_000_000 + 365 * 86_400}:callwright`);
    expect(first.password).toBe(createHmac('sha1', first.secret).update(first.username).digest('base64'));
  });

  it('writes them as NAME=value lines for --secrets', () => {
    const text = turnSecretsFile({ username: '1:callwright', password: 'pw', secret: 's', urls: ['turn:127.0.0.1:3478?transport=udp'] }, '/lab');
    expect(text).toContain(`\n${TURN_ENV.username}=1:callwright\n${TURN_ENV.password}=pw\n${TURN_ENV.secret}=s\n`);
  });
});

describe('lab options with a TURN relay', () => {
  it('moves the TURN port and relay range with the port base, clear of every other port', () => {
    const ports = labPortsFrom(26000);
    expect(ports).toMatchObject({ turn: 26008, turnRelayMin: 26020, turnRelayMax: 26099 });
    expect(resolveLabOptions({ dir: 'd', ports, turn: true }).turn).toEqual({ port: 26008, relayMin: 26020, relayMax: 26099 });
    // baresip also listens for SIP over TLS on its port + 1: the TURN port must not be that one (it was, and coturn could not bind).
    expect(ports.turn).not.toBe(ports.baresip + 1);
  });

  it('runs no relay unless asked, and defaults to 3478 with relays below the ephemeral port range', () => {
    expect(resolveLabOptions({ dir: 'd' }).turn).toBeUndefined();
    expect(resolveLabOptions({ dir: 'd', turn: true }).turn).toEqual({ port: 3478, relayMin: 32000, relayMax: 32099 });
  });

  it('reports a TURN port or relay range that overlaps another port', () => {
    expect(() => resolveLabOptions({ dir: 'd', turn: true, ports: { turn: 5060 } })).toThrow(expect.objectContaining({ problems: ['ports.sipUdpTcp and ports.turn overlap'] }));
    expect(() => resolveLabOptions({ dir: 'd', turn: true, ports: { turnRelayMin: 30990, turnRelayMax: 31010 } })).toThrow(
      expect.objectContaining({ problems: ['ports.rtpMin..rtpMax and ports.turnRelayMin..turnRelayMax overlap'] }),
    );
  });
});

describe('stunBindingPing', () => {
  it('is true only for a Binding success response with its own transaction id', async () => {
    const server = createSocket('udp4');
    let answerWithOwnId = true;
    server.on('message', (request, from) => {
      const reply = Buffer.alloc(20);
      reply.writeUInt16BE(0x0101, 0);
      reply.writeUInt32BE(0x2112a442, 4);
      if (answerWithOwnId) request.copy(reply, 8, 8, 20);
      server.send(reply, from.port, from.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const port = server.address().port;
    expect(await stunBindingPing(port)).toBe(true);
    answerWithOwnId = false;
    expect(await stunBindingPing(port, 200)).toBe(false);
    server.close();
  });
});
