/**
 * Five projects. `main`: unit tests beside the code (*.test.ts) and integration tests in tests/, run
 * in parallel. `pipeline`: end-to-end runs of the real processes in tests/pipeline, one file at a time
 * (they kill processes and restart brokers), on a database of their own. `operator`: the operator
 * against a real kube-apiserver and etcd started per file (tests/support/control-plane.ts). `console`:
 * the web console in headless Chromium against a real `orderflow up` (tests/console), one file at a
 * time. `cluster`: the platform on a real kind cluster (scripts/test.sh creates it first), one file, in
 * order. The console's own logic has Vitest unit tests (console/src/*.test.ts), run by scripts/test.sh.
 */
// @kubernetes/client-node 1.x and the ES-module-only packages it loads are compiled to CommonJS for
// jest, whose runtime cannot load ES modules on Node 20 (Node itself can: dist/ needs no such step).
const esmOnly = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];
const transform = {
  [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: [
    '@swc/jest',
    { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
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
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
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
        '<rootDir>/{api,workers,operator,lib,cli,scripts}/**/*.test.ts',
        '<rootDir>/tests/integration/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'pipeline',
      testMatch: ['<rootDir>/tests/pipeline/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'operator',
      testMatch: ['<rootDir>/tests/operator/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'console',
      testMatch: ['<rootDir>/tests/console/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'cluster',
      testMatch: ['<rootDir>/tests/cluster/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/cluster-setup.ts',
    },
  ],
};
