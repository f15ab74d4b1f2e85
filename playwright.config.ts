// End-to-end tests. The renderer specs run the built renderer (out/renderer, from `npm run build`)
// in Debian's Chromium; Playwright's own browser downloads are unreachable here, so never run
// `playwright install`.
import { defineConfig } from '@playwright/test'

const port = 4173

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
    // Static server for the built renderer; the Node serve mode will replace it when it lands.
    command: `vite preview --outDir out/renderer --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
})
