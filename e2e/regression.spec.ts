// Serve mode in Chromium: regression done right on a real table. The diabetes CSV (442 patients,
// target 25–346; e2e/fixtures/diabetes.md) with the studio's default settings (the target
// standardised with the training rows' statistics, L2 0.01 because the data is a regression)
// trains 2,000 steps without an alarm to a test R² ≥ 0.3 in the status line. The first
// scenario, a 2×32 relu network under Adam 0.003, raises no false alarm either; the status line
// and the R² chart show R², RMSE and MAE in the target's units, and the predictions panel shows
// predicted vs actual with the residual histogram.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))

async function openSection(page: Page, id: string): Promise<void> {
  const toggle = page.getByTestId(`section-toggle-${id}`)
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
}

/** The studio with the diabetes CSV chosen and its target: nothing else touched. */
async function openDiabetes(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
  await page.getByTestId('source-csv').click()
  await page.getByTestId('csv-file').setInputFiles('e2e/fixtures/diabetes.csv')
  await expect(page.getByTestId('csv-summary')).toContainText('diabetes.csv', { timeout: 15_000 })
  await page.getByTestId('csv-target').selectOption('progression')
  // The defaults: the target trains standardised, and L2 0.01 comes with the regression, saying why.
  await expect(page.getByTestId('csv-standardize-target')).toBeChecked()
  await expect(page.getByTestId('section-schedule')).toContainText('L2 0.01', { timeout: 15_000 })
  await openSection(page, 'schedule')
  await expect(page.getByTestId('l2-input')).toHaveValue('0.01')
  await expect(page.getByTestId('l2-default-note')).toContainText('small tables overfit')
}

/**
 * Play until the run stops by itself at exactly 2,000 steps (a stop condition, not a training
 * setting) without an alarm; the status line's regression figures, from the evaluation at step 2,000.
 */
async function trainTo2000(page: Page): Promise<Locator> {
  await openSection(page, 'stopping')
  await page.getByTestId('max-steps-toggle').check()
  await page.getByTestId('max-steps').fill('2000')
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '2000', { timeout: 180_000 })
  await expect(page.getByTestId('session-status')).toHaveText('paused')
  await expect(page.getByTestId('alarm-list')).toHaveAttribute('data-count', '0')
  await expect(page.getByTestId('alarm-banner')).toHaveCount(0)
  const reg = page.getByTestId('status-regression')
  await expect(reg).toHaveAttribute('data-step', '2000', { timeout: 15_000 })
  return reg
}

/** The test R² as the status line prints it (three decimals). */
async function shownTestR2(page: Page): Promise<number> {
  const text = page.getByTestId('status-r2-test')
  await expect(text).toHaveText(/^-?\d\.\d{3}$/)
  return Number(await text.textContent())
}

test('diabetes CSV with default settings: 2,000 steps, no alarm, test R² ≥ 0.3 in the status line', async ({ page, browser }) => {
  test.setTimeout(240_000)
  await openDiabetes(page)
  // The default network, untouched: 10 → 8 → 8 → 1 tanh is 88 + 72 + 9 parameters, under MSE.
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', '169', { timeout: 15_000 })
  await expect(page.getByTestId('param-count')).toContainText('mse')

  const reg = await trainTo2000(page)
  const shown = await shownTestR2(page)
  console.log(
    `regression.spec.ts: diabetes, default settings, at step 2000: test R² ${shown} (best ${(await num(reg, 'data-best-test-r2')).toFixed(3)})`,
  )
  expect(shown).toBeGreaterThanOrEqual(0.3)
  expect(Math.abs(shown - (await num(reg, 'data-test-r2')))).toBeLessThan(5e-4)

  // Its link reopens the same experiment in a fresh context: L2 0.01, still the data's default,
  // and the form, once the data's task is known again, writes back exactly that link.
  const hash = await page.evaluate<string>('location.hash')
  const context = await browser.newContext()
  const fresh = await context.newPage()
  await fresh.goto(`${appPath()}${hash}`)
  await expect(fresh.getByTestId('param-count')).toHaveAttribute('data-host-count', '169', { timeout: 15_000 })
  await openSection(fresh, 'schedule')
  await expect(fresh.getByTestId('l2-input')).toHaveValue('0.01')
  await expect(fresh.getByTestId('l2-default-note')).toBeVisible({ timeout: 15_000 })
  await expect.poll(() => fresh.evaluate<string>('location.hash')).toBe(hash)
  await context.close()
})

test('diabetes CSV, 2×32 relu under Adam 0.003: no false alarm; R², RMSE and MAE in the target’s units', async ({ page }) => {
  test.setTimeout(240_000)
  await openDiabetes(page)
  // 2×32 relu, Adam 0.003; 10 → 32 → 32 → 1 is 352 + 1056 + 33 parameters.
  while ((await page.locator('[data-testid^="layer-width-"]').count()) > 2) await page.getByTestId('remove-layer-0').click()
  while ((await page.locator('[data-testid^="layer-width-"]').count()) < 2) await page.getByTestId('add-layer').click()
  for (const i of [0, 1]) {
    await page.getByTestId(`layer-width-${i}`).fill('32')
    await page.getByTestId(`layer-activation-${i}`).selectOption('relu')
  }
  await page.getByTestId('optimizer-select').selectOption('adam')
  await page.getByTestId('lr-input').fill('0.003')
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', '1441', { timeout: 15_000 })
  await expect(page.getByTestId('param-count')).toContainText('mse')
  await expect(page.getByTestId('l2-input')).toHaveValue('0.01') // the model's edits leave the data's default

  // R², RMSE and MAE in the status line, from the evaluation at step 2,000, in the target's units.
  const reg = await trainTo2000(page)
  const finalR2 = await shownTestR2(page)
  const bestR2 = await num(reg, 'data-best-test-r2')
  const rmse = Number(await page.getByTestId('status-rmse-test').textContent())
  console.log(`regression.spec.ts: diabetes, 2×32 relu, at step 2000: test R² ${finalR2} (best ${bestR2.toFixed(3)}), RMSE ${rmse}`)
  // With the default L2 this net no longer overfits its 309 rows by step 2,000 either.
  expect(finalR2).toBeGreaterThanOrEqual(0.3)
  expect(rmse).toBeGreaterThan(20) // the target's units (σ ≈ 77), not standard deviations
  if (bestR2 > finalR2 + 5e-4) await expect(page.getByTestId('status-best-r2')).toContainText(`best test R² ${bestR2.toFixed(3)}`)

  // The R² chart stands where accuracy does for classification; the loss chart names its units.
  await expect(page.getByTestId('accuracy-chart')).toHaveCount(0)
  await expect.poll(() => num(page.getByTestId('regression-chart'), 'data-points')).toBeGreaterThan(10)
  await expect(page.getByTestId('loss-units')).toContainText("MSE in the target's units²")

  // Predicted vs actual (in the target's units) with the residual histogram.
  const panel = page.getByTestId('predictions-panel')
  await expect(panel).toBeVisible()
  await expect(panel).toHaveAttribute('data-step', '2000', { timeout: 15_000 })
  await expect.poll(() => num(page.getByTestId('residual-histogram'), 'data-rows')).toBeGreaterThan(100)
})
