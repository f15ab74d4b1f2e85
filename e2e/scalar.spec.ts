// Micrograd mode in serve mode: evaluate scalar programs on the host and step backward() through
// them node by node, checking each gradient as it appears, the `+=` sum of a reused value, the `=`
// what-if, keyboard stepping, and parse errors with their line and column.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const SCREENSHOT = 'test-results/screenshots/scalar-view.png'

async function openExplainer(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('tab-micrograd').click()
  await expect(page.getByTestId('scalar-view')).toBeVisible()
}

async function loadPreset(page: Page, id: string): Promise<void> {
  await page.getByTestId(`scalar-preset-${id}`).click()
  await expect(page.getByTestId('scalar-position')).toHaveAttribute('data-value', '-1')
  await expect(page.getByTestId('scalar-edited')).toHaveCount(0)
}

const grad = (page: Page, key: string) => page.getByTestId(`scalar-grad-${key}`)
/** The grads on screen: label → value, for the labels whose gradient is set. */
async function gradsShown(page: Page, keys: readonly string[]): Promise<Map<string, number>> {
  const shown = new Map<string, number>()
  for (const k of keys) {
    const v = await grad(page, k).getAttribute('data-value')
    if (v !== null) shown.set(k, Number(v))
  }
  return shown
}

test.describe('scalar backprop explainer', () => {
  test.use({ viewport: { width: 1440, height: 900 } })
  let problems: string[]

  test.beforeEach(async ({ page }) => {
    problems = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))
    await openExplainer(page)
  })
  test.afterEach(() => expect(problems).toEqual([]))

  test('the seed example steps backward node by node to dL/da = 6, dL/db = -4, dL/dc = -2, dL/df = 4', async ({ page }, testInfo) => {
    await loadPreset(page, 'seed')
    const expected: Record<string, number> = { L: 1, d: -2, f: 4, e: -2, c: -2, a: 6, b: -4 }
    const keys = Object.keys(expected)
    const step = page.getByTestId('step-back-button')
    const position = page.getByTestId('scalar-position')
    const explainer = page.getByTestId('step-explainer')

    // Forward: every Value has its data, no gradient yet.
    await expect(page.getByTestId('scalar-node-L')).toContainText('-8')
    await expect(page.getByTestId('scalar-node-d')).toContainText('4')
    expect((await gradsShown(page, keys)).size).toBe(0)
    await expect(page.getByTestId('explain-forward')).toBeVisible()

    // The seed: L.grad = 1, nothing else.
    await step.click()
    await expect(position).toHaveAttribute('data-value', '0')
    await expect(grad(page, 'L')).toHaveAttribute('data-value', '1')
    expect([...(await gradsShown(page, keys)).keys()]).toEqual(['L'])
    await expect(page.getByTestId('explain-seed')).toContainText('L.grad = 1')

    // Each step sets exactly one new gradient (no value is reused here), with the right value.
    const appearedAt = new Map<string, number>([['L', 0]])
    for (let k = 1; k <= 6; k++) {
      const before = await gradsShown(page, keys)
      await step.click()
      await expect(position).toHaveAttribute('data-value', String(k))
      const after = await gradsShown(page, keys)
      const fresh = [...after.keys()].filter((key) => !before.has(key))
      expect(fresh, `step ${k} sets one new gradient`).toHaveLength(1)
      const key = fresh[0]!
      expect(after.get(key), `d L / d ${key}`).toBe(expected[key])
      appearedAt.set(key, k)
      // The explainer shows this step: upstream × local = contribution, then 0 + contribution.
      const upstream = Number(await page.getByTestId('explain-upstream').getAttribute('data-value'))
      const local = Number(await page.getByTestId('explain-local').getAttribute('data-value'))
      expect(upstream * local).toBe(expected[key])
      await expect(page.getByTestId('explain-accumulate')).toContainText(`${key}.grad: 0 + `)
      await expect(page.getByTestId('explain-accumulate')).toHaveAttribute('data-value', String(expected[key]))
      if (k === 5) {
        // Mid-pass picture for the README: a gate lit up, half the grads known.
        await expect(explainer).toContainText(/mul swaps|add distributes/)
        mkdirSync(dirname(SCREENSHOT), { recursive: true })
        await page.screenshot({ path: SCREENSHOT, fullPage: true })
        await testInfo.attach('scalar-view', { path: SCREENSHOT, contentType: 'image/png' })
      }
    }
    // The chain rule's order: a gate runs only after its own gradient is complete.
    const at = (k: string) => appearedAt.get(k)!
    expect(at('d')).toBeLessThan(at('e'))
    expect(at('d')).toBeLessThan(at('c'))
    expect(at('e')).toBeLessThan(at('a'))
    expect(at('e')).toBeLessThan(at('b'))
    await expect(page.getByTestId('explain-done')).toBeVisible()
    await expect(step).toBeDisabled()

    // Undo takes the last step back; Reset returns to the forward pass; Full backward does it all.
    await page.getByTestId('step-undo-button').click()
    await expect(position).toHaveAttribute('data-value', '5')
    expect((await gradsShown(page, keys)).size).toBe(6)
    await page.getByTestId('scalar-reset-button').click()
    expect((await gradsShown(page, keys)).size).toBe(0)
    await page.getByTestId('full-backward-button').click()
    expect(Object.fromEntries(await gradsShown(page, keys))).toEqual(expected)
    await expect(page.getByTestId('var-grad-a')).toHaveText('6')
  })

  test('b = a + a shows two contributions summing to 2, and `=` instead of `+=` gives 1', async ({ page }) => {
    await loadPreset(page, 'reuse')
    const step = page.getByTestId('step-back-button')
    await step.click() // seed
    await step.click()
    await expect(grad(page, 'a')).toHaveAttribute('data-value', '1')
    await expect(page.getByTestId('scalar-contrib-a-0')).toContainText('0 + 1 = 1')
    await expect(page.getByTestId('scalar-contrib-a-1')).toHaveCount(0)
    await expect(page.getByTestId('explain-running')).toContainText('used 2 times')
    await step.click()
    await expect(grad(page, 'a')).toHaveAttribute('data-value', '2')
    await expect(page.getByTestId('scalar-contrib-a-0')).toHaveAttribute('data-value', '1')
    await expect(page.getByTestId('scalar-contrib-a-1')).toHaveAttribute('data-value', '1')
    await expect(page.getByTestId('scalar-contrib-a-1')).toContainText('1 + 1 = 2')
    await expect(page.getByTestId('explain-running').locator('li')).toHaveText(['a.grad: 0 + 1 = 1', 'a.grad: 1 + 1 = 2'])
    await expect(page.getByTestId('scalar-wrong-grad-a')).toHaveCount(0)

    await page.getByTestId('wrong-toggle').check()
    await expect(page.getByTestId('scalar-wrong-grad-a')).toHaveAttribute('data-value', '1')
    await expect(page.getByTestId('scalar-wrong-grad-a')).toContainText('1 ✗')
    await expect(grad(page, 'a')).toContainText('2 ✓')
    await expect(page.getByTestId('explain-wrong')).toContainText('a.grad = 1 ✗')
    await expect(page.getByTestId('var-wrong-grad-a')).toHaveText('1 ✗')
    await expect(page.getByTestId('var-grad-a')).toHaveText('2 ✓')
    await page.getByTestId('wrong-toggle').uncheck()
    await expect(page.getByTestId('scalar-wrong-grad-a')).toHaveCount(0)
  })

  test('arrow keys step forward and back while the view has focus, not while typing', async ({ page }) => {
    await loadPreset(page, 'seed')
    const position = page.getByTestId('scalar-position')
    await page.getByTestId('scalar-view').focus()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    await expect(position).toHaveAttribute('data-value', '1')
    await page.keyboard.press('ArrowLeft')
    await expect(position).toHaveAttribute('data-value', '0')
    await page.keyboard.press('End')
    await expect(position).toHaveAttribute('data-value', '6')
    await page.getByTestId('scalar-source').focus()
    await page.keyboard.press('ArrowLeft')
    await expect(position).toHaveAttribute('data-value', '6')
  })

  test('a program that does not parse shows the error with its line and column', async ({ page }) => {
    await loadPreset(page, 'seed')
    await page.getByTestId('scalar-source').fill('a = 2\nb = a * * 3\n')
    await expect(page.getByTestId('scalar-edited')).toBeVisible()
    await page.getByTestId('scalar-forward').click()
    const error = page.getByTestId('scalar-error')
    await expect(error).toBeVisible()
    await expect(error).toHaveAttribute('data-line', '2')
    await expect(error).toHaveAttribute('data-col', '9')
    await expect(error).toContainText('line 2, col 9')
    // The position is said once, beside the message, not again inside it.
    expect((await error.locator('p').innerText()).match(/line 2, col 9/g)).toHaveLength(1)
    await expect(error.locator('pre')).toContainText('b = a * * 3')
    // Fixing it clears the error and draws the new graph.
    await page.getByTestId('scalar-source').fill('a = 2\nb = a * 3\n')
    await page.getByTestId('scalar-forward').click()
    await expect(error).toHaveCount(0)
    await expect(page.getByTestId('scalar-node-b')).toContainText('6')
  })
  test('Full backward pressed right after Forward lands; a literal reads as c₁, not ∂L/∂2; a re-bound name is listed once', async ({
    page,
  }) => {
    await loadPreset(page, 'seed')
    const source = page.getByTestId('scalar-source')
    await source.fill('a = -3\nb = a * 2\nL = b + 2\n')
    // Full backward straight after Forward, before its answer is in: it applies to the new program.
    await page.getByTestId('scalar-forward').click()
    await page.getByTestId('full-backward-button').click()
    await expect(page.getByTestId('scalar-position')).toHaveAttribute('data-value', '4')
    await expect(page.getByTestId('var-grad-a')).toHaveAttribute('data-value', '2')

    // Step 2 sends L's gradient to the literal 2 of `b + 2` (the program's second literal).
    await page.getByTestId('step-undo-button').click()
    await page.getByTestId('step-undo-button').click()
    await expect(page.getByTestId('explain-local')).toContainText('∂L/∂c₂ = 1')
    await expect(page.getByTestId('explain-literal')).toHaveText('— c₂ is the literal 2 in the program')
    await expect(page.getByTestId('step-explainer')).not.toContainText('∂L/∂2')

    // `L = x` binds x₂'s Value itself: x₂ is listed once, and L says it is that Value.
    await source.fill('x = 1; x = 2; L = x')
    await page.getByTestId('scalar-forward').click()
    await expect(page.getByTestId('scalar-var-alias-L')).toHaveText('= x₂ (same Value)')
    await expect(page.getByTestId('scalar-var-x₂')).toHaveCount(1)
    await expect(page.getByTestId('scalar-var-x')).toHaveCount(1)
  })
})
