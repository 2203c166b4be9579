import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { defaultLabPorts, labPortsFrom, resolveLabOptions } from './labOptions.js';

describe('resolveLabOptions', () => {
  it('fills the documented defaults: users 1000..1019 with password secret<user>, two escaped logins, both devices, MTU fallback off', () => {
    const resolved = resolveLabOptions({ dir: '/tmp/x' });
    expect(resolved.ports).toEqual(defaultLabPorts);
    expect(resolved.users).toHaveLength(20);
    expect(resolved.users[0]).toEqual({ user: '1000', password: 'secret1000' });
    expect(resolved.users[19]).toEqual({ user: '1019', password: 'secret1019' });
    expect(resolved.devices).toEqual(['sipp-echo', 'baresip']);
    expect(resolved.mtuFallback).toBe(false);
    expect(resolved.extraUsers).toEqual([
      { user: 'first%20last', password: 'secretfirst%20last' },
      { user: '%3Cops%3E', password: 'secret%3Cops%3E' },
    ]);
    expect(resolved.routes).toEqual([]);
    expect(resolved.listenAddresses).toEqual([]);
  });

  it('checks extra users, routes and listen addresses', () => {
    try {
      resolveLabOptions({
        dir: 'd',
        extraUsers: [{ user: 'first last', password: 'x' }, { user: 'a$b', password: 'y' }, { user: '1000', password: 'z' }],
        routes: [{ userPart: 'mtu', host: 'example.com', port: 5090 }],
        listenAddresses: ['127.0.0.1', '10.1.2.3'],
      });
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).problems).toEqual([
        "extraUsers[0].user: 'first last' is not a SIP user part the lab can hold (letters, digits, -_.!~*'&=+,;?/ and %XX escapes)",
        "extraUsers[1].user: 'a$b' is not a SIP user part the lab can hold (letters, digits, -_.!~*'&=+,;?/ and %XX escapes)",
        "routes[0].host: 'example.com' is not an IPv4 address",
        "listenAddresses[0]: '127.0.0.1' is not an IPv4 address other than 127.0.0.1",
      ]);
    }
    expect(() => resolveLabOptions({ dir: 'd', extraUsers: [{ user: '1000', password: 'z' }] })).toThrow(/extra user '1000' is already a lab user/);
  });

  it('builds users from prefix, first, count and a {user} password pattern', () => {
    const { users } = resolveLabOptions({ dir: 'd', users: { prefix: 'u', first: 7, count: 2, password: 'pw-{user}!' } });
    expect(users).toEqual([
      { user: 'u7', password: 'pw-u7!' },
      { user: 'u8', password: 'pw-u8!' },
    ]);
  });

  it('reports every problem at once: privileged or overlapping ports, unknown devices, unsafe passwords', () => {
    try {
      resolveLabOptions({
        dir: 'd',
        ports: { sipUdpTcp: 80, ws: 5070 },
        devices: ['sipp-echo', 'asterisk' as never],
        users: { password: 'has "quotes"' },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const problems = (error as InputError).problems;
      expect(problems).toContain('ports.sipUdpTcp: 80 is not an unprivileged port (1024-65535)');
      expect(problems).toContain('ports.ws and ports.sippEcho overlap');
      expect(problems.some((p) => p.startsWith("devices: 'asterisk'"))).toBe(true);
      expect(problems.some((p) => p.startsWith('users.password'))).toBe(true);
    }
  });

  it('derives every port from a base without overlaps', () => {
    const ports = labPortsFrom(26000);
    expect(ports).toMatchObject({ sipUdpTcp: 26000, ws: 26001, wss: 26002, rtpMin: 26100, rtpMax: 26199 });
    expect(resolveLabOptions({ dir: 'd', ports }).ports).toEqual(ports);
  });

  it('ignores ports given as undefined instead of overriding the default with nothing', () => {
    expect(resolveLabOptions({ dir: 'd', ports: { ws: undefined } }).ports.ws).toBe(defaultLabPorts.ws);
  });
});
