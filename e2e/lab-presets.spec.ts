// Serve mode in Chromium: the gradient-flow lab's first story in two clicks. The deep-sigmoid preset
// (12 × 16 sigmoid, no norm), loaded from the keyboard, trains to its step budget and raises the
// vanishing-gradient alarm; its BatchNorm variant trains the same steps on the same data and seed
// with no alarm and ends at a lower train loss. The presets stop at their step budget, so both runs
// cover exactly the same steps.
import { expect, test, type Locator } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))
/** The presets' step budget (lab-presets.ts DEEP_STEPS). */
const STEPS = 100

test.describe('lab presets', () => {
  test.use({ viewport: { width: 1440, height: 1000 } })

  test('deep sigmoid raises the vanishing alarm; with BatchNorm the same steps raise none and reach a lower loss', async ({ page }) => {
    test.setTimeout(90_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    const step = page.getByTestId('status-step')
    const status = page.getByTestId('session-status')
    const loss = page.getByTestId('eval-train-loss') // the whole train set's loss at the last evaluation
    const count = page.getByTestId('param-count')
    const alarms = page.getByTestId('alarm-list')
    const caption = page.getByTestId('lab-preset-caption')

    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(count).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })

    // The presets sit folded at the top of the setup column; open them and load the first from the keyboard.
    await page.getByTestId('section-toggle-lab').click()
    await expect(page.getByTestId('lab-presets')).toBeVisible()
    const plain = page.getByTestId('lab-preset-deep-sigmoid')
    await plain.focus()
    await page.keyboard.press('Enter')
    await expect(plain).toHaveAttribute('aria-pressed', 'true')
    await expect(caption).toContainText('vanishing-gradient alarm')
    const layers = Array<string>(12).fill('16 sigmoid').join(' → ')
    await expect(page.getByTestId('architecture')).toHaveText(`2 → ${layers} → 2 (softmax CE) · 3,074 parameters · Adam`)
    // The session is rebuilt from it (nothing had trained yet): 2·16+16 + 11·(16·16+16) + 16·2+2.
    await expect(count).toHaveAttribute('data-host-count', '3074', { timeout: 15_000 })
    await expect(step).toHaveAttribute('data-value', '0')

    await page.getByTestId('play-button').click()
    await expect(step).toHaveAttribute('data-value', String(STEPS), { timeout: 30_000 })
    await expect(status).toHaveText('paused')
    const banner = page.getByTestId('alarm-banner')
    await expect(banner).toHaveAttribute('data-kind', 'vanishing')
    await expect(page.getByTestId('alarm-message')).toContainText(/vanishing gradients — layers\.0 gradient norm \S+ is below 1e-07/)
    expect(await num(alarms, 'data-count')).toBeGreaterThan(0)
    expect(await num(banner, 'data-step')).toBeLessThanOrEqual(STEPS)
    const plainLoss = await num(loss, 'data-value')
    expect(plainLoss).toBeGreaterThan(0)

    // The BatchNorm variant: the trained session waits for Rebuild, which starts again at step 0 with no alarms.
    await page.getByTestId('lab-preset-deep-sigmoid-bn').click()
    await expect(caption).toContainText('BatchNorm before every sigmoid')
    await expect(page.getByTestId('architecture')).toContainText('2 → 16 BN sigmoid → 16 BN sigmoid →')
    await page.getByTestId('rebuild-button').click()
    await expect(count).toHaveAttribute('data-host-count', '3458', { timeout: 15_000 })
    await expect(step).toHaveAttribute('data-value', '0')
    await expect(alarms).toHaveAttribute('data-count', '0')
    await expect(banner).toHaveCount(0)

    await page.getByTestId('play-button').click()
    await expect(step).toHaveAttribute('data-value', String(STEPS), { timeout: 30_000 })
    await expect(status).toHaveText('paused')
    await expect(alarms).toHaveAttribute('data-count', '0')
    await expect(banner).toHaveCount(0)
    const bnLoss = await num(loss, 'data-value')
    expect(bnLoss).toBeGreaterThan(0)
    expect(bnLoss).toBeLessThan(plainLoss)
    expect(problems).toEqual([])
  })
})
