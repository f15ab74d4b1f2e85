// Serve mode in Chromium, real engine host: a 16 × 1024 ReLU network (15.7M parameters, Adam,
// batch 32) stays interactive. Pause is acknowledged within a second in the test's own clock
// (the figures are printed: when the UI shows it, and when the host confirms it), and the network
// view draws a sample of each wide layer, says so, and its headers never overlap.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))
const WIDTH = 1024
const LAYERS = 16
// 2·1024+1024 + 15·(1024·1024+1024) + 1024·2+2
const PARAMS = 3 * WIDTH + (LAYERS - 1) * (WIDTH * WIDTH + WIDTH) + 2 * WIDTH + 2

async function buildBigModel(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-moons').click()
  const layers = page.locator('[data-testid^="layer-width-"]')
  while ((await layers.count()) > LAYERS) await page.getByTestId('remove-layer-0').click()
  while ((await layers.count()) < LAYERS) await page.getByTestId('add-layer').click()
  for (let i = 0; i < LAYERS; i++) await page.getByTestId(`layer-width-${i}`).fill(String(WIDTH))
  await page.getByTestId('activation-select').selectOption('relu')
  await page.getByTestId('optimizer-select').selectOption('adam')
  // Adam at 0.001, as the model and the bench's: at the default 0.01 the second step's
  // gradients explode (layers.16 norm 4.2e+06) and the alarm pauses the run before Pause is pressed,
  // now that a step runs in pieces over its whole batch and the second one comes quickly.
  await page.getByTestId('lr-input').fill('0.001')
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', String(PARAMS), { timeout: 90_000 })
}

test.describe('a 16 × 1024 model stays interactive', () => {
  test.use({ viewport: { width: 1440, height: 900 } })
  // Building a 15.7M-parameter model and taking its first steps is slow on a shared 2-core machine.
  test.describe.configure({ timeout: 420_000 })

  test('Pause is acknowledged within a second while it trains; the network view samples wide layers without overlapping headers', async ({
    page,
  }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await buildBigModel(page)

    await page.getByTestId('play-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('running', { timeout: 60_000 })
    // Past the first step, so the next one is in progress when Pause is pressed.
    await expect.poll(() => num(page.getByTestId('status-step'), 'data-value'), { timeout: 200_000 }).toBeGreaterThanOrEqual(1)

    // When the pill changes, on the wall clock the test reads too (the page's timeOrigin + now): a
    // MutationObserver notes it at once, where polling from the test would add its own round trips.
    // (A script in the page: the e2e typecheck has no DOM types.)
    await page.evaluate(`(() => {
      const pill = document.querySelector('[data-testid="session-status"]')
      const now = () => performance.timeOrigin + performance.now()
      new MutationObserver(() => {
        const text = pill.textContent.trim()
        if (/^paus/.test(text)) window.shownAt ??= now()
        if (text === 'paused') window.pausedAt ??= now()
      }).observe(pill, { childList: true, characterData: true, subtree: true })
    })()`)
    const t0 = Date.now()
    await page.getByTestId('pause-button').click()
    const clickMs = Date.now() - t0
    await expect(page.getByTestId('session-status')).toHaveText('paused', { timeout: 60_000 })
    const seenMs = Date.now() - t0
    const at = (await page.evaluate('({ shownAt: window.shownAt ?? NaN, pausedAt: window.pausedAt ?? NaN })')) as {
      shownAt: number
      pausedAt: number
    }
    const shownMs = Math.round(at.shownAt - t0)
    const confirmedMs = Math.round(at.pausedAt - t0)
    console.log(
      `big model (16×1024): Pause shown after ${shownMs} ms, confirmed by the host after ${confirmedMs} ms ` +
        `(the test's click returned after ${clickMs} ms; its polling saw "paused" after ${seenMs} ms)`,
    )
    expect(shownMs).toBeLessThanOrEqual(1000)
    expect(confirmedMs).toBeLessThanOrEqual(10_000)
    const pausedAt = await num(page.getByTestId('status-step'), 'data-value')

    // The network view: drawn within a generous bound, a sample of each wide layer, said on screen.
    // Timed in the page as a user sees it, from the click on the tab to the first drawn frame (a
    // MutationObserver on the canvas's draw count), and in the test's clock, which adds the
    // click's and the polling's round trips.
    await page.evaluate(`(() => {
      const now = () => performance.timeOrigin + performance.now()
      document.querySelector('[data-testid="tab-network"]').addEventListener('click', () => (window.networkClickAt ??= now()), { capture: true })
      new MutationObserver(() => {
        const c = document.querySelector('[data-testid="network-canvas"]')
        if (c && Number(c.getAttribute('data-draws')) > 0) window.networkDrawnAt ??= now()
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-draws'] })
    })()`)
    const n0 = Date.now()
    await page.getByTestId('tab-network').click()
    const canvas = page.getByTestId('network-canvas')
    await expect(canvas).toHaveAttribute('data-draws', /[1-9]/, { timeout: 30_000 })
    const drawnMs = Date.now() - n0
    const inPage = (await page.evaluate('window.networkDrawnAt - window.networkClickAt')) as number
    console.log(
      `big model (16×1024): network view drawn ${Math.round(inPage)} ms after the click, in the page ` +
        `(the test saw it after ${drawnMs} ms; the frame took ${await canvas.getAttribute('data-draw-ms')} ms)`,
    )
    expect(inPage).toBeGreaterThan(0)
    expect(inPage).toBeLessThanOrEqual(5_000)
    await expect(page.getByTestId('neuron-sample')).toContainText('showing 64 of 1,024 neurons')
    await expect(canvas).toHaveAttribute('data-neurons', String(2 + LAYERS * 64 + 2))
    await expect(page.getByTestId('network-view')).toHaveAttribute('data-step', String(pausedAt))

    // No two headers in a row overlap.
    for (const prefix of ['column-header-', 'layer-header-']) {
      const boxes = await page.locator(`[data-testid^="${prefix}"]`).evaluateAll((els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect()
          return { left: r.left, right: r.right }
        }),
      )
      expect(boxes.length).toBe(prefix === 'column-header-' ? LAYERS + 2 : LAYERS + 1)
      const sorted = boxes.sort((a, b) => a.left - b.left)
      for (let i = 1; i < sorted.length; i++)
        expect(sorted[i]!.left, `${prefix}${i} overlaps the one before`).toBeGreaterThanOrEqual(sorted[i - 1]!.right)
    }
    expect(problems).toEqual([])
    // Close the page and let the server's grace period (--resume-grace 4 in the e2e server) pass,
    // so the host has dropped the big session before the next spec's sessions queue behind it.
    await page.close()
    await new Promise((r) => setTimeout(r, 6_000))
  })
})
