// End-to-end tests. The renderer specs run the real serve mode (out/main/serve.js, from
// `npm run build`: the built renderer plus the engine worker) in Debian's Chromium; Playwright's
// own browser downloads are unreachable here, so never run `playwright install`.
import { defineConfig } from '@playwright/test'
import { appPath, E2E_TOKEN } from './e2e/serve-token'

// E2E_PORT lets two checkouts run their specs at once (each needs its own serve mode).
const port = Number(process.env['E2E_PORT'] ?? 4173)

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  // test-results/ also holds the vitest and CI reports, which Playwright would wipe.
  outputDir: 'test-results/e2e-artifacts',
  forbidOnly: !!process.env['CI'],
  retries: 0,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    // Serve mode with a fixed token so specs can open appPath() (= /?token=...). A closed page's
    // sessions wait 4 s for a reload (reload.spec.ts) instead of 30, so one spec's pages do not
    // hold sessions (the host allows 8) into the next.
    command: `node out/main/serve.js --port ${port} --token ${E2E_TOKEN} --data-dir test-results/serve-data --resume-grace 4`,
    url: `http://127.0.0.1:${port}${appPath()}`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
})
