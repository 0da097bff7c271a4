// Lint rules: the recommended sets, plus the boundary rule that keeps workflow code deterministic.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Production code (what the image holds: src/, activities/, workflows/) never loads the development
// stack: the simulator, the embedded-server launcher, the test runner, tests or benchmarks.
const devStackImports = {
  group: ['**/simulator', '**/simulator/**', '**/scripts', '**/scripts/**', '**/test/**', '**/bench/**', 'playwright-core'],
  message: 'Production code must not import the development stack (simulator/, scripts/, test/, bench/).',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'tools/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', FormData: 'readonly', Blob: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', structuredClone: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Rejecting control characters in file names and headers is exactly what those regexes are for.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts', 'activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [devStackImports] }] },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'], message: 'Workflow code must stay deterministic: no Node built-ins.' },
          devStackImports,
          { group: ['mongodb', 'fastify', 'fastify/*', '@fastify/*', '../src/*', '../activities/*'], message: 'Workflow code does no I/O: call activities through proxyActivities (import type only).', allowTypeImports: true },
        ],
      }],
    },
  },
);
