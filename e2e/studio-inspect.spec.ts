// Serve mode in Chromium, real engine host: a 4-layer network with mixed activations learns the
// spiral (sin features) to ≥ 95 % test accuracy while every inspection panel fills (loss, accuracy,
// gradient heatmap, layer health, histograms, decision boundary); then a huge SGD learning rate on
// a regression set explodes the gradients, and the alarm pauses training, names step and layer,
// and marks the loss chart. A reset clears the alarms.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))

/** Three hidden layers (so four linear layers) of the given widths and activations. */
async function buildNetwork(page: Page, widths: number[], activations: string[]): Promise<void> {
  while ((await page.locator('[data-testid^="layer-width-"]').count()) > widths.length) await page.getByTestId('remove-layer-0').click()
  while ((await page.locator('[data-testid^="layer-width-"]').count()) < widths.length) await page.getByTestId('add-layer').click()
  for (const [i, w] of widths.entries()) await page.getByTestId(`layer-width-${i}`).fill(String(w))
  for (const [i, a] of activations.entries()) await page.getByTestId(`layer-activation-${i}`).selectOption(a)
}

/** Unfold a setup section (they remember being folded). */
async function openSection(page: Page, id: string): Promise<void> {
  const toggle = page.getByTestId(`section-toggle-${id}`)
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
}

async function setFeature(page: Page, name: string, on: boolean): Promise<void> {
  const chip = page.getByTestId(`feature-${name}`)
  if ((await chip.getAttribute('aria-pressed')) !== String(on)) await chip.click()
  await expect(chip).toHaveAttribute('aria-pressed', String(on))
}

test.describe('studio live inspection', () => {
  test.use({ viewport: { width: 1600, height: 1000 } })

  test('spiral to 95 % with every panel live, then an exploding-gradient alarm', async ({ page }) => {
    test.setTimeout(180_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}\n${err.stack ?? ''}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)

    const status = page.getByTestId('session-status')
    const step = page.getByTestId('status-step')
    const lossChart = page.getByTestId('loss-chart')

    // --- Part 1: learn the spiral -------------------------------------------------------------
    for (const id of ['data', 'features', 'model', 'optimizer']) await openSection(page, id)
    await page.getByTestId('generator-spiral').click()
    for (const f of ['x1', 'x2', 'sinx1', 'sinx2']) await setFeature(page, f, true)
    await buildNetwork(page, [16, 16, 8], ['tanh', 'relu', 'tanh'])
    await page.getByTestId('optimizer-select').selectOption('adam')
    await page.getByTestId('lr-input').fill('0.02')
    // 4→16→16→8→2 (softmax cross-entropy): 80 + 272 + 136 + 18 parameters.
    await expect(page.getByTestId('param-count')).toContainText('506 parameters', { timeout: 15_000 })
    await expect(status).toHaveText('idle')

    // Before training: the histograms show the initial weights (no gradients yet).
    const hist = page.getByTestId('hist-panel')
    await expect.poll(() => num(hist, 'data-samples')).toBeGreaterThan(0)
    await expect(page.getByTestId('hist-grads-stats')).toHaveCount(0)

    await page.getByTestId('play-button').click()
    await expect(status).toHaveText('running')
    const accuracy = page.getByTestId('accuracy-chart')
    await expect
      .poll(() => num(accuracy, 'data-test-accuracy'), { timeout: 90_000, message: 'test accuracy reaches 95 %' })
      .toBeGreaterThanOrEqual(0.95)
    await page.getByTestId('pause-button').click()
    await expect(status).toHaveText('paused')
    await page.screenshot({ path: 'test-results/screenshots/studio-inspect.png', fullPage: true })

    expect(await num(lossChart, 'data-points')).toBeGreaterThan(10)
    expect(await num(accuracy, 'data-points')).toBeGreaterThan(2)
    // The gradient heatmap paints one cell per layer and time slice.
    const grad = page.getByTestId('grad-chart')
    await expect(grad).toHaveAttribute('data-mode', 'heatmap')
    await expect.poll(() => num(grad, 'data-points')).toBeGreaterThanOrEqual(4 * 3)
    // Hovering a heatmap cell names the layer, the step and the value.
    await page.getByTestId('grad-heatmap-canvas').hover()
    await expect(page.getByTestId('grad-heatmap-tip')).toContainText(/hidden \d .* · step \d+ · /)
    await page.getByTestId('grad-mode-lines').click()
    await expect.poll(() => num(grad, 'data-points')).toBeGreaterThanOrEqual(4 * 3)
    await page.getByTestId('grad-mode-heatmap').click()

    // Layer health: four rows with a gradient norm and an update ratio; ReLU layers report dead
    // units, tanh layers saturation, and the other column says it does not apply.
    await expect(page.getByTestId('health-strip')).toHaveAttribute('data-rows', '4')
    for (let i = 0; i < 4; i++) {
      expect(await num(page.getByTestId(`health-grad-${i}`), 'data-value')).toBeGreaterThan(0)
      expect(await num(page.getByTestId(`health-update-${i}`), 'data-value')).toBeGreaterThan(0)
    }
    await expect(page.getByTestId('health-dead-1')).toHaveText(/%/)
    await expect(page.getByTestId('health-saturated-1')).toHaveText(/—/)
    await expect(page.getByTestId('health-saturated-0')).toHaveText(/%/)
    await expect(page.getByTestId('health-dead-0')).toHaveText(/—/)

    // Histograms of weights, gradients and biases have samples; the boundary is painted.
    await expect.poll(() => num(hist, 'data-samples')).toBeGreaterThan(1)
    for (const t of ['weights', 'grads', 'biases'])
      await expect.poll(() => num(page.getByTestId(`hist-${t}`), 'data-samples')).toBeGreaterThan(0)
    await expect(page.getByTestId('hist-grads-outside')).toHaveText(/below \d+ \/ above \d+/)
    const boundary = page.getByTestId('boundary-panel')
    await expect.poll(() => num(boundary, 'data-painted')).toBeGreaterThan(0)
    expect(await num(boundary, 'data-step')).toBeGreaterThan(0)
    const pixels = await page.getByTestId('boundary-canvas').evaluate((el) => {
      const c = el as unknown as {
        width: number
        height: number
        getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null
      }
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let lit = 0
      for (let k = 3; k < d.length; k += 4) if (d[k]! > 0) lit++
      return lit / (d.length / 4)
    })
    expect(pixels).toBeGreaterThan(0.3)

    // A fixed histogram range: the host bins over it and counts what falls outside.
    await page.getByTestId('hist-lo').fill('-0.01')
    await page.getByTestId('hist-hi').fill('0.01')
    await page.getByTestId('hist-range-apply').click()
    await page.getByTestId('step-button').click()
    await expect.poll(async () => (await page.getByTestId('hist-weights-outside').textContent()) ?? '').not.toMatch(/below 0 \/ above 0/)

    // --- Part 2: explode ----------------------------------------------------------------------
    await page.getByTestId('generator-reg-plane').click()
    await buildNetwork(page, [16, 16, 8], ['relu', 'tanh', 'relu'])
    await page.getByTestId('optimizer-select').selectOption('sgd')
    await page.getByTestId('lr-input').fill('5')
    // A trained session is not rebuilt behind the user's back: rebuild it with the new settings.
    await page.getByTestId('rebuild-button').click()
    await expect(page.getByTestId('rebuild-notice')).toHaveCount(0)
    await expect(step).toHaveAttribute('data-value', '0')
    // Regression has one output: 4→16→16→8→1.
    await expect(page.getByTestId('param-count')).toContainText('497 parameters', { timeout: 15_000 })
    await expect(page.getByTestId('predictions-panel')).toBeVisible({ timeout: 15_000 })
    await expect(page.getByTestId('boundary-panel')).toBeVisible() // reg-plane is 2-D: a value map
    await expect(page.getByTestId('alarm-list')).toHaveAttribute('data-count', '0')
    await page.getByTestId('play-button').click()
    const banner = page.getByTestId('alarm-banner')
    await expect(banner).toBeVisible({ timeout: 30_000 })
    await expect(status).toHaveText('paused')
    await expect(banner).toHaveAttribute('data-kind', 'exploding')
    const alarmStep = await num(banner, 'data-step')
    // The toast names the step once (the host's "step N:" prefix is not repeated after it).
    await expect(banner).toContainText(`at step ${alarmStep}`)
    await expect(page.getByTestId('alarm-message')).not.toContainText(`step ${alarmStep}:`)
    await expect(page.getByTestId('alarm-message')).toContainText(/layers\.\d/)
    await expect(page.getByTestId('alarm-list')).toHaveAttribute('data-count', '1')
    await expect(page.getByTestId('alarm-item')).toHaveText(new RegExp(`^step ${alarmStep} exploding gradients — layers\\.\\d`))
    // One place for problems: the pause the alarm caused is not also an error banner.
    await expect(page.getByTestId('error-banner')).toHaveCount(0)
    // The toast leads to the Alarms card.
    await page.getByTestId('alarm-show').click()
    await expect(page.getByTestId('alarm-list')).toBeFocused()
    await expect(banner).toHaveCount(0)
    await expect.poll(() => num(lossChart, 'data-alarm-markers')).toBe(1)
    // Regression: predicted vs actual instead of accuracy.
    await expect.poll(() => num(page.getByTestId('predictions-panel'), 'data-rows')).toBeGreaterThan(0)

    await page.getByTestId('reset-button').click()
    await expect(step).toHaveAttribute('data-value', '0')
    await expect(page.getByTestId('alarm-list')).toHaveAttribute('data-count', '0')
    await expect(banner).toHaveCount(0)
    await expect(lossChart).toHaveAttribute('data-alarm-markers', '0')

    expect(problems).toEqual([])
  })

  test('classification without 2-D inputs shows the confusion matrix instead of a boundary', async ({ page }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}\n${err.stack ?? ''}`))
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await openSection(page, 'data')
    await page.getByTestId('source-bundled').click()
    await page.getByTestId('bundled-iris').click()
    const predictions = page.getByTestId('predictions-panel')
    await expect(predictions).toBeVisible({ timeout: 15_000 })
    await expect(page.getByTestId('boundary-panel')).toHaveCount(0)
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
    const matrix = page.getByTestId('confusion-matrix')
    await expect(matrix.locator('tbody tr')).toHaveCount(3)
    await expect(matrix.locator('tbody tr').first().locator('td')).toHaveCount(3)
    // Every test row is counted once: the cells add up to the rows the panel reports.
    const total = await matrix.locator('tbody td').evaluateAll((tds) => tds.reduce((n, td) => n + Number(td.textContent), 0))
    expect(total).toBe(Number(await predictions.getAttribute('data-rows')))
    expect(total).toBeGreaterThan(0)
    expect(problems).toEqual([])
  })

  test('time travel: the boundary and histograms show the checkpoint the runs view opened', async ({ page }) => {
    test.setTimeout(90_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}\n${err.stack ?? ''}`))
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    /** Runs listed with at least one recorded step (a session's run is listed from its creation). */
    const rowIds = async () =>
      new Set(
        await page
          .locator('[data-testid^="run-row-"]')
          .evaluateAll((rows) =>
            rows
              .filter((r) => Number(r.getAttribute('data-steps')) > 0)
              .map((r) => r.getAttribute('data-testid')!.slice('run-row-'.length)),
          ),
      )
    await page.getByTestId('tab-runs').click()
    await page.getByTestId('runs-refresh').click()
    await expect(page.getByTestId('runs-refresh')).toBeEnabled()
    const before = await rowIds()

    // Train the default spiral for a few hundred steps.
    await page.getByTestId('tab-studio').click()
    await expect(page.getByTestId('param-count')).toContainText('parameters', { timeout: 15_000 })
    await page.getByTestId('play-button').click()
    await expect.poll(() => num(page.getByTestId('status-step'), 'data-value'), { timeout: 30_000 }).toBeGreaterThan(400)
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')

    // Tick the new run and scrub to its first checkpoint.
    await page.getByTestId('tab-runs').click()
    let run = ''
    await expect
      .poll(
        async () => {
          await page.getByTestId('runs-refresh').click()
          await expect(page.getByTestId('runs-refresh')).toBeEnabled()
          run = [...(await rowIds())].find((id) => !before.has(id)) ?? ''
          return run === '' ? 0 : num(page.getByTestId(`run-row-${run}`), 'data-steps')
        },
        { timeout: 20_000, message: 'the run just trained is listed with its steps' },
      )
      .toBeGreaterThan(400)
    await page.getByTestId(`run-select-${run}`).check()
    await page.getByTestId('checkpoint-slider').fill('0')
    const first = await num(page.getByTestId('checkpoint-step'), 'data-value')
    await expect(page.getByTestId('time-travel-note')).toHaveAttribute('data-step', String(first), { timeout: 15_000 })
    expect(first).toBeLessThan(400)

    // The studio's panels ask the adopted session, so they show that step.
    await page.getByTestId('tab-studio').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(first))
    await expect(page.getByTestId('boundary-panel')).toHaveAttribute('data-step', String(first), { timeout: 10_000 })
    await expect(page.getByTestId('hist-panel')).toHaveAttribute('data-step', String(first))
    expect(problems).toEqual([])
  })
})
