/**
 * The Dockerfile reader of scripts/replay-dockerfile.mjs: what it replays is only as true as
 * what it reads. The replay itself runs in test/integration/container-image.test.ts.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { dockerignore, execForm, expandVariables, parseDockerfile, parsePairs, splitFlags } from '../../scripts/replay-dockerfile.mjs';

describe('reading a Dockerfile for the replay', () => {
  it('joins continuation lines, drops comment and blank lines inside them, and keeps line numbers', () => {
    const text = ['# syntax=docker/dockerfile:1', 'FROM node:20 AS build', '# a comment', 'RUN a \\', '  # inside', '', '  && b', 'env A=1'].join('\n');
    expect(parseDockerfile(text)).toEqual([
      { line: 2, keyword: 'FROM', text: 'node:20 AS build' },
      { line: 4, keyword: 'RUN', text: 'a   && b' },
      { line: 8, keyword: 'ENV', text: 'A=1' },
    ]);
  });

  it('refuses what it would misread: heredocs and another escape character', () => {
    expect(() => parseDockerfile('FROM a\nRUN <<EOF\necho\nEOF\n')).toThrow(/heredocs/);
    expect(() => parseDockerfile('# escape=`\nFROM a\n')).toThrow(/escape/);
  });

  it('reads ENV pairs with quotes and earlier variables, the old one-pair form, flags and the exec form', () => {
    expect(parsePairs('A=1 B="two words" C=${HOME}/x D=${NOPE:-d} E=\\$HOME', { HOME: '/root' })).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', '/root/x'],
      ['D', 'd'],
      ['E', '$HOME'],
    ]);
    expect(parsePairs('NODE_ENV production mode', {})).toEqual([['NODE_ENV', 'production mode']]);
    expect(expandVariables('$A-${B:+set}', { A: 'a', B: 'b' })).toBe('a-set');
    expect(splitFlags('--from=build --chown=1000:1000 /a ./b')).toEqual({ flags: { from: 'build', chown: '1000:1000' }, rest: '/a ./b' });
    expect(execForm('["node", "dist/cli/bin.js"]')).toEqual(['node', 'dist/cli/bin.js']);
    expect(execForm('node dist/cli/bin.js')).toBeUndefined();
  });

  it('applies .dockerignore: folders with what is in them, ** patterns, and ! exceptions', () => {
    const ignored = dockerignore('# build output\nnode_modules\n/dist\nsrc/generated\n**/*.log\n!keep.log\n');
    expect(['node_modules/a/b.js', 'dist/cli/bin.js', 'src/generated/agentBundle.ts', 'a/b/c.log'].filter((path) => !ignored(path))).toEqual([]);
    expect(['src/cli/bin.ts', 'keep.log', 'distribution.md'].filter((path) => ignored(path))).toEqual([]);
  });
});
