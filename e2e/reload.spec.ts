// Serve mode in Chromium: reloading loses nothing. A page reloaded while training re-attaches to
// its running session (the same one, not a new one) and shows its step, status and charts.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))
const remembered = (page: Page) => page.evaluate<{ sessionId: string }>("JSON.parse(sessionStorage.getItem('bps.session') ?? 'null')")

test('reload at step N → the page shows step ≥ N, running, charts non-empty', async ({ page }) => {
  test.setTimeout(120_000)
  const step = page.getByTestId('status-step')
  const status = page.getByTestId('session-status')
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-moons').click()
  await expect(page.getByTestId('generator-moons')).toHaveAttribute('aria-checked', 'true')
  await page.getByTestId('play-button').click()
  await expect(status).toHaveText('running')
  await expect.poll(() => num(step, 'data-value'), { timeout: 30_000 }).toBeGreaterThan(300)
  const before = await remembered(page)
  const n = await num(step, 'data-value')

  await page.reload()
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(status).toHaveText('running', { timeout: 15_000 })
  await expect.poll(() => num(step, 'data-value')).toBeGreaterThanOrEqual(n)
  await expect(page.getByTestId('generator-moons')).toHaveAttribute('aria-checked', 'true')
  await expect.poll(() => num(page.getByTestId('loss-chart'), 'data-points')).toBeGreaterThan(0)
  await expect.poll(() => num(page.getByTestId('grad-chart'), 'data-points')).toBeGreaterThan(0)
  // The same session, not a new one that happens to run.
  expect((await remembered(page)).sessionId).toBe(before.sessionId)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', before.sessionId)
  await page.getByTestId('pause-button').click()
  await expect(status).toHaveText('paused')
})

test('a second tab continues the running session; closing the first leaves it running there', async ({ page, context }) => {
  test.setTimeout(180_000)
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-circle').click()
  await expect(page.getByTestId('generator-circle')).toHaveAttribute('aria-checked', 'true')
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running', { timeout: 15_000 })
  await expect.poll(() => num(page.getByTestId('status-step'), 'data-value'), { timeout: 30_000 }).toBeGreaterThan(100)
  const first = await remembered(page)
  const n = await num(page.getByTestId('status-step'), 'data-value')

  // A new tab of the same browser, opened at the plain address: the same session, its history shown.
  const second = await context.newPage()
  await second.goto(appPath())
  await expect(second.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(second.getByTestId('param-count')).toHaveAttribute('data-session', first.sessionId, { timeout: 15_000 })
  await expect(second.getByTestId('session-status')).toHaveText('running', { timeout: 15_000 })
  await expect(second.getByTestId('generator-circle')).toHaveAttribute('aria-checked', 'true')
  await expect.poll(() => num(second.getByTestId('status-step'), 'data-value'), { timeout: 30_000 }).toBeGreaterThanOrEqual(n)
  await expect.poll(() => num(second.getByTestId('loss-chart'), 'data-points'), { timeout: 30_000 }).toBeGreaterThan(0)

  // Either tab drives it: a pause in the second shows in the first.
  await second.getByTestId('pause-button').click()
  await expect(second.getByTestId('session-status')).toHaveText('paused', { timeout: 15_000 })
  await expect(page.getByTestId('session-status')).toHaveText('paused', { timeout: 15_000 })
  await page.getByTestId('play-button').click()
  await expect(second.getByTestId('session-status')).toHaveText('running', { timeout: 15_000 })

  // The first tab closes (past the server's grace for a reload): the second keeps the session, still training.
  await page.close()
  await second.waitForTimeout(5_000)
  const m = await num(second.getByTestId('status-step'), 'data-value')
  await expect.poll(() => num(second.getByTestId('status-step'), 'data-value'), { timeout: 30_000 }).toBeGreaterThan(m)
  await expect(second.getByTestId('error-banner')).toHaveCount(0)
  await second.getByTestId('pause-button').click()
  await expect(second.getByTestId('session-status')).toHaveText('paused', { timeout: 15_000 })
})
