import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLauncher } from './roleNetworks.js';

const dir = mkdtempSync(join(tmpdir(), 'callwright-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the namespaced Chromium launcher', () => {
  it('execs ip netns exec with the namespace and the browser as single arguments, whatever their characters, and passes its own arguments through', () => {
    const launcher = join(dir, 'chromium-1');
    const browser = join(dir, "it's a $(browser) `x`");
    writeLauncher(launcher, "ns'; rm -rf /", browser);
    const text = readFileSync(launcher, 'utf8');
    expect(text.split('\n')[0]).toBe('#!/bin/sh');
    expect(text).toContain(`'ns'\\''; rm -rf /'`);
    // sh -n: it parses; and with `ip` swapped for echo the argument vector is exactly what was meant.
    execFileSync('sh', ['-n', launcher]);
    const echoed = execFileSync('sh', ['-c', `${text.split('\n')[1]!.replace(/^exec '[^']*'/, 'exec printf "%s\\n"')}`, 'launcher', '--flag a', '--other'], { encoding: 'utf8' });
    expect(echoed.split('\n').filter(Boolean)).toEqual(['netns', 'exec', "ns'; rm -rf /", browser, '--flag a', '--other']);
  });
});
