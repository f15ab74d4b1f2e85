// Serve mode in Chromium, real engine host, real files: Fashion-MNIST's training pair with its t10k
// pair as the test split (the .gz files as Debian's dataset-fashion-mnist ships them) previews as a
// sample grid named T-shirt/top, Trouser, …, trains a few hundred steps, and the saliency gallery
// shows test images beside their ∂loss/∂input and ∂logit/∂input maps; the 10-class confusion
// matrix shows column 9 at 1440 px. Digits previews as a grid too, and a 100-class IDX set's matrix
// scrolls to its last column instead of clipping it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const FASHION = '/usr/share/datasets/fashion-mnist'
const FASHION_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
const SCREENSHOT_DIR = 'test-results/screenshots'
const stepOf = async (page: Page) => Number(await page.getByTestId('status-step').getAttribute('data-value'))

async function open(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
  const toggle = page.getByTestId('section-toggle-data')
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
}

/** Upload one file into an upload field and wait for the host's dims line. */
async function upload(page: Page, field: string, path: string, dims: string, dimsLine: string): Promise<void> {
  await page.getByTestId(field).setInputFiles(path)
  await expect(page.getByTestId(dimsLine)).toContainText(dims, { timeout: 180_000 })
}

/** A uint8 IDX file (big-endian dims). */
function idx(shape: number[], values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(4 + 4 * shape.length + values.length)
  out[2] = 0x08
  out[3] = shape.length
  shape.forEach((d, k) => out.writeUInt32BE(d, 4 + 4 * k))
  Buffer.from(Uint8Array.from(values)).copy(out, 4 + 4 * shape.length)
  return out
}

test.describe('image data', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test('Fashion-MNIST train + t10k: sample grid with class names, training, saliency gallery, confusion matrix to column 9', async ({
    page,
  }) => {
    test.skip(!existsSync(`${FASHION}/t10k-images-idx3-ubyte.gz`), `${FASHION} is missing: apt-get install dataset-fashion-mnist`)
    // The 26 MB training images go up as base64 chunks (slow on a loaded 2-core machine).
    test.setTimeout(540_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await open(page)
    await page.getByTestId('source-idx').click()
    await upload(page, 'idx-images', `${FASHION}/train-images-idx3-ubyte.gz`, '60000 × 28 × 28', 'idx-images-dims')
    await upload(page, 'idx-labels', `${FASHION}/train-labels-idx1-ubyte.gz`, '60000', 'idx-labels-dims')
    await page.getByText('Test split from a second pair').click()
    await upload(page, 'idx-test-images', `${FASHION}/t10k-images-idx3-ubyte.gz`, '10000 × 28 × 28', 'idx-test-images-dims')
    await upload(page, 'idx-test-labels', `${FASHION}/t10k-labels-idx1-ubyte.gz`, '10000', 'idx-test-labels-dims')
    await expect(page.getByTestId('source-idx')).toHaveAttribute('data-in-use', 'true')
    // Fewer training rows keep the test quick; the test split is t10k's first 3000.
    await page.getByTestId('idx-limit').fill('3000')

    const grid = page.getByTestId('image-preview')
    await expect(grid).toBeVisible({ timeout: 30_000 })
    await expect(grid).toHaveAttribute('data-classes', '10')
    await expect(grid).toHaveAttribute('data-samples', '80')
    await expect(page.getByTestId('image-class-name')).toHaveText(FASHION_NAMES)
    await expect(page.getByTestId('class-names-guess')).toContainText('Fashion-MNIST')
    await expect(page.getByTestId('data-description')).toContainText('test split: the first 3000 of "t10k-images-idx3-ubyte"', {
      timeout: 60_000,
    })
    await expect(page.getByTestId('shape-summary')).toHaveText(/^in 784 → /, { timeout: 30_000 })
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
    await grid.screenshot({ path: `${SCREENSHOT_DIR}/image-data-grid.png` })

    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1', { timeout: 30_000 })
    await page.getByTestId('play-button').click()
    await expect.poll(() => stepOf(page), { timeout: 120_000 }).toBeGreaterThan(300)
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')

    // The gallery: wrong and right examples, each an image and two maps, at a step of this run.
    const gallery = page.getByTestId('saliency-gallery')
    await expect(gallery).toBeVisible({ timeout: 30_000 })
    await expect.poll(async () => Number(await gallery.getAttribute('data-step')), { timeout: 30_000 }).toBeGreaterThan(300)
    const examples = gallery.getByTestId('saliency-example')
    await expect(examples).toHaveCount(8)
    await expect(gallery.locator('[data-kind="wrong"]')).toHaveCount(4)
    await expect(gallery.locator('[data-kind="right"]')).toHaveCount(4)
    await expect(examples.first().locator('canvas')).toHaveCount(3)
    // A map is drawn (its canvas holds the image's 28×28 pixels) and names classes by name.
    await expect(examples.first().getByTestId('saliency-loss-map')).toHaveJSProperty('width', 28)
    await expect(examples.first().locator('figcaption')).toContainText(
      new RegExp(FASHION_NAMES.map((n) => n.replace('/', '\\/')).join('|')),
    )
    await gallery.scrollIntoViewIfNeeded()
    await gallery.screenshot({ path: `${SCREENSHOT_DIR}/image-data-saliency.png` })

    // The 10-class matrix at 1440 px: column 9 inside the matrix's box without scrolling.
    const matrix = page.getByTestId('confusion-matrix')
    await expect(matrix).toHaveAttribute('data-classes', '10', { timeout: 15_000 })
    const box = await page.getByTestId('confusion-scroll').boundingBox()
    const col9 = await page.getByTestId('confusion-col').nth(9).boundingBox()
    const scale = await page.getByTestId('confusion-scroll').getAttribute('data-scale')
    expect(
      col9!.x + col9!.width,
      `column 9 ${JSON.stringify(col9)} in the box ${JSON.stringify(box)} at scale ${scale}`,
    ).toBeLessThanOrEqual(box!.x + box!.width + 0.5)
    await expect(matrix.locator('tbody th').first()).toContainText('T-shirt/top')
    await page.getByTestId('predictions-panel').screenshot({ path: `${SCREENSHOT_DIR}/image-data-confusion.png` })
    expect(problems).toEqual([])
  })

  test('Digits previews as a sample grid per class with its pixel mean', async ({ page }) => {
    await open(page)
    await page.getByTestId('source-bundled').click()
    await page.getByTestId('bundled-digits').click()
    const grid = page.getByTestId('image-preview')
    await expect(grid).toBeVisible({ timeout: 15_000 })
    await expect(grid).toHaveAttribute('data-classes', '10')
    await expect(page.getByTestId('image-class-name')).toHaveText(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    await expect(grid.getByRole('img', { name: 'Pixel mean of the training rows' })).toBeVisible()
    await expect(page.getByTestId('dataset-preview')).toHaveCount(0)
  })

  test('100 classes: the confusion matrix scales, then scrolls to its last column, never clipping it', async ({ page }) => {
    test.setTimeout(120_000)
    const n = 1000
    const dir = 'test-results/image-data'
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      `${dir}/c100-images-idx3-ubyte`,
      idx(
        [n, 4, 4],
        Array.from({ length: n * 16 }, (_, j) => (j * 37) % 256),
      ),
    )
    writeFileSync(
      `${dir}/c100-labels-idx1-ubyte`,
      idx(
        [n],
        Array.from({ length: n }, (_, i) => i % 100),
      ),
    )
    await open(page)
    await page.getByTestId('source-idx').click()
    await upload(page, 'idx-images', `${dir}/c100-images-idx3-ubyte`, '1000 × 4 × 4', 'idx-images-dims')
    await upload(page, 'idx-labels', `${dir}/c100-labels-idx1-ubyte`, '1000', 'idx-labels-dims')
    await expect(page.getByTestId('image-preview')).toHaveAttribute('data-classes', '100', { timeout: 30_000 })
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1', { timeout: 30_000 })
    const matrix = page.getByTestId('confusion-matrix')
    await expect(matrix).toHaveAttribute('data-classes', '100', { timeout: 15_000 })
    await expect(matrix.locator('tbody tr')).toHaveCount(100)
    const scroll = page.getByTestId('confusion-scroll')
    expect(Number(await scroll.getAttribute('data-scale'))).toBeLessThan(1)
    const last = page.getByTestId('confusion-col').nth(99)
    await last.scrollIntoViewIfNeeded()
    await expect(last).toBeInViewport()
    const box = await scroll.boundingBox()
    const col = await last.boundingBox()
    expect(box && col && col.x >= box.x - 0.5 && col.x + col.width <= box.x + box.width + 0.5).toBe(true)
  })
})
