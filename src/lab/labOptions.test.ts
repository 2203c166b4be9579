import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { defaultLabPorts, resolveLabOptions } from './labOptions.js';

describe('resolveLabOptions', () => {
  it('fills the documented defaults: users 1000..1019 with password secret<user>, both devices, MTU fallback on', () => {
    const resolved = resolveLabOptions({ dir: '/tmp/x' });
    expect(resolved.ports).toEqual(defaultLabPorts);
    expect(resolved.users).toHaveLength(20);
    expect(resolved.users[0]).toEqual({ user: '1000', password: 'secret1000' });
    expect(resolved.users[19]).toEqual({ user: '1019', password: 'secret1019' });
    expect(resolved.devices).toEqual(['sipp-echo', 'baresip']);
    expect(resolved.mtuFallback).toBe(true);
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

  it('ignores ports given as undefined instead of overriding the default with nothing', () => {
    expect(resolveLabOptions({ dir: 'd', ports: { ws: undefined } }).ports.ws).toBe(defaultLabPorts.ws);
  });
});
