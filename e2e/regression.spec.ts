// Serve mode in Chromium: regression done right on a real table. The diabetes CSV (442 patients,
// target 25–346; e2e/fixtures/diabetes.md) with the studio's defaults (the target standardised
// with the training rows' statistics) and a 2×32 relu network under Adam 0.003 trains 2,000 steps
// without an alarm; the status line and the R² chart show R², RMSE and MAE in the target's units,
// and the predictions panel shows predicted vs actual with the residual histogram.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))

async function openSection(page: Page, id: string): Promise<void> {
  const toggle = page.getByTestId(`section-toggle-${id}`)
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
}

test('diabetes CSV: 2,000 steps with default settings, no alarm, R² on test shown', async ({ page }) => {
  test.setTimeout(240_000)
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })

  await page.getByTestId('source-csv').click()
  await page.getByTestId('csv-file').setInputFiles('e2e/fixtures/diabetes.csv')
  await expect(page.getByTestId('csv-summary')).toContainText('diabetes.csv', { timeout: 15_000 })
  await expect(page.getByTestId('csv-target')).toHaveValue('progression')
  // The default: the target trains standardised.
  await expect(page.getByTestId('csv-standardize-target')).toBeChecked()

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
  // Stop by itself at exactly 2,000 steps (a stop condition, not a training setting).
  await openSection(page, 'stopping')
  await page.getByTestId('max-steps-toggle').check()
  await page.getByTestId('max-steps').fill('2000')

  await page.getByTestId('play-button').click()
  const step = page.getByTestId('status-step')
  await expect(step).toHaveAttribute('data-value', '2000', { timeout: 180_000 })
  await expect(page.getByTestId('session-status')).toHaveText('paused')
  await expect(page.getByTestId('alarm-list')).toHaveAttribute('data-count', '0')
  await expect(page.getByTestId('alarm-banner')).toHaveCount(0)

  // R², RMSE and MAE in the status line, from the evaluation at step 2,000, in the target's units.
  const reg = page.getByTestId('status-regression')
  await expect(reg).toHaveAttribute('data-step', '2000', { timeout: 15_000 })
  const finalR2 = await num(reg, 'data-test-r2')
  const bestR2 = await num(reg, 'data-best-test-r2')
  const rmse = Number(await page.getByTestId('status-rmse-test').textContent())
  console.log(`regression.spec.ts: diabetes at step 2000: test R² ${finalR2.toFixed(3)} (best ${bestR2.toFixed(3)}), RMSE ${rmse}`)
  expect(bestR2).toBeGreaterThanOrEqual(0.3)
  expect(rmse).toBeGreaterThan(20) // the target's units (σ ≈ 77), not standard deviations
  await expect(page.getByTestId('status-r2-test')).toHaveText(/^-?\d\.\d{3}$/)
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
