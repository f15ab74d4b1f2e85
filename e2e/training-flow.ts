// The training flow both e2e targets run (serve mode in Chromium, the Electron app): pick the
// spiral and a 2-hidden-layer network, train, and check that the loss falls, the charts fill,
// and Pause / Step / Reset do exactly what they say. Returns the page ready for a screenshot.
import { expect, type Locator, type Page } from '@playwright/test'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))

export interface FlowChecks {
  /** Called while paused with both charts full, e.g. to take the screenshot. */
  whilePaused?: (page: Page) => Promise<void>
}

export async function runTrainingFlow(page: Page, checks: FlowChecks = {}): Promise<void> {
  const step = page.getByTestId('status-step')
  const status = page.getByTestId('session-status')
  const loss = page.getByTestId('latest-loss')
  const lossChart = page.getByTestId('loss-chart')
  const gradChart = page.getByTestId('grad-chart')

  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)

  // The spiral, and exactly two hidden layers of 10 (2→10→10→2: 30 + 110 + 22 parameters).
  await page.getByTestId('generator-spiral').click()
  await expect(page.getByTestId('generator-spiral')).toHaveAttribute('aria-checked', 'true')
  while ((await page.locator('[data-testid^="layer-width-"]').count()) > 2) await page.getByTestId('remove-layer-0').click()
  while ((await page.locator('[data-testid^="layer-width-"]').count()) < 2) await page.getByTestId('add-layer').click()
  await page.getByTestId('layer-width-0').fill('10')
  await page.getByTestId('layer-width-1').fill('10')
  await page.getByTestId('lr-input').fill('0.02')
  await expect(page.getByTestId('param-count')).toContainText('162 parameters', { timeout: 15_000 })
  await expect(status).toHaveText('idle')
  await expect(step).toHaveAttribute('data-value', '0')
  await expect(lossChart).toHaveAttribute('data-points', '0')

  // One step first: it evaluates step 0 (the untrained loss) and puts the first points down.
  await page.getByTestId('step-button').click()
  await expect(step).toHaveAttribute('data-value', '1')
  await expect.poll(() => num(lossChart, 'data-points')).toBeGreaterThan(0)
  await expect.poll(() => num(gradChart, 'data-points')).toBeGreaterThan(0)
  const firstLossPoints = await num(lossChart, 'data-points')
  const firstGradPoints = await num(gradChart, 'data-points')
  const initialLoss = await num(loss, 'data-value')
  expect(initialLoss).toBeGreaterThan(0.3) // about ln 2 for an untrained 2-class network

  await page.getByTestId('play-button').click()
  await expect(status).toHaveText('running')
  await expect
    .poll(() => num(loss, 'data-value'), { timeout: 60_000, message: 'the train loss falls below 30% of its starting value' })
    .toBeLessThan(initialLoss * 0.3)
  await expect.poll(() => num(lossChart, 'data-points')).toBeGreaterThan(firstLossPoints)
  await expect.poll(() => num(gradChart, 'data-points')).toBeGreaterThan(firstGradPoints)
  expect(await num(step, 'data-value')).toBeGreaterThan(50)

  // Pause stops the counter, and Step advances exactly one step and stays there. Checked by the
  // host's own answers, not by watching for a while: a step request is answered with the count it
  // reached, so pausedAt + 1, then pausedAt + 2, means nothing ran between the requests.
  await page.getByTestId('pause-button').click()
  await expect(status).toHaveText('paused')
  const pausedAt = await num(step, 'data-value')
  await checks.whilePaused?.(page)
  await page.getByTestId('step-button').click()
  await expect(step).toHaveAttribute('data-value', String(pausedAt + 1))
  await expect(status).toHaveText('paused')
  await page.getByTestId('step-button').click()
  await expect(step).toHaveAttribute('data-value', String(pausedAt + 2))
  await expect(status).toHaveText('paused')

  // Reset goes back to step 0 with empty charts.
  await page.getByTestId('reset-button').click()
  await expect(step).toHaveAttribute('data-value', '0')
  await expect(status).toHaveText('idle')
  await expect(lossChart).toHaveAttribute('data-points', '0')
  await expect(gradChart).toHaveAttribute('data-points', '0')
  await expect(loss).toHaveText('—')
}
