/**
 * Two projects. `main`: unit tests beside the code (*.test.ts) and integration tests in tests/, run in
 * parallel. `pipeline`: end-to-end runs of the real processes in tests/pipeline, one file at a time
 * (they kill processes and restart brokers), on a database of their own.
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
    },
  ],
};
const common = {
  testEnvironment: 'node',
  transform,
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.stack/'],
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  testTimeout: 60000,
};

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'main',
      testMatch: [
        '<rootDir>/{api,workers,operator,lib,cli}/**/*.test.ts',
        '<rootDir>/tests/integration/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'pipeline',
      testMatch: ['<rootDir>/tests/pipeline/**/*.test.ts'],
    },
  ],
};
