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

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: {
    // The browser module is an ES module: its relative imports name the compiled `.js` files.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    ...ownPackage,
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  reporters: ['default', '<rootDir>/jest.summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 30000,
};
