// One glance (#15): while training, the loop's essentials fit one laptop screen, and the studio
// uses the width it has without ever overflowing sideways. Screenshots go to
// test-results/screenshots/ for a person to look at.
import { mkdirSync } from 'node:fs'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'
import { OVERFLOW_PROBE } from './overflow-probe'

const SHOTS = 'test-results/screenshots'

async function startTraining(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running')
  await expect.poll(async () => Number(await page.getByTestId('status-step').getAttribute('data-value'))).toBeGreaterThan(20)
}

/** The element's box lies inside the viewport (not scrolled to: the page is where it loads). */
async function expectInViewport(page: Page, l: Locator, name: string): Promise<void> {
  const box = await l.boundingBox()
  const vp = page.viewportSize()!
  expect(box, `${name} is laid out`).not.toBeNull()
  expect(box!.y, `${name} top`).toBeGreaterThanOrEqual(0)
  expect(box!.x, `${name} left`).toBeGreaterThanOrEqual(0)
  expect(box!.y + box!.height, `${name} bottom (viewport ${vp.height})`).toBeLessThanOrEqual(vp.height)
  expect(box!.x + box!.width, `${name} right (viewport ${vp.width})`).toBeLessThanOrEqual(vp.width)
}

/** Elements whose right edge lies beyond the viewport or their card (overflow-probe.ts). */
const overflowing = (page: Page): Promise<string[]> => page.evaluate(OVERFLOW_PROBE)

test.describe('one glance', () => {
  test('at 1440×900 the loss, the gradient heatmap and the decision boundary are on screen while training', async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 })
    await startTraining(page)
    await expect(page.getByTestId('boundary-panel')).toBeVisible()
    await expect(page.getByTestId('grad-heatmap')).toBeVisible()
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThan(0)
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/studio-1440x900.png` })
    await expectInViewport(page, page.getByTestId('loss-chart'), 'loss chart')
    await expectInViewport(page, page.getByTestId('grad-heatmap'), 'gradient heatmap')
    await expectInViewport(page, page.getByTestId('boundary-panel'), 'decision boundary')
    await expectInViewport(page, page.getByTestId('play-button'), 'Play')
    await expectInViewport(page, page.getByTestId('scatter-preview'), 'data preview')
    expect(await page.evaluate('window.scrollY')).toBe(0)
  })

  for (const [width, height] of [
    [1024, 768],
    [1440, 900],
    [1920, 1080],
    [2560, 1440],
  ] as const) {
    test(`nothing overflows sideways at ${width}×${height}`, async ({ page }) => {
      await page.setViewportSize({ width, height })
      await startTraining(page)
      expect(await overflowing(page)).toEqual([])
      if (width === 1920 || width === 1024) {
        mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: `${SHOTS}/studio-${width}x${height}.png` })
        await page.screenshot({ path: `${SHOTS}/studio-${width}x${height}-full.png`, fullPage: true })
      }
    })
  }

  test('compare live sits under the glance, its lanes side by side, nothing sticking out', async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(appPath())
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
    await page.getByTestId('compare-toggle').click()
    await page.getByTestId('compare-start').click()
    const lanes = page.getByTestId('compare-lane')
    await expect(lanes).not.toHaveCount(0)
    const boxes = await Promise.all((await lanes.all()).map((l) => l.boundingBox()))
    expect(new Set(boxes.map((b) => Math.round(b!.y))).size, 'lanes on one row').toBe(1)
    const loss = await page.getByTestId('loss-chart').boundingBox()
    expect((await page.getByTestId('compare-live').boundingBox())!.y).toBeGreaterThan(loss!.y + loss!.height)
    expect(await overflowing(page)).toEqual([])
    await page.getByTestId('compare-live').scrollIntoViewIfNeeded()
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/compare-live-1440x900.png` })
  })
})
