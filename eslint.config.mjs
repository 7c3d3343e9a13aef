import nx from '@nx/eslint-plugin';

const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
];

/** The apps' public entry points (package.json `exports` and the tsconfig.base.json paths): for benchmarks only. */
const benchAppEntryPoints = [
  '@pipeline/actionbase',
  '@pipeline/abuse-detector',
  '@pipeline/abuse-detector/testing',
  '@pipeline/druid-ingest',
  '@pipeline/druid-ingest/testing',
  '@pipeline/es-indexer',
  '@pipeline/snapshotter',
];

/** A file inside an app or a library, by path or through its package name: what an entry point exists to hide. */
const appDeepImports = [
  {
    regex: '(^|/)apps/[^/]+/(src|test)(/|$)',
    message: "Import the app's entry point (@pipeline/<app>, or @pipeline/<app>/testing for test helpers) instead of a file inside it; export what is missing from apps/<app>/src/index.ts.",
  },
  {
    regex: '^@pipeline/[^/]+/(src|test)(/|$)',
    message: "Import the package's entry point (@pipeline/<name> or @pipeline/<name>/testing), not a file inside it.",
  },
  {
    regex: '(^|/)libs/[^/]+/src(/|$)',
    message: "Import the library's entry point (@pipeline/<lib>, or one of the subpaths in its package.json exports), not a file inside it.",
  },
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.stack', '**/.data', 'coverage', 'tools/generators/src/generators/*/files/**'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints,
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // noUncheckedIndexedAccess makes `!` the honest way to say "checked above".
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Benchmarks reach libs and tools through their @pipeline entry points, and the apps they drive without
    // their HTTP or Kafka edges through each app's public entry point (src/index.ts, src/testing.ts) and nothing
    // deeper. Nx forbids importing apps at all; these entry points, and only these, are allowed in bench/.
    files: ['bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: benchAppEntryPoints, depConstraints }],
      'no-restricted-imports': ['error', { patterns: appDeepImports }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', '**/src/testing.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
];
