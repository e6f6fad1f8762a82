/**
 * Playwright configuration: galata's defaults, Debian's chromium, and a jupyter lab started for the run.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const path = require('path');

const port = process.env.READINESS_UI_PORT || '8888';
// The checkout under test, importable by the server even without an install.
const repoRoot = path.resolve(__dirname, '..');
const pythonPath = [repoRoot, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
const token = process.env.READINESS_UI_TOKEN || 'readiness-ui-test-token';

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  retries: process.env.CI ? 1 : 0,
  timeout: 90000,
  expect: { timeout: 15000 },
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    extraHTTPHeaders: { Authorization: `token ${token}` },
    viewport: { width: 1400, height: 850 },
    trace: 'retain-on-failure',
    // Video needs Playwright's own ffmpeg download, which is not reachable here.
    video: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: `http://127.0.0.1:${port}/api`,
    timeout: 120000,
    reuseExistingServer: false,
    env: { ...process.env, PYTHONPATH: pythonPath }
  }
};
