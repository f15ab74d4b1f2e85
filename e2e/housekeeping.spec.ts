// Serve mode in Chromium: an evaluation in the status line says which step it belongs to and looks
// stale once training has moved past it, beside the minibatch loss of the current step; and a real
// Fashion-MNIST image file (47 MB, inflated from the system's copy) uploads as binary chunks with
// a progress bar, timed on loopback.
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { expect, test, type Locator } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))
const FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'

test('the status line labels each figure with its step and dims an old evaluation', async ({ page }) => {
  test.setTimeout(90_000)
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-spiral').click()
  await page.getByTestId('eval-every-input').fill('100000')
  await expect(page.getByTestId('status-eval-step')).toHaveText('none yet', { timeout: 15_000 })
  const evaluation = page.getByTestId('status-eval')
  const loss = page.getByTestId('latest-loss')

  // The first step evaluates step 0: current, not stale.
  await page.getByTestId('step-button').click()
  await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1', { timeout: 15_000 })
  await expect(evaluation).toHaveAttribute('data-step', '0')
  await expect(evaluation).toHaveAttribute('data-stale', 'false')
  await expect(page.getByTestId('status-eval-step')).toHaveText('at step 0')
  await expect(loss).toHaveAttribute('data-step', '1')

  // Train on past the margin without another evaluation (every 100,000): the evaluation reads stale
  // and dimmed, while the minibatch loss follows the current step.
  await page.getByTestId('play-button').click()
  await expect.poll(() => num(page.getByTestId('status-step'), 'data-value'), { timeout: 60_000 }).toBeGreaterThan(150)
  await page.getByTestId('pause-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('paused')
  const step = await num(page.getByTestId('status-step'), 'data-value')
  expect(step).toBeLessThan(100_000) // no second evaluation yet
  await expect(evaluation).toHaveAttribute('data-stale', 'true')
  await expect(evaluation).toHaveAttribute('data-step', '0')
  await expect(evaluation).toHaveAttribute('title', new RegExp(`at step 0, ${step} steps ago`))
  // (Serialised into the page, so self-contained; the e2e typecheck has no DOM types.)
  const opacity = await evaluation.evaluate(
    (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el).opacity,
  )
  expect(Number(opacity)).toBeLessThan(1)
  await expect(loss).toHaveAttribute('data-step', String(step))
})

test('a 47 MB IDX file uploads as binary chunks with progress, timed on loopback', async ({ page }, testInfo) => {
  test.setTimeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'bps-e2e-upload-'))
  const file = join(dir, 'train-images-idx3-ubyte')
  try {
    writeFileSync(file, gunzipSync(readFileSync(FASHION)))
    const bytes = statSync(file).size
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await page.getByTestId('source-idx').click()
    // Every progress value the bar shows, recorded in the page (the upload may be quicker than a poll).
    await page.evaluate(`(() => {
      const seen = []
      window.progressSeen = seen
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="idx-images-progress"]')
        if (bar) seen.push(bar.value / bar.max)
      }).observe(document.body, { subtree: true, childList: true, attributes: true })
    })()`)
    const t0 = Date.now()
    await page.getByTestId('idx-images').setInputFiles(file)
    await expect(page.getByTestId('idx-images-status')).toHaveAttribute('data-status', 'done', { timeout: 60_000 })
    const seconds = (Date.now() - t0) / 1000
    await expect(page.getByTestId('idx-images-dims')).toContainText('60000 × 28 × 28')
    const note = `uploaded ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(1)} MB/s), stored and checked`
    console.log(note)
    testInfo.annotations.push({ type: 'upload', description: note })
    // Generous for a loaded CI machine; the bench (npm run bench -- --upload-only) has the figure.
    expect(seconds).toBeLessThan(60)
    const seen = await page.evaluate<number[]>('window.progressSeen')
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.some((v) => v > 0 && v < 1)).toBe(true)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
