import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, relative } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbeddedSipServer } from '../../src/server/index.js';
import { freePort, startTarget } from './faultsSupport.js';
import { processesInGroups, ROOT, runCli, tempDir, writeScenario } from './support.js';

// Security, through the real CLI: TLS trust is explicit (a CA file, or a loud
// insecure switch, never silent), passwords never leave memory, the metrics
// endpoint is loopback-only by default, and no shell is ever started.
const out = tempDir('callwright-security-');
const allBrowserPids: number[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
  expect(processesInGroups(allBrowserPids)).toEqual([]);
});

/** openssl with fixed arguments (test setup only). */
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: out, stdio: 'ignore' });
}

/**
 * A wss:// front for the embedded server: TLS terminated here with `cert`,
 * bytes piped to the server's ws:// port. Returns the wss:// URL.
 */
async function wssFront(server: EmbeddedSipServer, cert: string, key: string): Promise<string> {
  const front: Server = createTlsServer({ cert: readFileSync(join(out, cert)), key: readFileSync(join(out, key)) }, (tls) => {
    const upstream = connect(server.port, '127.0.0.1');
    tls.pipe(upstream).pipe(tls);
    tls.on('error', () => upstream.destroy());
    upstream.on('error', () => tls.destroy());
  });
  front.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => front.close(() => resolve())));
  return `wss://127.0.0.1:${(front.address() as { port: number }).port}`;
}

describe('wss:// to a server whose certificate no public CA signed', () => {
  const certificates = (() => {
    const san = ['-addext', 'subjectAltName=IP:127.0.0.1'];
    // A self-signed server certificate.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', ...san, '-keyout', 'self-key.pem', '-out', 'self.pem');
    // A private CA, and a server certificate it signed (the CA is not in the chain the server presents).
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=callwright test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'leaf-key.pem', '-out', 'leaf.csr');
    writeFileSync(join(out, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.pem');
    // A CA that signed nothing of this server's.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=some other CA', '-keyout', 'other-key.pem', '-out', 'other-ca.pem');
    return true;
  })();

  const setup = async () => {
    const server = await startTarget(await freePort());
    closers.push(() => server.stop());
    return { selfSigned: await wssFront(server, 'self.pem', 'self-key.pem'), caSigned: await wssFront(server, 'leaf.pem', 'leaf-key.pem') };
  };
  const callScenario = (name: string, url: string, extra = '') =>
    writeScenario(out, name, `
name: ${name}
target: { url: "${url}", domain: callwright.test${extra} }
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - hangup: alice
`);

  it('without a CA file or the insecure switch: exit 3, a clear error naming the certificate problem and both fixes', async () => {
    expect(certificates).toBe(true);
    const { selfSigned } = await setup();
    const run = await runCli(['run', callScenario('wss-untrusted', selfSigned), '--out', join(out, 'wss-untrusted'), '--log-level', 'debug'], { timeoutMs: 60_000 });
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`error: registration cannot start: the browser could not open ${selfSigned.replaceAll('.', '\\.')} \\(.*\\); the server's TLS certificate is not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)`));
    expect(run.stderr).toContain('hint: give target.caFile');
    expect(run.stderr).toContain('--insecure-tls');
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });

  it('with target.caFile: the server\'s own self-signed certificate, or the private CA that signed it: the call goes through', async () => {
    const { selfSigned, caSigned } = await setup();
    for (const [name, url, ca] of [['wss-self', selfSigned, 'self.pem'], ['wss-ca', caSigned, 'ca.pem']] as const) {
      const run = await runCli(['run', callScenario(name, url, `, caFile: ${ca}`), '--out', join(out, name), '--log-level', 'debug'], { timeoutMs: 60_000 });
      allBrowserPids.push(...run.browserPids);
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      expect(run.stderr).not.toContain('TLS certificate checks are OFF');
    }
  });

  it('with a CA file that did not sign the server\'s certificate: exit 3 before any browser starts', async () => {
    const { caSigned } = await setup();
    const run = await runCli(['run', callScenario('wss-wrong-ca', caSigned, ', caFile: other-ca.pem'), '--out', join(out, 'wss-wrong-ca'), '--log-level', 'debug']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`error: the TLS certificate of ${caSigned} is not trusted by target.caFile ${join(out, 'other-ca.pem')}`);
    expect(run.browserPids).toEqual([]);
  });

  it('with --insecure-tls: the call goes through, and a loud warning says checks are off', async () => {
    const { selfSigned } = await setup();
    const run = await runCli(['run', callScenario('wss-insecure', selfSigned), '--out', join(out, 'wss-insecure'), '--insecure-tls', '--log-level', 'debug'], { timeoutMs: 60_000 });
    allBrowserPids.push(...run.browserPids);
    expect(run.browserPids.length, 'its Chromium is in the leak check (needs --log-level debug)').toBeGreaterThan(0);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warn: TLS certificate checks are OFF for ${selfSigned} (--insecure-tls / target.insecureTls)`);
  });
});

describe('passwords', () => {
  it('from the scenario, the environment and a --secrets file never reach a report, a log, the SIP trace kept on disk or the metrics', async () => {
    const secrets = { literal: 'Pw-literal-7f3a9c2e', env: 'Pw-env-51c0de88', file: 'Pw-file-9e2b44aa', wrong: 'Pw-wrong-d4v3b00c' };
    // The SIP server knows dave by another password: his registration fails, so the error paths run too.
    const server = await startTarget(await freePort(), { auth: { users: { alice: secrets.literal, bob: secrets.env, carol: secrets.file, dave: 'the-server-knows-another' } } });
    closers.push(() => server.stop());
    const secretsFile = join(out, 'run.secrets');
    writeFileSync(secretsFile, `# passwords for the security test\nCAROL_PASSWORD="${secrets.file}"\n`, { mode: 0o600 });
    const file = writeScenario(out, 'passwords', `
name: passwords
target: { url: "ws://127.0.0.1:${server.port}", domain: callwright.test }
roles:
  alice: { accounts: [{ user: alice, password: "${secrets.literal}" }] }
  bob: { accounts: [{ user: bob, passwordEnv: CW_TEST_BOB_PASSWORD }] }
  carol: { accounts: [{ user: carol, passwordEnv: CAROL_PASSWORD }] }
  dave: { accounts: [{ user: dave, password: "${secrets.wrong}" }] }
# Every call keeps its SIP log (digest answers inside), so the logs are searched too.
options: { evidence: { sampleSuccessful: 1 } }
steps:
  - register: [alice, bob, carol]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - message: { from: carol, to: alice, body: hello }
  - hangup: alice
  - register: dave
`);
    const dir = join(out, 'passwords');
    let scraped = '';
    const run = await runCli(['run', file, '--out', dir, '--secrets', secretsFile, '--log-level', 'debug'], {
      env: { CW_TEST_BOB_PASSWORD: secrets.env },
      timeoutMs: 60_000,
      onStderr: (text) => {
        const url = /metrics: (http:\/\/\S+)/.exec(text)?.[1];
        if (url && scraped === '' && text.includes('ok   #1 expect established')) {
          scraped = ' ';
          void fetch(url).then((r) => r.text()).then((body) => (scraped = body), () => undefined);
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    // It ran: the three registered and called with their passwords; dave was refused.
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('ok   #1 expect established');
    expect(run.stderr).toMatch(/FAIL #1 register dave: .*403/);
    expect(scraped).toContain('callwright_');

    const files = listFiles(dir);
    expect(files.map((f) => relative(dir, f))).toEqual(expect.arrayContaining(['calls.csv', 'steps.csv', 'summary.json', 'metrics.prom', 'sip/1.main.log']));
    expect(readFileSync(join(dir, 'sip', '1.main.log'), 'utf8')).toMatch(/^(Proxy-)?Authorization: Digest username="alice", \[redacted\]\r?$/m);
    const outputs: [string, string][] = [...files.map((f): [string, string] => [relative(dir, f), readFileSync(f, 'latin1')]), ['stdout', run.stdout], ['stderr', run.stderr], ['/metrics', scraped]];
    for (const secret of Object.values(secrets)) {
      for (const [where, text] of outputs) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });
});

describe('the /metrics endpoint', () => {
  // 127.0.0.2 is a loopback address too, but not the one bound: reachable only when bound to all.
  const otherAddresses = ['127.0.0.2', ...Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address)];
  const reachable = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  const probeWhileRunning = async (extra: string[]) => {
    const file = writeScenario(out, 'metrics-bind', `
name: metrics-bind
roles:
  alice: { accounts: [{ user: alice }] }
steps:
  - register: alice
  - wait: 3s
`);
    let probe: Promise<{ url: string; port: number; others: boolean[] }> | undefined;
    const run = await runCli(['run', file, '--out', join(out, `metrics-${extra.length}`), '--log-level', 'debug', ...extra], {
      onStderr: (text) => {
        const url = /metrics: (http:\/\/\S+)/.exec(text)?.[1];
        if (url && !probe) {
          const port = Number(new URL(url).port);
          probe = Promise.all(otherAddresses.map((host) => reachable(host, port))).then((others) => ({ url, port, others }));
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    return probe!;
  };

  it('binds 127.0.0.1 unless told otherwise: not reachable on any other address', async () => {
    const { url, others } = await probeWhileRunning([]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(others).toEqual(otherAddresses.map(() => false));
  });

  it('binds another address when told (--metrics-host 0.0.0.0)', async () => {
    const { others } = await probeWhileRunning(['--metrics-host', '0.0.0.0']);
    expect(others).toEqual(otherAddresses.map(() => true));
  });
});

describe('no scenario value reaches a shell', () => {
  it('callwright starts no shell of its own making: only lab/, network/ and the lite process handle start processes, with argument vectors, never a command string', () => {
    const sources = listFiles(join(ROOT, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/generated/'));
    const spawning = sources.filter((f) => /from 'node:child_process'|require\('child_process'\)|from 'child_process'/.test(readFileSync(f, 'utf8')));
    // The runner, the browser side, the scenario loader, the reports and the CLI start no process themselves
    // (Chromium is started by puppeteer with an argument vector: see src/browser/chromium.ts). network/ runs
    // ip/nft/tc/iptables and the impairer, and writes the one fixed launcher of a namespaced Chromium (a
    // two-line sh script: no scenario value in it, its paths quoted; tested in src/network/launcher.test.ts).
    // lite/liteProcess.ts forks callwright's own lite agent bundle (node, no arguments; its settings go over IPC).
    const allowed = (f: string) => f.startsWith('src/lab/') || f.startsWith('src/network/') || f === 'src/lite/liteProcess.ts';
    expect(spawning.map((f) => relative(ROOT, f)).filter((f) => !allowed(f))).toEqual([]);
    const argvOnly = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']);
    for (const f of spawning) {
      const text = readFileSync(f, 'utf8');
      // Named imports only (no `import * as cp`), and only the functions that take an argument vector, not a command line.
      const imports = [...text.matchAll(/import\s*(type\s+)?\{([^}]*)\}\s*from\s*'node:child_process'/g)];
      expect(imports.length, `${f} imports node:child_process other than by name`).toBe((text.match(/from\s*'node:child_process'/g) ?? []).length);
      const names = imports.filter((m) => !m[1]).flatMap((m) => m[2]!.split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter(Boolean));
      expect(names.filter((n) => !argvOnly.has(n) && !/^[A-Z]/.test(n)), `${f} imports a shell-running function`).toEqual([]);
      expect(text, `${f} passes a shell option`).not.toMatch(/\bshell\s*:/);
    }
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
