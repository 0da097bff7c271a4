// Lint rules: the recommended sets, plus the boundary rule that keeps workflow code deterministic.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Production code (what the image holds: src/, activities/, workflows/) never loads the development
// stack: the simulator, the embedded-server launcher, the test runner, tests or benchmarks.
const devStackImports = {
  group: ['**/simulator', '**/simulator/**', '**/scripts', '**/scripts/**', '**/test/**', '**/bench/**', 'playwright-core'],
  message: 'Production code must not import the development stack (simulator/, scripts/, test/, bench/).',
};

// The store boundary: only a part's store module opens its collections and GridFS buckets (on FerretDB,
// where a conditional update is not atomic, "one writer" is what keeps updates correct). Everything
// else — service, reconciler, activities, relay, routes, tests, tools — goes through their methods.
const storeModules = [
  'src/store/**/*.ts', // names, document types, indexes, insertIfAbsent
  'src/signings/store.ts', // SigningStore
  'src/callbacks/inbox.ts', // CallbackInbox
  'src/callbacks/tokens.ts', // CallbackTokens
  'test/helpers/store-faults.ts', // wraps Db.collection to inject faults, opens nothing itself
  'bench/store.ts', // measures FerretDB itself on a collection of its own, none of the service's
  'bench/lib/seed.ts', // copies a template signing's rows, whatever collections the store put them in
  'test/store/embedded-store.test.ts', // checks the launcher's store keeps a collection of its own
];
const storeBoundary = {
  'no-restricted-syntax': [
    'error',
    {
      selector: "CallExpression[callee.property.name='collection']",
      message: 'Only the store modules (SigningStore, CallbackInbox, CallbackTokens, src/store/) open collections: use their methods.',
    },
    {
      selector: "NewExpression[callee.name='GridFSBucket']",
      message: 'Only SigningStore opens the GridFS buckets: use its methods.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'tools/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        FormData: 'readonly',
        Blob: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Rejecting control characters in file names and headers is exactly what those regexes are for.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    ignores: storeModules,
    rules: storeBoundary,
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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'],
              message: 'Workflow code must stay deterministic: no Node built-ins.',
            },
            devStackImports,
            {
              group: ['mongodb', 'fastify', 'fastify/*', '@fastify/*', '../src/*', '../activities/*'],
              message: 'Workflow code does no I/O: call activities through proxyActivities (import type only).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
