// Serve mode in Chromium: an experiment is a link. A non-default configuration, copied with "Copy
// link" and opened in a fresh browser context (no shared storage), comes back identical, and the
// same number of steps with the same seed gives the identical loss in both pages.
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const STEPS = 5

async function connected(page: Page): Promise<void> {
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
}

async function openSection(page: Page, id: string): Promise<void> {
  const toggle = page.getByTestId(`section-toggle-${id}`)
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
}

/** Step STEPS times (each answered with the count it reached) and return the shown train loss. */
async function lossAfterSteps(page: Page): Promise<string> {
  for (let i = 1; i <= STEPS; i++) {
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(i), { timeout: 15_000 })
  }
  const loss = page.getByTestId('latest-loss')
  await expect(loss).not.toHaveText('—')
  return (await loss.getAttribute('data-value'))!
}

/** What the setup column shows for the settings the test changed. */
async function shownConfig(page: Page) {
  await openSection(page, 'backend')
  return {
    moons: await page.getByTestId('generator-moons').getAttribute('aria-checked'),
    x1sq: await page.getByTestId('feature-x1sq').getAttribute('aria-pressed'),
    layers: await page.locator('[data-testid^="layer-width-"]').count(),
    widths: [await page.getByTestId('layer-width-0').inputValue(), await page.getByTestId('layer-width-1').inputValue()],
    activation: await page.getByTestId('layer-activation-0').inputValue(),
    optimizer: await page.getByTestId('optimizer-select').inputValue(),
    lr: await page.getByTestId('lr-input').inputValue(),
    cpu: await page.getByTestId('backend-cpu').getAttribute('aria-checked'),
    params: await page.getByTestId('param-count').textContent(),
  }
}

test('copy link → fresh page: the identical configuration, and the identical loss after the same steps', async ({ page, browser }) => {
  // Two pages and two sessions on a shared two-core machine: more than the default 30 s, never a wait on time.
  test.setTimeout(120_000)
  await page.goto(appPath())
  await connected(page)
  await page.getByTestId('generator-moons').click()
  const x1sq = page.getByTestId('feature-x1sq')
  if ((await x1sq.getAttribute('aria-pressed')) !== 'true') await x1sq.click()
  await expect(page.locator('[data-testid^="layer-width-"]')).toHaveCount(2)
  await page.getByTestId('layer-width-0').fill('5')
  await page.getByTestId('layer-width-1').fill('3')
  await page.getByTestId('layer-activation-0').selectOption('relu')
  await page.getByTestId('optimizer-select').selectOption('sgd')
  await page.getByTestId('lr-input').fill('0.07')
  await openSection(page, 'backend')
  await page.getByTestId('backend-cpu').click()
  await expect(page.getByTestId('backend-chosen')).toContainText('Running on CPU', { timeout: 15_000 })
  const config = await shownConfig(page)
  expect(config).toMatchObject({
    moons: 'true',
    x1sq: 'true',
    layers: 2,
    widths: ['5', '3'],
    activation: 'relu',
    optimizer: 'sgd',
    lr: '0.07',
    cpu: 'true',
  })

  await page.getByTestId('copy-link').click()
  const link = await page.getByTestId('link-url').inputValue()
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#x=3\.[A-Za-z0-9_-]+$/)
  // The address bar carries the same experiment.
  await expect.poll(() => page.evaluate<string>('location.hash')).toBe(new URL(link).hash)
  const loss = await lossAfterSteps(page)

  // A fresh context shares no cookie or storage with the first page: it opens with the token, as a
  // colleague given the server's address would.
  const context = await browser.newContext()
  const fresh = await context.newPage()
  await fresh.goto(`${appPath()}${new URL(link).hash}`)
  await connected(fresh)
  await expect(fresh.getByTestId('backend-chosen')).toContainText('Running on CPU', { timeout: 15_000 })
  expect(await shownConfig(fresh)).toEqual(config)
  // The form it rebuilt writes back exactly the link it was opened with.
  await expect.poll(() => fresh.evaluate<string>('location.hash')).toBe(new URL(link).hash)
  await expect(fresh.getByTestId('error-banner')).toHaveCount(0)
  expect(await lossAfterSteps(fresh)).toBe(loss)
  await context.close()
})

test('a damaged link opens with a clear message and the studio still works', async ({ page }) => {
  await page.goto(`${appPath()}#x=1.not*base64`)
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('error-banner')).toContainText('The link is damaged')
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
})
