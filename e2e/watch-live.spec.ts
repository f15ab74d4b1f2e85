// ★ Watching a PyTorch run live: a serve process of its own, a python3-torch script that trains an
// MLP and reports through studio_watch.py, the studio shows the run live (loss, per-layer gradient
// heatmap with one row per Linear layer, layer health); then the studio is killed mid-run and the
// script still finishes, reporting the points it dropped.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { expect, test } from '@playwright/test'

const PORT = 4179
const TOKEN = 'watch_e2e_token_0123456789'
const SCREENSHOT = 'test-results/screenshots/watch-live.png'

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((res) => (p.exitCode !== null ? res(p.exitCode) : p.once('exit', (code) => res(code))))
}

function output(p: ChildProcess): { text: () => string; line: (re: RegExp) => Promise<string> } {
  let text = ''
  const waiters: { re: RegExp; done: (s: string) => void }[] = []
  const feed = (c: Buffer) => {
    text += c.toString('utf8')
    for (const w of [...waiters]) {
      const m = w.re.exec(text)
      if (m) {
        waiters.splice(waiters.indexOf(w), 1)
        w.done(m[0])
      }
    }
  }
  p.stdout?.on('data', feed)
  p.stderr?.on('data', feed)
  return { text: () => text, line: (re) => new Promise((done) => (re.test(text) ? done(re.exec(text)![0]) : waiters.push({ re, done }))) }
}

test('a PyTorch script streams into the studio live, and outlives the studio', async ({ page }) => {
  test.setTimeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'bps-watch-e2e-'))
  const serve = spawn('node', ['out/main/serve.js', '--port', String(PORT), '--token', TOKEN, '--data-dir', join(dir, 'runs')])
  const serveOut = output(serve)
  await serveOut.line(/serving at \S+/)
  const stopFile = join(dir, 'stop')
  const script = spawn(
    '/usr/bin/python3',
    [resolve('e2e/fixtures/watch_train.py'), `http://127.0.0.1:${PORT}/?token=${TOKEN}`, '40', stopFile],
    {
      env: { ...process.env, STUDIO_WATCH_DIR: resolve('src/host/export'), WATCH_NAME: 'torch xor (e2e)', PYTHONDONTWRITEBYTECODE: '1' },
    },
  )
  const scriptOut = output(script)
  try {
    await page.goto(`http://127.0.0.1:${PORT}/?token=${TOKEN}`)
    await page.getByTestId('tab-runs').click()
    const watchButton = page.locator('[data-testid^="watch-run-"]')
    await expect(watchButton).toHaveCount(1, { timeout: 60_000 })
    await watchButton.click()

    const banner = page.getByTestId('watch-banner')
    await expect(banner).toBeVisible()
    await expect(banner).toHaveAttribute('data-ended', 'false')
    await expect(banner).toContainText('torch xor (e2e)')
    // One heatmap row and one health row per Linear layer (16←2, 16←16, 1←16), painted.
    await expect(page.getByTestId('health-strip')).toHaveAttribute('data-rows', '3')
    await expect(page.getByTestId('health-row-2').locator('td.name')).toHaveText(/^\s*4\b/)
    await expect.poll(async () => Number(await page.getByTestId('grad-chart').getAttribute('data-points'))).toBeGreaterThan(3)
    // Live: the step keeps moving while the script trains.
    const seen = Number(await banner.getAttribute('data-step'))
    await expect.poll(async () => Number(await banner.getAttribute('data-step')), { timeout: 30_000 }).toBeGreaterThan(seen + 10)
    await page.screenshot({ path: SCREENSHOT, fullPage: true })

    serve.kill('SIGKILL')
    await exited(serve)
    writeFileSync(stopFile, '')
    expect(await exited(script), scriptOut.text()).toBe(0)
    const summary = JSON.parse(await scriptOut.line(/\{"sent".*\}/)) as { sent: number; dropped: number; steps: number }
    expect(summary.sent).toBeGreaterThan(10)
    expect(summary.dropped).toBeGreaterThanOrEqual(40)
    expect(scriptOut.text()).toContain('is not answering')
  } finally {
    serve.kill('SIGKILL')
    script.kill('SIGKILL')
  }
})
