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
  ],
};
