// Feedback the Studio gives while settings are edited and training runs: a fixed invalid field
// lets the waiting rebuild happen (no "Rebuilding…" left behind with an old banner), and a log
// loss axis inside one decade still has tick labels.
import { expect, test } from '@playwright/test'
import { appPath } from './serve-token'

test.describe('studio feedback', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test.beforeEach(async ({ page }) => {
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(page.getByTestId('param-count')).toContainText('parameters')
  })

  test('fixing an invalid lr after changing the optimiser rebuilds and clears the banner', async ({ page }) => {
    const banner = page.getByTestId('error-banner')
    await page.getByTestId('lr-input').fill('50')
    await expect(banner).toContainText('Learning rate must be at most 10 (it is 50)')
    await page.getByTestId('optimizer-select').selectOption('sgd')
    await expect(page.getByTestId('rebuild-blocked')).toBeVisible()
    await page.getByTestId('lr-input').fill('0.1')
    // The optimiser change that waited for the fix is applied: nothing pending, no stale banner.
    await expect(page.getByTestId('rebuild-pending')).toHaveCount(0)
    await expect(page.getByTestId('rebuild-blocked')).toHaveCount(0)
    await expect(banner).toHaveCount(0)
    await expect(page.getByTestId('session-status')).toHaveText('idle')
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
  })

  test('a log loss axis that spans less than a decade still labels its ticks', async ({ page }) => {
    const chart = page.getByTestId('loss-chart')
    for (let i = 1; i <= 3; i++) {
      await page.getByTestId('step-button').click()
      await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(i))
    }
    await page.getByTestId('loss-log-scale').check()
    // An untrained 2-class loss stays near ln 2 ≈ 0.69 over three steps: well inside one decade.
    await expect
      .poll(async () => ((await chart.getAttribute('data-y-ticks')) ?? '').split(' ').filter(Boolean).length)
      .toBeGreaterThanOrEqual(2)
    const labels = ((await chart.getAttribute('data-y-ticks')) ?? '').split(' ').map(Number)
    for (const v of labels) expect(v).toBeGreaterThan(0.1)
  })
})
