// Lint is about architecture: the module boundaries of STYLE.md, enforced.
import tseslint from 'typescript-eslint';

const onlyCliUsesYargs = { group: ['yargs', 'yargs/*'], message: 'only cli/ uses yargs' };
const restrict = (...groups) => ({ 'no-restricted-imports': ['error', { patterns: groups }] });
const boundaries = {
  'src/protocol/**/*.ts': [{ regex: '^(?!\\./)', message: 'protocol/ is shared by Node and the page: it imports nothing' }],
  'src/agent/**/*.ts': [{ regex: '^(node:|\\.\\./(?!protocol/))', message: 'agent/ runs in Chromium: it imports only protocol/ and sip.js' }],
  'src/{report,metrics,verdict}/**/*.ts': [
    { group: ['**/runner/*', '**/browser/*', '**/cli/*'], message: 'reporters, metrics and verdicts read results; they never drive the run' },
  ],
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
  ...Object.entries(boundaries).map(([files, groups]) => ({ files: [files], rules: restrict(onlyCliUsesYargs, ...groups) })),
);
