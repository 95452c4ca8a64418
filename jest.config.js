// Tests are compiled by `tsc` (npm run build) and jest runs the built JavaScript, so every test
// exercises exactly the code a user runs — including the worker-thread entry points, which Node
// can only load as JavaScript.
/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  rootDir: __dirname,
  setupFiles: ['<rootDir>/dist/test/setup.js'],
};
module.exports = {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/dist/test/**/*.test.js'], testPathIgnorePatterns: ['\\.int\\.test\\.js$'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/dist/test/**/*.int.test.js'] },
    // The second placement (issue 8): the scheduler and health integration suites again, with queue,
    // executor, monitor and triggers each in a worker thread (RAE_SCHED_PLACEMENT=threads, set by the setup file).
    {
      ...common, displayName: 'threads',
      setupFiles: [...common.setupFiles, '<rootDir>/dist/test/setup-threads.js'],
      // Every scheduler and health integration test, crash.int and health-truth included (both were
      // left out until session 7: docs/architecture.md "Placement is configuration" says why and
      // what changed).
      testMatch: ['<rootDir>/dist/test/scheduler/*.int.test.js', '<rootDir>/dist/test/health/*.int.test.js'],
    },
  ],
};
