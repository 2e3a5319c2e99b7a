/** Unit tests sit beside the code (*.test.ts); integration tests live in tests/ and use real services. */
module.exports = {
  testEnvironment: 'node',
  transform: {
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
  },
  testMatch: ['<rootDir>/{api,workers,operator,lib,cli}/**/*.test.ts', '<rootDir>/tests/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.stack/'],
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
