const { exports: packageExports, name } = require('./package.json');

/**
 * The package's own name resolved to its sources, as TypeScript resolves it for the examples that
 * import it as adopters do (`express-metadata-password/redis` -> lib/stores/redis.ts).
 */
const ownPackage = Object.fromEntries(
  Object.entries(packageExports)
    .filter(([, target]) => typeof target === 'object' && /^\.\/dist\/lib\/.+\.d\.ts$/.test(target.types))
    .map(([subpath, target]) => [
      `^${(name + subpath.slice(1)).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
      target.types.replace(/^\.\/dist\//, '<rootDir>/').replace(/\.d\.ts$/, '.ts'),
    ]),
);

/**
 * Suites that need the Redis and PostgreSQL servers (REDIS_URL, DATABASE_URL), in one process.
 * Every suite not named here or in SYSTEM is a unit suite: in-process, no servers.
 */
const INTEGRATION = [
  'express4-host',
  'prefer-wait',
  'metrics',
  'password-reset-stores',
  'postgres-store',
  'rate-limit',
  'redis-store',
  'redis-store-replicas',
  'store-contract',
  'store-faults-postgres',
  'store-faults-redis',
];

/**
 * Suites that run other programs: the packed tarball in throwaway projects, servers killed under
 * load, Chromium, the built CLI, bench and example servers as processes, the documentation's code
 * blocks.
 */
const SYSTEM = [
  'bench-abort',
  'browser-chromium',
  'built-modules',
  'cli',
  'cli-wait',
  'cli-example-server',
  'cluster-race',
  'console.e2e',
  'console-reset.e2e',
  'demo-keys',
  'doc-snippets',
  'password-server-clients',
  'packaging-.+',
  'store-failover-.+',
];

const suites = (names) => [`/__tests__/(${names.join('|')})\\.test\\.ts$`];

/** What every project shares. */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  moduleNameMapper: {
    // The browser module is an ES module: its relative imports name the compiled `.js` files.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    ...ownPackage,
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: [...suites(INTEGRATION), ...suites(SYSTEM)],
    },
    { ...common, displayName: 'integration', testRegex: suites(INTEGRATION) },
    { ...common, displayName: 'system', testRegex: suites(SYSTEM) },
  ],
  // RSA test keys (4096 bits among them) are made once per run, not once per suite.
  globalSetup: '<rootDir>/__tests__/helpers/global-keys-setup.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-keys-teardown.ts',
  reporters: ['default', '<rootDir>/jest.summary-reporter.js'],
  testSequencer: '<rootDir>/jest.sequencer.js',
  maxWorkers: 2,
  testTimeout: 30000,
};
