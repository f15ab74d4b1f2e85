// Serve mode in Chromium: every neuron of the network view draws its map over the input plane, as
// TensorFlow Playground does. A generator dataset and two hidden layers: one thumbnail per neuron,
// and the maps change as the network trains; 8 layers × 8 units: all mapped (the frame's draw time
// is logged, never asserted); a layer of 1024: a sample of its units, labelled.
import { mkdirSync } from 'node:fs'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const SHOTS = 'test-results/screenshots'
const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))

/** The xor generator with the given hidden widths (tanh), ready to train: the parameter count says the edit landed. */
async function setUp(page: Page, widths: number[], params: number): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-xor').click()
  const layers = page.locator('[data-testid^="layer-width-"]')
  while ((await layers.count()) > widths.length) await page.getByTestId('remove-layer-0').click()
  while ((await layers.count()) < widths.length) await page.getByTestId('add-layer').click()
  for (const [i, w] of widths.entries()) await page.getByTestId(`layer-width-${i}`).fill(String(w))
  await page.getByTestId('activation-select').selectOption('tanh')
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', String(params), { timeout: 15_000 })
}

/** Steps once from the studio and opens the network view at that step, its maps drawn. */
async function stepAndShow(page: Page, step: number): Promise<Locator> {
  await page.getByTestId('tab-studio').click()
  await page.getByTestId('step-button').click()
  await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(step))
  await page.getByTestId('tab-network').click()
  const canvas = page.getByTestId('network-canvas')
  await expect(canvas).toHaveAttribute('data-maps-step', String(step), { timeout: 15_000 })
  return canvas
}

test.describe('neuron maps in the network view', () => {
  test.use({ viewport: { width: 1440, height: 900 } })
  // Setting up a model through the form and training it takes a while on a shared, busy machine.
  test.describe.configure({ timeout: 120_000 })

  test('a map in every neuron that follows training; the clicked neuron still gets its large map', async ({ page }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))
    // 2 → 6 → 4 → 2: 18 + 28 + 10 parameters, 14 neurons.
    await setUp(page, [6, 4], 56)
    const canvas = await stepAndShow(page, 1)
    await expect(canvas).toHaveAttribute('data-neurons', '14')
    await expect(canvas).toHaveAttribute('data-maps', '14')
    await expect(page.locator('[data-testid^="maps-sample-"]')).toHaveCount(0)
    await expect(page.getByTestId('neuron-maps-note')).toHaveCount(0)
    const before = await canvas.getAttribute('data-maps-signature')
    expect(before).toBeTruthy()

    // Train a little: the maps that come back are of the new step, and differ.
    await page.getByTestId('tab-studio').click()
    await page.getByTestId('play-button').click()
    await expect.poll(() => num(page.getByTestId('status-step'), 'data-value')).toBeGreaterThan(100)
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    const paused = await num(page.getByTestId('status-step'), 'data-value')
    await page.getByTestId('tab-network').click()
    await expect(canvas).toHaveAttribute('data-maps-step', String(paused), { timeout: 15_000 })
    await expect(canvas).toHaveAttribute('data-maps', '14')
    expect(await canvas.getAttribute('data-maps-signature')).not.toBe(before)

    // Click-to-inspect still works: the large map of a hidden neuron.
    const anchors = JSON.parse((await canvas.getAttribute('data-anchors')) ?? '[]') as { kind: string; x: number; y: number }[]
    const hidden = anchors.filter((a) => a.kind === 'neuron')[1]!
    const box = (await canvas.boundingBox())!
    await page.mouse.click(box.x + hidden.x, box.y + hidden.y)
    await expect(page.getByTestId('neuron-map')).toHaveAttribute('data-neuron', 'hidden 1 #0')
    await expect(page.getByTestId('neuron-map')).not.toHaveAttribute('data-resolution', '0')
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/neuron-maps.png` })
    expect(problems).toEqual([])
  })

  test('8 hidden layers of 8: every one of the 68 neurons mapped (draw time logged)', async ({ page }) => {
    // 2·8+8 + 7·(8·8+8) + 8·2+2 = 24 + 504 + 18 parameters.
    await setUp(page, [8, 8, 8, 8, 8, 8, 8, 8], 546)
    const canvas = await stepAndShow(page, 1)
    await expect(canvas).toHaveAttribute('data-neurons', '68')
    await expect(canvas).toHaveAttribute('data-maps', '68')
    // Frame time (network + thumbnails, performance.now() in the page): redraws by switching the
    // neurons' colouring, each waited on through the draw counter.
    const times: number[] = []
    for (let i = 0; i < 10; i++) {
      const draws = await num(canvas, 'data-draws')
      await page.getByTestId('node-mode-toggle').click()
      await expect.poll(() => num(canvas, 'data-draws')).toBeGreaterThan(draws)
      times.push(await num(canvas, 'data-draw-ms'))
    }
    times.sort((a, b) => a - b)
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/neuron-maps-8x8.png` })
    console.log(`neuron maps, 8×8 network, ms per frame: median ${times[5]}, max ${times[9]} (${times.join(', ')})`)
  })

  test('a layer of 1024 units shows maps for an even sample, and says so', async ({ page }) => {
    // 2·1024+1024 + 1024·4+4 + 4·2+2 parameters.
    await setUp(page, [1024, 4], 7182)
    const canvas = await stepAndShow(page, 1)
    await expect(page.getByTestId('maps-sample-1')).toHaveText('maps for 8 of 1024 units')
    // The column draws an even sample of 64 of its 1024 units (the toolbar says so).
    await expect(canvas).toHaveAttribute('data-neurons', String(2 + 64 + 4 + 2))
    await expect(page.getByTestId('neuron-sample')).toContainText('showing 64 of 1,024 neurons')
    await expect(canvas).toHaveAttribute('data-maps', String(2 + 8 + 4 + 2))
    await expect(page.locator('[data-testid^="maps-sample-"]')).toHaveCount(1)
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/neuron-maps-wide.png` })
  })
})
