// Serve mode in Chromium: the studio's setup column against the real engine host. A 4-layer model
// with mixed activations (the host's parameter count matches the form's), a bundled dataset, an
// uploaded CSV (target and features chosen, trained), malformed CSVs refused with the row/column
// named while the data in use stays, and live lr/schedule changes that do not reset training.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'
import { wireLog } from './wire-log'

const SCREENSHOT = 'test-results/screenshots/studio-setup.png'
const fixture = (name: string) => `e2e/fixtures/${name}`
const stepOf = async (page: Page) => Number(await page.getByTestId('status-step').getAttribute('data-value'))
const hostCount = (page: Page) => page.getByTestId('param-count').getAttribute('data-host-count')
const sessionOf = (page: Page) => page.getByTestId('param-count').getAttribute('data-session')

async function open(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  // The first session is built (the form's own count shows before that).
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
}

/** Train a few steps with Step, then Play until the counter passes `steps`, then Pause. */
async function trainSome(page: Page, steps: number): Promise<void> {
  await page.getByTestId('step-button').click()
  await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1', { timeout: 15_000 })
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running')
  await expect.poll(() => stepOf(page), { timeout: 30_000 }).toBeGreaterThan(steps)
  await page.getByTestId('pause-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('paused')
}

/** The form's and the host's parameter counts, once they agree. */
async function agreedCount(page: Page): Promise<number> {
  const count = page.getByTestId('param-count')
  await expect
    .poll(
      async () => {
        const [form, host] = [await count.getAttribute('data-form-count'), await count.getAttribute('data-host-count')]
        return form !== '' && form === host ? Number(host) : null
      },
      { timeout: 15_000, message: 'the host builds the network the form describes' },
    )
    .not.toBeNull()
  return Number(await count.getAttribute('data-host-count'))
}

/**
 * The spiral, training at 10 steps/s, a few steps in. Paced because these tests are about
 * continuity, not speed: at full speed on a busy machine the engine and the page's chart updates
 * starve the browser and every action takes seconds (the flake: a test that waited for 100 steps,
 * sampled on a timer and then ran out of time clicking "+ hidden layer").
 */
async function startPaced(page: Page): Promise<void> {
  const wire = wireLog(page)
  await open(page)
  await page.getByTestId('generator-spiral').click()
  await agreedCount(page)
  await page.getByTestId('speed-slider').fill('4')
  await expect(page.getByTestId('speed-value')).toHaveText('10 steps/s')
  // Play does not wait for the slider's debounced update: without this the run starts at full speed.
  await expect.poll(() => wire.updated('maxStepsPerSecond', 10), { message: 'the host applies 10 steps/s' }).toBe(true)
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running')
  await expect.poll(() => stepOf(page), { timeout: 30_000 }).toBeGreaterThan(2)
}

test.describe('studio setup in serve mode', () => {
  test.use({ viewport: { width: 1440, height: 1000 } })

  test('a 4-layer model with mixed activations: the host reports the parameters the form counts', async ({ page }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await open(page)
    await page.getByTestId('generator-spiral').click()
    while ((await page.locator('[data-testid^="layer-width-"]').count()) > 4) await page.getByTestId('remove-layer-0').click()
    while ((await page.locator('[data-testid^="layer-width-"]').count()) < 4) await page.getByTestId('add-layer').click()
    const widths = [12, 10, 8, 6]
    const acts = ['relu', 'tanh', 'gelu', 'leakyRelu']
    for (let i = 0; i < 4; i++) {
      await page.getByTestId(`layer-width-${i}`).fill(String(widths[i]))
      await page.getByTestId(`layer-activation-${i}`).selectOption(acts[i]!)
    }
    // spiral: x1, x2 in; two classes out (auto loss: softmax cross-entropy).
    const expected = 2 * 12 + 12 + 12 * 10 + 10 + 10 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2
    await expect(page.getByTestId('shape-summary')).toHaveText('in 2 → 12 → 10 → 8 → 6 → out 2')
    expect(await agreedCount(page)).toBe(expected)
    await expect(page.getByTestId('param-count')).toContainText(`${expected} parameters`)
    await expect(page.getByTestId('activation-select')).toHaveValue('') // "mixed"
    await expect(page.getByTestId('shape-summary')).toHaveAttribute('data-host-activations', acts.join(','))

    // Reordering is structural too: the same count, a different network.
    await page.getByTestId('move-layer-down-0').click()
    await expect(page.getByTestId('layer-activation-1')).toHaveValue('relu')
    await expect(page.getByTestId('layer-width-1')).toHaveValue('12')
    await expect(page.getByTestId('shape-summary')).toHaveText('in 2 → 10 → 12 → 8 → 6 → out 2')
    await expect(page.getByTestId('shape-summary')).toHaveAttribute('data-host-activations', 'tanh,relu,gelu,leakyRelu', {
      timeout: 15_000,
    })
    expect(await agreedCount(page)).toBe(2 * 10 + 10 + 10 * 12 + 12 + 12 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2)

    // A width over the limit is explained next to the layer and nothing is rebuilt.
    const before = await sessionOf(page)
    await page.getByTestId('layer-width-2').fill('5000')
    await expect(page.getByTestId('layer-issue-2')).toContainText('1024')
    // The rebuild the edit scheduled has run and declined: it says so instead of building.
    await expect(page.getByTestId('error-banner')).toContainText('Check the settings', { timeout: 15_000 })
    expect(await sessionOf(page)).toBe(before)
    await page.getByTestId('layer-width-2').fill('8')
    await expect(page.getByTestId('layer-issue-2')).toHaveCount(0)
    await agreedCount(page)
    expect(problems).toEqual([])
  })

  test('Iris (bundled): preview with named axes, attribution, and a few training steps', async ({ page }) => {
    await open(page)
    await page.getByTestId('source-bundled').click()
    await page.getByTestId('bundled-iris').click()
    await expect(page.getByTestId('source-bundled')).toHaveAttribute('data-in-use', 'true')
    await expect(page.getByTestId('preview-axes')).toContainText('the first two columns of 4', { timeout: 15_000 })
    await expect.poll(async () => Number(await page.getByTestId('dataset-preview').getAttribute('data-points'))).toBeGreaterThan(20)
    await expect(page.getByTestId('data-description')).not.toBeEmpty()
    await expect(page.getByTestId('shape-summary')).toHaveText(/^in 4 → .* → out 3$/)
    // Features are the generators' only: the chips are off for a table.
    await expect(page.getByTestId('feature-x1')).toBeDisabled()
    await agreedCount(page)
    await trainSome(page, 20)
    mkdirSync(dirname(SCREENSHOT), { recursive: true })
    await page.getByTestId('studio-setup').screenshot({ path: SCREENSHOT })
  })

  test('your CSV: upload, see the columns, choose target and features, train', async ({ page }) => {
    await open(page)
    await page.getByTestId('source-csv').click()
    await page.getByTestId('csv-file').setInputFiles(fixture('good.csv'))
    await expect(page.getByTestId('csv-summary')).toContainText('good.csv', { timeout: 15_000 })
    await expect(page.getByTestId('source-csv')).toHaveAttribute('data-in-use', 'true')
    const table = page.getByTestId('csv-columns')
    await expect(table.locator('tbody tr')).toHaveCount(6)
    await expect(table).toContainText('categorical')
    await expect(page.getByTestId('csv-target')).toHaveValue('species')
    // Default features: every numeric column but the target (site is text).
    for (const c of ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
      await expect(page.getByTestId(`csv-feature-${c}`)).toBeChecked()
    await expect(page.getByTestId('csv-feature-site')).not.toBeChecked()
    await expect(page.getByTestId('shape-summary')).toHaveText(/^in 4 → .* → out 3$/, { timeout: 15_000 })

    // Two features only.
    await page.getByTestId('csv-feature-sepal_width').uncheck()
    await page.getByTestId('csv-feature-petal_width').uncheck()
    await expect(page.getByTestId('shape-summary')).toHaveText(/^in 2 → .* → out 3$/, { timeout: 15_000 })
    await agreedCount(page)
    await trainSome(page, 20)

    // Another target: a numeric column makes it regression (one output, MSE).
    await page.getByTestId('reset-button').click()
    await page.getByTestId('csv-target').selectOption('petal_width')
    await page.getByTestId('csv-task').selectOption('regression')
    await expect(page.getByTestId('shape-summary')).toHaveText(/out 1$/, { timeout: 15_000 })
    await expect(page.getByTestId('param-count')).toContainText('mse', { timeout: 15_000 })
    await agreedCount(page)
  })

  test('malformed CSVs are refused with the row or column named; the data in use stays', async ({ page }) => {
    const wire = wireLog(page)
    await open(page)
    await page.getByTestId('source-bundled').click()
    await page.getByTestId('bundled-iris').click()
    const count = await agreedCount(page)
    await page.getByTestId('source-csv').click()

    // Refused at upload (ragged rows, a broken quote, no rows) or when the host first reads the
    // data (a word in a numeric column): the message names the file and the row or column.
    const cases: [string, RegExp][] = [
      ['ragged.csv', /row 7\b/],
      ['header-only.csv', /header row but no data rows/],
      ['empty.csv', /empty/],
      ['setup-quote.csv', /row \d+/],
      ['nonnumeric.csv', /row 17, column "petal_length"/],
    ]
    const refusal = page.locator('[data-testid="csv-file-error"], [data-testid="csv-refusal"]')
    const session = await sessionOf(page)
    for (const [name, message] of cases) {
      await page.getByTestId('csv-file').setInputFiles(fixture(name))
      await expect(refusal, name).toContainText(name, { timeout: 15_000 })
      await expect(refusal, name).toContainText(message)
      await expect(page.getByTestId('source-bundled')).toHaveAttribute('data-in-use', 'true')
      expect(await sessionOf(page), name).toBe(session)
      expect(Number(await hostCount(page)), name).toBe(count)
    }

    // A good file is used; a choice the host refuses (binary on a 3-class column) is explained
    // next to it, and the session keeps the last accepted data.
    await page.getByTestId('csv-file').setInputFiles(fixture('good.csv'))
    await expect(page.getByTestId('source-csv')).toHaveAttribute('data-in-use', 'true', { timeout: 15_000 })
    await expect(refusal).toHaveCount(0)
    // Iris and this file have the same shape, so the counts agree before the CSV's session exists: wait for it.
    await expect.poll(() => wire.csvSession('species', 'auto'), { timeout: 15_000, message: 'a session on good.csv' }).not.toBeNull()
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', wire.csvSession('species', 'auto')!)
    const accepted = await agreedCount(page)
    // "site" with the task left on auto is accepted (3 classes); built before the refused choice, never folded into it.
    await page.getByTestId('csv-target').selectOption('site')
    await expect.poll(() => wire.csvSession('site', 'auto'), { timeout: 15_000, message: 'a session with target "site"' }).not.toBeNull()
    const csvSession = wire.csvSession('site', 'auto')!
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', csvSession)
    expect(await agreedCount(page)).toBe(accepted)
    await page.getByTestId('csv-task').selectOption('binary')
    await expect(page.getByTestId('csv-host-error')).toContainText(/binary needs 2 classes.*"site" has 3/, { timeout: 15_000 })
    expect(await sessionOf(page)).toBe(csvSession)
    expect(Number((await hostCount(page)) || accepted)).toBe(accepted)
    // Back to a task the column fits: applied, and it trains.
    await page.getByTestId('csv-task').selectOption('auto')
    await expect(page.getByTestId('csv-host-error')).toHaveCount(0, { timeout: 15_000 })
    await expect(page.getByTestId('shape-summary')).toHaveText(/out 3$/)
    await agreedCount(page)
    await trainSome(page, 5)
  })

  test('lr and schedule changes mid-run apply live: training continues, no reset', async ({ page }) => {
    await startPaced(page)
    const samples: number[] = [await stepOf(page)]
    await page.getByTestId('lr-input').fill('0.003')
    await page.getByTestId('section-toggle-schedule').click()
    await page.getByTestId('schedule-select').selectOption('cosine')
    await page.getByTestId('period-input').fill('2000')
    await expect(page.getByTestId('lr-sparkline')).toBeVisible()
    // Sample the step counter until it has clearly moved on (a state, whatever the machine's speed).
    const target = samples[0]! + 5
    await expect.poll(async () => samples[samples.push(await stepOf(page)) - 1], { timeout: 30_000 }).toBeGreaterThan(target)
    // Never back to 0: the step count only grows, and the session is still running.
    for (let i = 1; i < samples.length; i++)
      expect(samples[i]!, `sample ${i} of ${samples.join(', ')}`).toBeGreaterThanOrEqual(samples[i - 1]!)
    await expect(page.getByTestId('session-status')).toHaveText('running')
    await expect(page.getByTestId('rebuild-notice')).toHaveCount(0)
    await expect(page.getByTestId('error-banner')).toHaveCount(0)
  })

  test('a structural edit mid-run waits for Rebuild: training goes on, Rebuild restarts at step 0', async ({ page }) => {
    await startPaced(page)
    await page.getByTestId('add-layer').click()
    await expect(page.getByTestId('rebuild-notice')).toBeVisible()
    const atNotice = await stepOf(page)
    await expect.poll(() => stepOf(page), { timeout: 30_000 }).toBeGreaterThan(atNotice)
    await expect(page.getByTestId('session-status')).toHaveText('running')
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    await page.getByTestId('rebuild-button').click()
    await expect(page.getByTestId('rebuild-notice')).toHaveCount(0)
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '0')
  })

  test('the speed slider paces training live, and full speed lifts the limit', async ({ page }) => {
    // The pace is a ceiling, checked at every sample: a slow machine only takes fewer steps. The
    // displayed count lags the host's, which only lowers it, so the ceiling holds at any speed.
    const wire = wireLog(page)
    await open(page)
    await page.getByTestId('generator-spiral').click()
    await agreedCount(page)
    // Slider stops: 0 full speed, 1, 2, 5, 10 steps/s …
    await page.getByTestId('speed-slider').fill('4')
    await expect(page.getByTestId('speed-value')).toHaveText('10 steps/s')
    await expect.poll(() => wire.updated('maxStepsPerSecond', 10), { message: 'the host applies 10 steps/s' }).toBe(true)
    const from = await stepOf(page)
    const t0 = Date.now()
    await page.getByTestId('play-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('running')
    const samples: { s: number; steps: number }[] = []
    await expect
      .poll(
        async () => {
          const steps = (await stepOf(page)) - from
          samples.push({ s: (Date.now() - t0) / 1000, steps })
          return steps
        },
        { timeout: 30_000, message: 'paced training moves on' },
      )
      .toBeGreaterThanOrEqual(8)
    // One step at once, then one per 1/10 s: never more than that by any sample's time.
    for (const { s, steps } of samples) expect(steps, `${steps} steps after ${s.toFixed(2)} s`).toBeLessThanOrEqual(Math.floor(s * 10) + 1)

    await page.getByTestId('speed-slider').fill('0')
    await expect(page.getByTestId('speed-value')).toHaveText('full speed')
    await expect.poll(() => wire.updated('maxStepsPerSecond', null), { message: 'the host lifts the limit' }).toBe(true)
    const fast = await stepOf(page)
    const t1 = Date.now()
    // Lifted: the count outruns what 10 steps/s could reach since then (with a margin for the display's lag).
    await expect
      .poll(async () => (await stepOf(page)) - fast - Math.max(200, 50 + ((Date.now() - t1) / 1000) * 10), { timeout: 30_000 })
      .toBeGreaterThan(0)
    await page.getByTestId('pause-button').click()
  })

  test('backend: the host says what it chose and why, or why the one asked for is unavailable', async ({ page }) => {
    await open(page)
    await page.getByTestId('section-toggle-backend').click()
    await expect(page.getByTestId('backend-chosen')).toContainText(/Running on (CPU|WebGPU): \S/)
    await page.getByTestId('backend-cpu').click()
    await expect(page.getByTestId('backend-chosen')).toContainText('Running on CPU', { timeout: 15_000 })
    await page.getByTestId('backend-webgpu').click()
    // Either the host runs it on WebGPU or it refuses with its reason; never silence.
    const answer = page.locator('[data-testid="backend-error"], [data-testid="backend-chosen"]')
    await expect(answer).toContainText(/WebGPU/i, { timeout: 20_000 })
    await expect(page.getByTestId('backend-cpu')).toHaveAttribute('aria-checked', 'false')
  })

  test('keyboard: space plays and pauses, → steps, but not while typing in a field', async ({ page }) => {
    await open(page)
    await page.getByTestId('generator-spiral').click()
    await agreedCount(page)
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
    await page.keyboard.press(' ')
    await expect(page.getByTestId('session-status')).toHaveText('running')
    await page.keyboard.press(' ')
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    const paused = await stepOf(page)
    await page.getByTestId('lr-input').focus()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press(' ')
    // Then one step from outside the field: its request follows any the keys above had sent, and
    // the host answers with the step count it reached, so exactly one more means they sent none.
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(paused + 1))
    await expect(page.getByTestId('session-status')).toHaveText('paused')
  })
})

test.describe('IDX images in serve mode', () => {
  test('an images file and a labels file: dims shown, the pair is used and trains; a swapped file is refused', async ({ page }) => {
    await open(page)
    const session = await sessionOf(page)
    await page.getByTestId('source-idx').click()
    // A labels file where the images go: refused by role, nothing changes.
    await page.getByTestId('idx-images').setInputFiles(fixture('setup-labels-idx1-ubyte'))
    await expect(page.getByTestId('idx-role-error')).toContainText('labels file', { timeout: 15_000 })
    expect(await sessionOf(page)).toBe(session)

    await page.getByTestId('idx-images').setInputFiles(fixture('setup-images-idx3-ubyte'))
    await expect(page.getByTestId('idx-images-dims')).toContainText('40 × 4 × 4', { timeout: 15_000 })
    await expect(page.getByTestId('source-idx')).toHaveAttribute('data-in-use', 'false')
    await page.getByTestId('idx-labels').setInputFiles(fixture('setup-labels-idx1-ubyte'))
    await expect(page.getByTestId('idx-labels-dims')).toContainText('40', { timeout: 15_000 })
    await expect(page.getByTestId('source-idx')).toHaveAttribute('data-in-use', 'true')
    await expect(page.getByTestId('shape-summary')).toHaveText(/^in 16 → /, { timeout: 15_000 })
    await agreedCount(page)
    await trainSome(page, 10)
  })
})
