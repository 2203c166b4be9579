// Lint is about architecture: the module boundaries of STYLE.md, enforced.
//
// The house has floors, and every import points down (or stays in its room):
//   cli/                                         commands: parse, call, print, exit
//   studies/                                     whole runs composed: the MTU sweep, the capacity search
//   runner/                                      one run: schedule iterations, run steps, stop in order
//   calls/ preflight/ watchdog/ plan/ report/    call records and results; checks before a run;
//                                                the harness's own health; the load plan; the outputs
//   scenario/ browser/ agent/ server/ lab/       the typed scenario; Chromium; the page; the embedded
//   metrics/ verdict/                            server; the lab's peers; Prometheus; thresholds
//   lite/                                        lite agents: their media (node-datachannel), their
//                                                process (the page's agent code in Node), Node's handle
//   common/ sdp/ protocol/ generated/            ground floor: statistics, formats, redaction, atomic
//   (and src/*.ts: results, errors, log)         writes; SDP and codecs; page <-> Node messages
// Each room lists the rooms it may import; anything else is an upward or sideways arrow.
import tseslint from 'typescript-eslint';

const onlyCliUsesYargs = { group: ['yargs', 'yargs/*'], message: 'only cli/ uses yargs' };
const restrict = (...groups) => ({ 'no-restricted-imports': ['error', { patterns: groups }] });

const GROUND = ['common', 'sdp', 'protocol'];
const mayImport = {
  common: [],
  sdp: [],
  protocol: [],
  agent: ['protocol', 'sdp'],
  lite: ['common', 'protocol', 'sdp', 'agent'],
  metrics: ['common'],
  verdict: ['common'],
  server: ['common'],
  lab: ['common'],
  network: ['common', 'lab', 'scenario'],
  scenario: ['common', 'sdp'],
  browser: ['common', 'generated', 'protocol', 'lite'],
  report: [...GROUND, 'metrics', 'verdict'],
  plan: ['common', 'scenario'],
  watchdog: ['common', 'scenario'],
  calls: [...GROUND, 'metrics', 'scenario'],
  preflight: ['common', 'browser', 'scenario'],
  runner: [...GROUND, 'browser', 'calls', 'metrics', 'network', 'plan', 'preflight', 'report', 'scenario', 'server', 'verdict', 'watchdog'],
  studies: ['common', 'lab', 'plan', 'report', 'runner', 'scenario', 'verdict'],
  cli: [...GROUND, 'browser', 'lab', 'metrics', 'plan', 'report', 'runner', 'scenario', 'server', 'studies', 'verdict'],
};

/** Imports of another room that `room` may not make, from a file in it or in a folder of it. */
function downwardOnly(room) {
  const allowed = [room, ...mayImport[room]].join('|');
  const message = `${room}/ may import only ${mayImport[room].length ? mayImport[room].map((r) => `${r}/`).join(', ') : 'nothing but its own files and src/*.ts'} (eslint.config.js: every import points down)`;
  return [
    { regex: `^\\.\\./(?!(?:${allowed})/)[A-Za-z]+/`, message },
    { regex: `^\\.\\./\\.\\./(?!(?:${allowed})/)[A-Za-z]+/`, message },
  ];
}

const special = {
  'src/protocol/**/*.ts': [{ regex: '^(?!\\./)', message: 'protocol/ is shared by Node and the page: it imports nothing' }],
  'src/sdp/**/*.ts': [{ regex: '^(?!\\./)', message: 'sdp/ is shared by the page and scenario validation: it imports nothing' }],
  'src/agent/**/*.ts': [{ regex: '^(node:|\\.\\./(?!(?:protocol|sdp)/))', message: 'agent/ runs in Chromium: it imports only protocol/, sdp/ and sip.js' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'src/generated/**', 'node_modules/**', '.lab/**', 'reports/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/cli/**'], rules: restrict(onlyCliUsesYargs) },
  // Tests may reach for test helpers and fixtures anywhere; the boundaries are the product's.
  ...Object.keys(mayImport).map((room) => ({
    files: [`src/${room}/**/*.ts`],
    ignores: ['src/**/*.test.ts', 'src/**/*.testkit.ts'],
    rules: restrict(...(room === 'cli' ? [] : [onlyCliUsesYargs]), ...downwardOnly(room), ...(special[`src/${room}/**/*.ts`] ?? [])),
  })),
);
