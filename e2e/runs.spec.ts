// Runs that last, in serve mode: a trained run survives a page reload and shows its curves;
// two runs with different learning rates overlay in every compare chart and their config diff
// names optimizer.lr; rename, delete + undo, and exports (files and chart PNGs) download; a run
// opens in the studio and Play resumes it; the checkpoint slider takes the studio back in time.
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'
import { PYTORCH_EXPORT_FILES } from '../src/shared/export-files'

const SCREENSHOT = 'test-results/screenshots/runs-view.png'
const TIME_TRAVEL_SCREENSHOT = 'test-results/screenshots/runs-time-travel.png'
const METRICS = ['trainLoss', 'testLoss', 'testAccuracy', 'gradNorm'] as const

const num = async (page: Page, testId: string, attr: string): Promise<number> => Number(await page.getByTestId(testId).getAttribute(attr))

async function openRuns(page: Page): Promise<void> {
  await page.getByTestId('tab-runs').click()
  await expect(page.getByTestId('runs-table')).toBeVisible()
  await page.getByTestId('runs-refresh').click()
  await expect(page.getByTestId('runs-refresh')).toBeEnabled()
}

/** Run ids in the list with at least one recorded step, read in one go (the list re-renders as changes arrive). */
async function trainedRuns(page: Page): Promise<Map<string, number>> {
  const rows = await page
    .locator('[data-testid^="run-row-"]')
    .evaluateAll((els) =>
      els.map((e): [string, number] => [e.getAttribute('data-testid')!.slice('run-row-'.length), Number(e.getAttribute('data-steps'))]),
    )
  return new Map(rows.filter(([, steps]) => steps > 0))
}

/** The one run trained since `before` was taken (polling: the log is flushed asynchronously). */
async function newTrainedRun(page: Page, before: Set<string>, minSteps: number): Promise<string> {
  let found: string[] = []
  await expect
    .poll(
      async () => {
        await page.getByTestId('runs-refresh').click()
        await expect(page.getByTestId('runs-refresh')).toBeEnabled()
        found = [...(await trainedRuns(page))].filter(([id, steps]) => !before.has(id) && steps >= minSteps).map(([id]) => id)
        return found.length
      },
      { timeout: 20_000, message: 'the run just trained is listed with its steps' },
    )
    .toBe(1)
  return found[0]!
}

/** Train the current studio session for at least `steps` steps, then pause. */
async function train(page: Page, steps: number): Promise<void> {
  await page.getByTestId('tab-studio').click()
  await expect(page.getByTestId('session-status')).toHaveText(/idle|paused/)
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running')
  await expect.poll(() => num(page, 'status-step', 'data-value'), { timeout: 60_000 }).toBeGreaterThan(steps)
  await page.getByTestId('pause-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('paused')
}

test.describe('runs in serve mode', () => {
  test.use({ viewport: { width: 1440, height: 1000 } })

  test('runs persist, compare, rename, delete with undo, and export', async ({ page }, testInfo) => {
    test.setTimeout(180_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))

    // Whatever earlier specs left in the data directory is not ours.
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await openRuns(page)
    await expect(page.getByTestId('storage-status')).toHaveAttribute('data-writable', 'true')
    await expect(page.getByTestId('storage-warning')).toHaveCount(0)
    const before = new Set((await trainedRuns(page)).keys())

    // Run 1: the default session (Adam, lr 0.01).
    await page.getByTestId('tab-studio').click()
    await expect(page.getByTestId('param-count')).toContainText('parameters', { timeout: 15_000 })
    await train(page, 120)

    // Close and reopen (as a new tab: a reload would re-attach to the session, reload.spec.ts): the
    // run is listed and its curves come back from disk once the closed page's session is released.
    await page.evaluate('sessionStorage.clear()')
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await openRuns(page)
    const first = await newTrainedRun(page, before, 120)
    await expect(page.getByTestId(`run-status-${first}`)).not.toHaveText('live', { timeout: 20_000 })
    await page.getByTestId(`run-select-${first}`).check()
    await expect(page.getByTestId('compare-chart-trainLoss')).toHaveAttribute('data-lines', '1')
    expect(await num(page, 'compare-chart-trainLoss', 'data-points')).toBeGreaterThan(10)

    // Run 2: lr 0.1 and a narrower first layer (a structural edit builds a new session with it).
    await page.getByTestId('tab-studio').click()
    const paramText = await page.getByTestId('param-count').textContent()
    await page.getByTestId('lr-input').fill('0.1')
    await page.getByTestId('layer-width-0').fill('6')
    await expect(page.getByTestId('param-count')).not.toHaveText(paramText ?? '', { timeout: 15_000 })
    await train(page, 120)
    await openRuns(page)
    const second = await newTrainedRun(page, new Set([...before, first]), 120)

    // Compare both: two lines in every chart, and the diff names the learning rate.
    await page.getByTestId(`run-select-${second}`).check()
    for (const m of METRICS) await expect(page.getByTestId(`compare-chart-${m}`), m).toHaveAttribute('data-lines', '2')
    const lrRow = page.getByTestId('diff-optimizer.lr')
    await expect(lrRow).toBeVisible()
    await expect(lrRow).toContainText('0.01')
    await expect(lrRow).toContainText('0.1')
    await page.getByTestId('compare-log-trainLoss').check()
    await expect(page.getByTestId('compare-chart-trainLoss')).toHaveAttribute('data-lines', '2')

    // Rename in place; the name survives a reload of the list.
    const name = page.getByTestId(`run-name-${first}`)
    await name.fill('baseline lr 0.01')
    await name.press('Enter')
    await openRuns(page)
    await expect(page.getByTestId(`run-name-${first}`)).toHaveValue('baseline lr 0.01')
    await page.getByTestId(`run-name-${second}`).fill('fast lr 0.1')
    await page.getByTestId(`run-name-${second}`).press('Enter')
    await expect(page.getByTestId('config-diff')).toContainText('fast lr 0.1')

    // Tags.
    await page.getByTestId(`run-tag-input-${first}`).fill('baseline')
    await page.getByTestId(`run-tag-input-${first}`).press('Enter')
    await expect(page.getByTestId(`run-tags-${first}`)).toContainText('baseline')
    await page.getByTestId(`run-tag-input-${first}`).blur()

    mkdirSync(dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    await testInfo.attach('runs-view', { path: SCREENSHOT, contentType: 'image/png' })

    // Exports download with the run's name: the metrics as CSV, the PyTorch package, a chart as PNG.
    await page.getByTestId(`run-export-${first}`).click()
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-metrics-csv-${first}`).click()])
    expect(csv.suggestedFilename()).toBe('baseline-lr-0.01-metrics.csv')
    const csvText = readFileSync((await csv.path())!, 'utf8')
    expect(csvText.split('\n').length).toBeGreaterThan(10)
    // PyTorch: every file from one click (module, weights, training script, the run's data, the live-watch module, the optimiser and sampler state), each its own download.
    expect(Number(await page.getByTestId(`run-row-${first}`).getAttribute('data-checkpoints'))).toBeGreaterThan(0)
    const names: string[] = []
    const all = new Promise<void>((resolve) => {
      page.on('download', (d) => names.push(d.suggestedFilename()) === PYTORCH_EXPORT_FILES.length && resolve())
    })
    await page.getByTestId(`run-export-${first}`).click()
    await page.getByTestId(`export-pytorch-${first}`).click()
    await all
    expect(names.sort()).toEqual(PYTORCH_EXPORT_FILES)
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png-trainLoss').click()])
    expect(png.suggestedFilename()).toBe('compare-trainLoss.png')
    expect(
      readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString('latin1'),
    ).toBe('PNG')

    // Delete, then undo: the run comes back (run 1: its session closed with the first page).
    await page.getByTestId(`run-delete-${first}`).click()
    await expect(page.getByTestId(`run-row-${first}`)).toHaveCount(0)
    await expect(page.getByTestId('delete-toast')).toContainText('baseline lr 0.01')
    await page.getByTestId('undo-delete').click()
    await expect(page.getByTestId(`run-row-${first}`)).toBeVisible()
    await expect(page.getByTestId('delete-toast')).toHaveCount(0)
    await openRuns(page)
    await expect(page.getByTestId(`run-name-${first}`)).toHaveValue('baseline lr 0.01')

    expect(problems).toEqual([])
  })

  test('open a run in the studio, resume it, and travel back to its first checkpoint', async ({ page }) => {
    test.setTimeout(120_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))

    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await openRuns(page)
    const before = new Set((await trainedRuns(page)).keys())
    await page.getByTestId('tab-studio').click()
    await expect(page.getByTestId('param-count')).toContainText('parameters', { timeout: 15_000 })
    await train(page, 60)

    // A fresh page (a new tab, not a reload): the studio builds a new, untrained session; the run
    // is only on disk once the closed page's session is released.
    await page.evaluate('sessionStorage.clear()')
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '0')
    await openRuns(page)
    const run = await newTrainedRun(page, before, 60)
    await expect(page.getByTestId(`run-status-${run}`)).not.toHaveText('live', { timeout: 20_000 })

    // Open in studio: the Studio tab shows the run at its last checkpoint, paused.
    await page.getByTestId(`open-run-${run}`).click()
    await expect(page.getByTestId('tab-studio')).toHaveAttribute('aria-selected', 'true')
    await expect.poll(() => num(page, 'status-step', 'data-value'), { timeout: 15_000 }).toBeGreaterThan(60)
    const resumedAt = await num(page, 'status-step', 'data-value')
    await expect(page.getByTestId('session-status')).toHaveText(/paused|idle/)
    // Its curves up to that step come along.
    await expect.poll(() => num(page, 'loss-chart', 'data-points')).toBeGreaterThan(10)

    // Play continues the same run from there.
    await train(page, resumedAt + 30)
    await openRuns(page)
    await expect
      .poll(
        async () => {
          await page.getByTestId('runs-refresh').click()
          return num(page, `run-row-${run}`, 'data-steps')
        },
        { timeout: 20_000, message: 'the resumed run keeps its id and grows' },
      )
      .toBeGreaterThan(resumedAt + 30)

    // Time travel: tick the run, move the slider to its first checkpoint.
    await page.getByTestId(`run-select-${run}`).check()
    const slider = page.getByTestId('checkpoint-slider')
    await expect(slider).toBeVisible()
    await slider.fill('0')
    const first = await num(page, 'checkpoint-step', 'data-value')
    expect(first).toBeLessThan(resumedAt)
    await expect(page.getByTestId('time-travel-note')).toHaveAttribute('data-step', String(first), { timeout: 15_000 })
    await expect(page.getByTestId('time-travel-note')).toContainText('Play')
    mkdirSync(dirname(TIME_TRAVEL_SCREENSHOT), { recursive: true })
    await page.screenshot({ path: TIME_TRAVEL_SCREENSHOT, fullPage: true })
    await page.getByTestId('tab-network').click()
    await expect(page.getByTestId('network-view')).toHaveAttribute('data-step', String(first), { timeout: 15_000 })
    await page.getByTestId('tab-studio').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(first))

    expect(problems).toEqual([])
  })
})
