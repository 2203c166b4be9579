#!/usr/bin/env node
// Replays the Dockerfile's build steps where no container engine runs (CI has a docker
// client but no daemon), to prove that the image builds and that its last stage holds
// everything callwright needs at run time, and nothing more.
//
//   node scripts/replay-dockerfile.mjs [--dockerfile Dockerfile] [--report FILE.json] [--keep]
//                                      [--with-untracked] [--no-run]
//
// How each instruction is replayed:
//   FROM      each stage gets its own temporary folder standing for its root file system.
//             The base image's contents cannot be replayed: this machine stands for them
//             (checked: Node's major version and the Debian release named in the tag).
//   ARG, ENV  applied to the environment of later RUN steps (and expanded in later instructions).
//   WORKDIR   a folder inside the stage's root.
//   COPY      from a clean copy of the repository's tracked files (git ls-files, less
//             .dockerignore), so an untracked or git-ignored local file (node_modules/, dist/)
//             cannot make it pass; --from=STAGE copies from that stage's folder; --chown applied.
//   RUN       /bin/sh -c (as Docker does) in the stage's WORKDIR folder, with only the
//             Dockerfile's environment (plus PATH, HOME, LANG and the machine's npm/proxy
//             settings). apt-get lines run for real as root (CI is root on Debian 12); not
//             as root they become a check that the packages are installed.
//   USER      uids cannot be replayed inside a build; the image's command is then run as
//             that uid with setpriv (as root), so files it cannot read or write fail here too.
//   VOLUME    its folder is created if missing, root-owned, as Docker does at run time.
//   EXPOSE, LABEL, STOPSIGNAL: metadata, nothing to replay.
// Then, in the last stage's folder, with its environment and user: checks that no dev
// dependency and no source is there, `validate scenarios/smoke.yaml` through the
// ENTRYPOINT, and the ENTRYPOINT + CMD itself (the smoke scenario: Chromium against the
// embedded server, ~15 s). Every Chromium it started is stopped at the end.
// Exit code 0 when every step and check passed, 1 otherwise, 2 for bad usage.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Users that base images define by name (node:* images: `node`, uid 1000). */
const KNOWN_USERS = { root: { uid: 0, gid: 0, home: '/root' }, node: { uid: 1000, gid: 1000, home: '/home/node' } };
const RUN_TIMEOUT_MS = 180_000;
const COMMAND_TIMEOUT_MS = 120_000;
/** Host variables a build on this machine needs (registry and proxy settings), as --build-arg would pass them. */
const PASSED_ENV = /^(PATH|HOME|LANG|npm_config_.*|NPM_CONFIG_.*|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY)$/;

// --- parsing -------------------------------------------------------------------------

/**
 * Instructions of a Dockerfile: { line, keyword, text } with line continuations joined
 * and comment lines inside them dropped, as BuildKit does. Heredocs and a changed
 * escape character are refused rather than misread.
 */
export function parseDockerfile(source) {
  const lines = source.split(/\r?\n/);
  const instructions = [];
  let index = 0;
  let directivesAllowed = true;
  while (index < lines.length) {
    const line = lines[index];
    const lineNumber = ++index;
    if (/^\s*$/.test(line)) {
      directivesAllowed = false;
      continue;
    }
    if (/^\s*#/.test(line)) {
      const directive = directivesAllowed ? /^\s*#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(line) : null;
      if (directive && directive[1].toLowerCase() === 'escape' && directive[2] !== '\\') {
        throw new Error(`line ${lineNumber}: escape=${directive[2]} is not supported by this replay`);
      }
      if (!directive) directivesAllowed = false;
      continue;
    }
    directivesAllowed = false;
    let text = line;
    while (/\\\s*$/.test(text) && index < lines.length) {
      text = text.replace(/\\\s*$/, '');
      while (index < lines.length && /^\s*(#.*)?$/.test(lines[index])) index++;
      if (index < lines.length) text += lines[index++];
    }
    const match = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text);
    if (!match) throw new Error(`line ${lineNumber}: cannot read ${JSON.stringify(text.trim())}`);
    const keyword = match[1].toUpperCase();
    const rest = (match[2] ?? '').trim();
    if (/<<-?\s*["']?[A-Za-z_]/.test(rest) && (keyword === 'RUN' || keyword === 'COPY')) {
      throw new Error(`line ${lineNumber}: heredocs are not supported by this replay`);
    }
    instructions.push({ line: lineNumber, keyword, text: rest });
  }
  return instructions;
}

/** Leading --name=value flags of COPY, FROM and RUN, and what follows them. */
export function splitFlags(text) {
  const flags = {};
  let rest = text;
  for (;;) {
    const flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!flag) return { flags, rest };
    flags[flag[1]] = flag[2] ?? 'true';
    rest = rest.slice(flag[0].length);
  }
}

/** The JSON (exec) form `["a", "b"]`, or undefined for the shell form. */
export function execForm(text) {
  if (!text.startsWith('[')) return undefined;
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whitespace-separated words with "double" and 'single' quotes and backslash escapes. */
export function shellWords(text) {
  const words = [];
  let word = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

/** $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alternative}, as the Dockerfile frontend expands them; \$ stays a $. */
export function expandVariables(text, variables) {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, operator, word, bare) => {
    if (whole === '\\$') return '$';
    const value = variables[braced ?? bare];
    if (operator === '-') return value ? value : word;
    if (operator === '+') return value ? word : '';
    return value ?? '';
  });
}

/** ENV/ARG pairs: `A=1 B="two words"`, or the old `ENV A value with spaces`. */
export function parsePairs(text, variables) {
  const words = shellWords(expandVariables(text, variables));
  if (words.length > 0 && !words[0].includes('=')) {
    return [[words[0], words.slice(1).join(' ')]];
  }
  return words.map((word) => {
    const equals = word.indexOf('=');
    if (equals <= 0) throw new Error(`expected NAME=value, got ${JSON.stringify(word)}`);
    return [word.slice(0, equals), word.slice(equals + 1)];
  });
}

/** .dockerignore patterns as matchers; a pattern matching a folder excludes what is inside it. */
export function dockerignore(source) {
  const rules = source
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exception = line.startsWith('!');
      const pattern = posix.normalize((exception ? line.slice(1) : line).trim().replace(/^\/+/, ''));
      return { exception, regex: globRegex(pattern) };
    });
  return (path) => {
    const parts = path.split('/');
    let ignored = false;
    for (const rule of rules) {
      for (let depth = 1; depth <= parts.length; depth++) {
        if (rule.regex.test(parts.slice(0, depth).join('/'))) {
          ignored = !rule.exception;
          break;
        }
      }
    }
    return ignored;
  };
}

function globRegex(pattern) {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` is any number of folders, a trailing `**` anything.
      regex += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') regex += '[^/]*';
    else if (c === '?') regex += '[^/]';
    else regex += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`);
}

// --- replay --------------------------------------------------------------------------

class Replay {
  constructor(options) {
    this.options = options;
    this.isRoot = process.getuid?.() === 0;
    this.work = mkdtempSync(join(tmpdir(), 'callwright-replay-'));
    // mkdtemp makes 0700 folders: the image's user must be able to reach its stage.
    chmodSync(this.work, 0o755);
    this.token = randomUUID();
    this.steps = [];
    this.checks = [];
    this.runs = [];
    this.notReplayed = [];
    this.stages = [];
    this.globalArgs = {};
  }

  log(message) {
    process.stdout.write(`replay: ${message}\n`);
  }

  step(instruction, status, note, seconds) {
    this.steps.push({ line: instruction.line, instruction: `${instruction.keyword} ${instruction.text}`.slice(0, 200), status, note, seconds });
    const where = `line ${instruction.line}`;
    this.log(`${status.padEnd(8)} ${where}: ${instruction.keyword} ${instruction.text.split('\n')[0].slice(0, 100)}${note ? `  (${note})` : ''}`);
  }

  check(name, ok, detail) {
    this.checks.push({ name, ok, detail });
    this.log(`${ok ? 'ok      ' : 'FAILED  '} check: ${name}${detail ? `: ${detail}` : ''}`);
  }

  /** The build context: tracked files (working-tree content) less .dockerignore. */
  makeContext() {
    const context = join(this.work, 'context');
    mkdirSync(context, { recursive: true });
    const list = (args) => spawnSync('git', ['ls-files', '-z', ...args], { cwd: REPO, encoding: 'utf8' });
    const tracked = list([]);
    if (tracked.status !== 0) throw new Error(`git ls-files failed: ${tracked.stderr.trim()}`);
    let files = tracked.stdout.split('\0').filter(Boolean);
    if (this.options.withUntracked) files = files.concat(list(['--others', '--exclude-standard']).stdout.split('\0').filter(Boolean));
    const ignorePath = join(REPO, '.dockerignore');
    const ignored = existsSync(ignorePath) ? dockerignore(readFileSync(ignorePath, 'utf8')) : () => false;
    let count = 0;
    for (const file of files) {
      if (ignored(file)) continue;
      const from = join(REPO, file);
      if (!existsSync(from)) continue; // tracked but deleted in the working tree
      mkdirSync(dirname(join(context, file)), { recursive: true });
      copy(from, join(context, file));
      count++;
    }
    this.log(`context: ${count} of ${files.length} ${this.options.withUntracked ? 'tracked and untracked' : 'tracked'} files (less .dockerignore) in ${context}`);
    return context;
  }

  run() {
    const instructions = parseDockerfile(readFileSync(this.options.dockerfile, 'utf8'));
    this.context = this.makeContext();
    let stage;
    for (const instruction of instructions) {
      if (instruction.keyword !== 'FROM' && instruction.keyword !== 'ARG' && !stage) {
        throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      }
      const started = Date.now();
      try {
        if (instruction.keyword === 'FROM') stage = this.from(instruction);
        else this.apply(stage, instruction, started);
      } catch (error) {
        this.step(instruction, 'failed', error.message, (Date.now() - started) / 1000);
        return false;
      }
      if (this.steps.at(-1)?.status === 'failed') return false;
    }
    return stage;
  }

  from(instruction) {
    const { flags, rest } = splitFlags(instruction.text);
    const words = shellWords(expandVariables(rest, this.globalArgs));
    const image = words[0];
    const name = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
    const parent = this.stages.find((s) => s.name === image);
    const root = join(this.work, `stage-${this.stages.length}${name ? `-${name}` : ''}`);
    mkdirSync(root, { mode: 0o755 });
    chmodSync(root, 0o755);
    const stage = {
      index: this.stages.length,
      name,
      image,
      root,
      workdir: parent?.workdir ?? '/',
      env: { ...(parent?.env ?? {}) },
      args: {},
      user: parent?.user,
      entrypoint: parent?.entrypoint,
      cmd: parent?.cmd,
    };
    this.stages.push(stage);
    if (parent) {
      copyContents(parent.root, root);
      this.step(instruction, 'ran', `a copy of stage ${parent.name}`);
    } else {
      const note = this.baseImageNote(image);
      this.notReplayed.push({ line: instruction.line, what: `FROM ${image}: the base image's contents`, coveredBy: note });
      this.step(instruction, 'noted', `base image not replayed: ${note}${flags.platform ? `; --platform=${flags.platform} ignored` : ''}`);
    }
    return stage;
  }

  /** What stands for the base image here: this machine's Node and Debian, when the tag names them. */
  baseImageNote(image) {
    const tag = image.split(':')[1] ?? '';
    const parts = [];
    const nodeMajor = /^node$|\/node$/.test(image.split(':')[0]) ? /^(\d+)/.exec(tag)?.[1] : undefined;
    if (nodeMajor) {
      const here = process.versions.node.split('.')[0];
      if (here !== nodeMajor) throw new Error(`${image} has Node ${nodeMajor}, this machine Node ${process.versions.node}: the replay would not stand for it`);
      parts.push(`this machine's Node ${process.versions.node}`);
    }
    const codename = /(bookworm|bullseye|trixie|buster)/.exec(tag)?.[1];
    if (codename) {
      const release = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
      const here = /^VERSION_CODENAME=(.*)$/m.exec(release)?.[1];
      if (here !== codename) throw new Error(`${image} is Debian ${codename}, this machine ${here ?? 'not Debian'}: the replay would not stand for it`);
      parts.push(`this machine's Debian ${codename} (its packages and /usr/bin tools)`);
    }
    return parts.length > 0 ? `stands in for it: ${parts.join(', ')}` : 'nothing checks it';
  }

  variables(stage) {
    return { ...this.globalArgs, ...stage.args, ...stage.env };
  }

  /** A path inside the stage (absolute, or relative to its WORKDIR) as a path in its folder. */
  inStage(stage, path) {
    const absolute = posix.resolve(stage.workdir, path);
    return join(stage.root, absolute);
  }

  apply(stage, instruction, started) {
    const { keyword, text } = instruction;
    const seconds = () => (Date.now() - started) / 1000;
    switch (keyword) {
      case 'ARG': {
        const target = stage ? stage.args : this.globalArgs;
        for (const word of shellWords(text)) {
          const equals = word.indexOf('=');
          const name = equals < 0 ? word : word.slice(0, equals);
          // An ARG without a value in a stage takes the global one (the Dockerfile's scoping rule).
          target[name] = equals < 0 ? (this.globalArgs[name] ?? '') : expandVariables(word.slice(equals + 1), stage ? this.variables(stage) : this.globalArgs);
        }
        return this.step(instruction, 'ran', stage ? undefined : 'global: for FROM lines');
      }
      case 'ENV':
        for (const [name, value] of parsePairs(text, this.variables(stage))) stage.env[name] = value;
        return this.step(instruction, 'ran');
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, expandVariables(text, this.variables(stage)));
        mkdirSync(join(stage.root, stage.workdir), { recursive: true, mode: 0o755 });
        chmodDirs(stage.root, stage.workdir);
        return this.step(instruction, 'ran', `-> ${join(stage.root, stage.workdir)}`);
      case 'COPY':
        this.copyInstruction(stage, text);
        return this.step(instruction, 'ran', undefined, seconds());
      case 'RUN': {
        const note = this.runInstruction(stage, text);
        return this.step(instruction, 'ran', note, seconds());
      }
      case 'USER': {
        const user = resolveUser(expandVariables(text, this.variables(stage)));
        stage.user = user;
        const how = this.isRoot ? `the image's command runs as uid ${user.uid} (setpriv)` : `not root: the image's command runs as uid ${process.getuid()} instead`;
        this.notReplayed.push({ line: instruction.line, what: `USER ${text}: the build cannot switch uid`, coveredBy: how });
        return this.step(instruction, 'noted', `uid ${user.uid}:${user.gid}; ${how}`);
      }
      case 'VOLUME': {
        const paths = execForm(text) ?? shellWords(text);
        for (const path of paths) {
          const folder = this.inStage(stage, path);
          if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: 0o755 });
        }
        return this.step(instruction, 'ran', 'folder made if missing (root-owned, as Docker does)');
      }
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(text) ?? ['/bin/sh', '-c', text];
        stage.cmd = undefined; // a new ENTRYPOINT clears the CMD it inherited
        return this.step(instruction, 'noted', 'run at the end');
      case 'CMD':
        stage.cmd = execForm(text) ?? ['/bin/sh', '-c', text];
        return this.step(instruction, 'noted', 'run at the end');
      case 'EXPOSE':
      case 'LABEL':
      case 'STOPSIGNAL':
        return this.step(instruction, 'noted', 'metadata: nothing to replay');
      default:
        throw new Error(`${keyword} cannot be replayed by this script: extend scripts/replay-dockerfile.mjs or use COPY/RUN`);
    }
  }

  copyInstruction(stage, text) {
    const { flags, rest } = splitFlags(text);
    for (const flag of Object.keys(flags)) {
      if (!['from', 'chown', 'chmod'].includes(flag)) throw new Error(`COPY --${flag} is not supported by this replay`);
    }
    const words = (execForm(rest) ?? shellWords(rest)).map((word) => expandVariables(word, this.variables(stage)));
    if (words.length < 2) throw new Error('COPY needs a source and a destination');
    const destination = words.at(-1);
    let fromRoot = this.context;
    let fromStage;
    if (flags.from !== undefined) {
      fromStage = this.stages.find((s) => s.name === flags.from || String(s.index) === flags.from);
      if (!fromStage || fromStage === stage) throw new Error(`COPY --from=${flags.from}: no earlier stage of that name (images cannot be replayed)`);
      fromRoot = fromStage.root;
    }
    const sources = words.slice(0, -1).flatMap((source) => {
      if (!fromStage && posix.normalize(source.replace(/^\/+/, '')).startsWith('..')) throw new Error(`COPY ${source}: outside the build context`);
      const base = posix.resolve('/', source);
      const matches = glob(fromRoot, base);
      if (matches.length === 0) {
        throw new Error(`COPY ${source}: not found in ${fromStage ? `stage ${fromStage.name ?? fromStage.index}` : 'the build context (tracked files less .dockerignore)'}`);
      }
      return matches;
    });
    const target = this.inStage(stage, destination);
    const intoFolder = destination.endsWith('/') || sources.length > 1 || (existsSync(target) && statSync(target).isDirectory());
    const copied = [];
    for (const source of sources) {
      const from = join(fromRoot, source);
      if (lstatSync(from).isDirectory()) {
        if (!existsSync(target)) copied.push(target);
        mkdirSync(target, { recursive: true, mode: 0o755 });
        copyContents(from, target);
        copied.push(...readdirSync(from).map((name) => join(target, name)));
      } else {
        const to = intoFolder ? join(target, posix.basename(source)) : target;
        mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
        copy(from, to);
        copied.push(to);
      }
    }
    if (flags.chmod) run(['chmod', '-R', flags.chmod, ...copied]);
    // Docker makes every copied file root's unless --chown says otherwise.
    const owner = flags.chown ? resolveUser(flags.chown) : { uid: 0, gid: 0 };
    if (this.isRoot && copied.length > 0) run(['chown', '-R', '--no-dereference', `${owner.uid}:${owner.gid}`, ...copied]);
  }

  runInstruction(stage, text) {
    const command = execForm(text) ?? ['/bin/sh', '-c', text];
    const cwd = join(stage.root, stage.workdir);
    const env = { ...hostEnv(), ...stage.args, ...stage.env };
    if (!this.isRoot && /\bapt-get\b/.test(text)) {
      const packages = aptPackages(text);
      const missing = packages.filter((name) => spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status !== 0);
      if (missing.length > 0) throw new Error(`not root, so apt-get cannot run, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed`);
      this.notReplayed.push({ line: undefined, what: `RUN ${text.slice(0, 60)}...`, coveredBy: `not root: checked that ${packages.join(', ')} are installed` });
      return `not root: apt-get not run; ${packages.join(', ')} installed`;
    }
    const user = stage.user && stage.user.uid !== 0 && this.isRoot ? stage.user : undefined;
    const argv = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...command] : command;
    const result = spawnSync(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'inherit', 'inherit'], timeout: RUN_TIMEOUT_MS });
    if (result.error) throw new Error(`cannot run: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`exit code ${result.status ?? result.signal}`);
    return user ? `as uid ${user.uid}` : undefined;
  }

  /** The last stage: only what callwright needs at run time. */
  checkRuntime(stage) {
    const app = join(stage.root, stage.workdir);
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    const devDependencies = Object.keys(pkg.devDependencies ?? {});
    const present = devDependencies.filter((name) => existsSync(join(app, 'node_modules', name)));
    this.check('no dev dependency in the runtime stage', present.length === 0, present.length ? `found ${present.join(', ')}` : `${devDependencies.length} checked, e.g. node_modules/typescript absent`);
    const sources = ['src', 'test', 'scripts', 'tsconfig.json', 'bench', '.git'].filter((name) => existsSync(join(app, name)));
    this.check('no sources in the runtime stage', sources.length === 0, sources.length ? `found ${sources.join(', ')}` : 'no src/, test/, scripts/, tsconfig.json');
    const needed = ['dist/cli/bin.js', 'dist/generated/agentBundle.js', 'scenarios/smoke.yaml', 'fixtures/audio.wav', 'node_modules/puppeteer', 'package.json'];
    const missing = needed.filter((name) => !existsSync(join(app, name)));
    this.check('the runtime stage holds what callwright runs', missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : needed.join(', '));
    return { devDependenciesPresent: present, sourcesPresent: sources, missing };
  }

  /** The image's command, in the last stage's folder, as its user, with its environment. */
  async runImage(stage, args, label) {
    const entrypoint = stage.entrypoint ?? [];
    const argv = [...entrypoint, ...args];
    const user = stage.user ?? KNOWN_USERS.root;
    const asUser = this.isRoot && user.uid !== 0;
    // HOME as the image's /etc/passwd would give it (a folder of the stage, the user's own).
    const known = Object.values(KNOWN_USERS).find((u) => u.uid === user.uid);
    const home = join(stage.root, known?.home ?? `/home/uid-${user.uid}`);
    mkdirSync(home, { recursive: true, mode: 0o755 });
    if (this.isRoot) chownSync(home, user.uid, user.gid);
    const env = { PATH: process.env.PATH, HOME: home, LANG: process.env.LANG ?? 'C.UTF-8', ...stage.env, CALLWRIGHT_REPLAY_TOKEN: this.token };
    const full = asUser ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...argv] : argv;
    this.log(`running ${label}: ${argv.join(' ')}${asUser ? ` (as uid ${user.uid})` : ''} in ${join(stage.root, stage.workdir)}`);
    const started = Date.now();
    const exitCode = await new Promise((resolvePromise) => {
      const child = spawn(full[0], full.slice(1), { cwd: join(stage.root, stage.workdir), env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
      const timer = setTimeout(() => {
        this.log(`${label}: still running after ${COMMAND_TIMEOUT_MS / 1000} s, killing it`);
        killGroup(child.pid);
      }, COMMAND_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        this.log(`${label}: cannot start: ${error.message}`);
        resolvePromise(null);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        killGroup(child.pid);
        resolvePromise(code ?? (signal ? `signal ${signal}` : null));
      });
    });
    const seconds = (Date.now() - started) / 1000;
    this.runs.push({ label, argv, uid: asUser ? user.uid : process.getuid?.(), exitCode, seconds });
    this.check(`${label} exits 0`, exitCode === 0, `exit ${exitCode} after ${seconds.toFixed(1)} s`);
    return exitCode;
  }

  /** Every process still carrying this replay's token (Chromium and its helpers) gets SIGKILL. */
  stopLeftovers() {
    const killed = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`CALLWRIGHT_REPLAY_TOKEN=${this.token}`)) {
          process.kill(Number(entry), 'SIGKILL');
          killed.push(Number(entry));
        }
      } catch {
        // gone, or not ours to read
      }
    }
    if (killed.length > 0) this.log(`stopped ${killed.length} process(es) the image's command left behind: ${killed.join(', ')}`);
    return killed;
  }

  cleanUp() {
    if (this.options.keep) return this.log(`kept ${this.work}`);
    rmSync(this.work, { recursive: true, force: true });
  }
}

function resolveUser(spec) {
  const [userPart, groupPart] = spec.trim().split(':');
  const lookup = (part, field) => {
    if (/^\d+$/.test(part)) return Number(part);
    const known = KNOWN_USERS[part];
    if (!known) throw new Error(`user ${JSON.stringify(part)} is not known to this replay: use a numeric uid, or add it to KNOWN_USERS`);
    return known[field];
  };
  const uid = lookup(userPart, 'uid');
  const gid = groupPart === undefined ? (KNOWN_USERS[userPart]?.gid ?? uid) : lookup(groupPart, 'gid');
  return { uid, gid };
}

function hostEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => PASSED_ENV.test(name)));
}

/** Package names of `apt-get install` in a RUN line (options dropped). */
function aptPackages(text) {
  return [...text.matchAll(/apt-get\s+install\s+([^&;|]*)/g)].flatMap((m) => m[1].split(/\s+/).filter((word) => word !== '' && !word.startsWith('-') && word !== '\\'));
}

/** Paths (relative to root, no leading slash) matching a source that may hold * or ? in its last part. */
function glob(root, absolute) {
  const path = absolute.replace(/^\/+/, '');
  if (!/[*?[]/.test(path)) return existsSync(join(root, path)) ? [path === '' ? '.' : path] : [];
  const folder = posix.dirname(path);
  const pattern = globRegex(posix.basename(path));
  const inFolder = join(root, folder);
  if (!existsSync(inFolder)) return [];
  return readdirSync(inFolder)
    .filter((name) => pattern.test(name))
    .map((name) => posix.join(folder, name));
}

function run(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${(result.stderr || result.error?.message || '').trim()}`);
}

/** Copies a file or folder, keeping modes and symbolic links (cp -RP --preserve=mode). */
function copy(from, to) {
  run(['cp', '-RP', '--preserve=mode,timestamps', from, to]);
}

function copyContents(fromFolder, toFolder) {
  run(['cp', '-RP', '--preserve=mode,timestamps', `${fromFolder}/.`, toFolder]);
}

/** Every folder from the stage root down to `path` readable by all, as in an image. */
function chmodDirs(root, path) {
  let current = root;
  for (const part of path.split('/').filter(Boolean)) {
    current = join(current, part);
    chmodSync(current, 0o755);
  }
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function parseArgs(argv) {
  const options = { dockerfile: join(REPO, 'Dockerfile'), report: undefined, keep: false, withUntracked: false, runImage: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dockerfile') options.dockerfile = resolve(argv[++i] ?? '');
    else if (arg === '--report') options.report = resolve(argv[++i] ?? '');
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--with-untracked') options.withUntracked = true;
    else if (arg === '--no-run') options.runImage = false;
    else throw new Error(`unknown option ${arg} (see the comment at the top of scripts/replay-dockerfile.mjs)`);
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`replay: ${error.message}\n`);
    return 2;
  }
  const replay = new Replay(options);
  const started = Date.now();
  let built = false;
  let runtime;
  let leftovers = [];
  const stop = () => {
    replay.stopLeftovers();
    replay.cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const finalStage = replay.run();
    built = Boolean(finalStage);
    replay.check('every build step replayed', built, built ? `${replay.steps.length} instructions, ${replay.stages.length} stages` : 'see the failed step above');
    if (finalStage) {
      runtime = replay.checkRuntime(finalStage);
      if (options.runImage) {
        await replay.runImage(finalStage, ['validate', 'scenarios/smoke.yaml'], 'validate through the ENTRYPOINT');
        await replay.runImage(finalStage, finalStage.cmd ?? [], 'the ENTRYPOINT + CMD');
      }
    }
  } catch (error) {
    replay.check('replay', false, error.message);
  } finally {
    leftovers = replay.stopLeftovers();
  }
  if (replay.steps.some((step) => /rm -rf \/var\/lib\/apt\/lists/.test(step.instruction) && step.status === 'ran' && replay.isRoot)) {
    replay.log("note: a RUN line removed this machine's /var/lib/apt/lists, as it does in the image: run apt-get update before the next apt-get install here");
  }
  const ok = replay.checks.every((c) => c.ok);
  for (const item of replay.notReplayed) replay.log(`not replayed: ${item.what}${item.line ? ` (line ${item.line})` : ''}; covered by: ${item.coveredBy}`);
  replay.log(`${ok ? 'PASSED' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (options.report) {
    const report = {
      ok,
      built,
      dockerfile: relative(REPO, options.dockerfile) || options.dockerfile,
      ranAsRoot: replay.isRoot,
      workFolder: replay.work,
      leftoversStopped: leftovers,
      stages: replay.stages.map((s) => ({ index: s.index, name: s.name ?? null, image: s.image, workdir: s.workdir, user: s.user ?? null })),
      steps: replay.steps,
      notReplayed: replay.notReplayed,
      checks: replay.checks,
      runtime: runtime ?? null,
      runs: replay.runs,
    };
    mkdirSync(dirname(options.report), { recursive: true });
    writeFileSync(options.report, JSON.stringify(report, null, 2) + '\n');
  }
  replay.cleanUp();
  return ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
