// Serve mode in Chromium: compare live on the gradient-flow lab's first story. The deep-sigmoid
// preset is compared live with its BatchNorm and residual + BatchNorm variants (the panel prefills
// exactly those); all three train their 100-step budget side by side on the same data and seed.
// The no-norm variant raises the vanishing alarm and the other two do not, and both reach a lower
// loss at the same step. Saved as runs, they open side by side in the Runs view's compare.
import { expect, test, type Locator } from '@playwright/test'
import { appPath } from './serve-token'

const num = async (l: Locator, attr: string): Promise<number> => Number(await l.getAttribute(attr))
/** The preset's step budget (lab-presets.ts DEEP_STEPS). */
const STEPS = 100

test.describe('compare live', () => {
  test.use({ viewport: { width: 1440, height: 1100 } })

  test('deep sigmoid vs BatchNorm vs residual + BatchNorm: only no-norm vanishes, the others end lower; saved, they compare in Runs', async ({
    page,
  }) => {
    test.setTimeout(120_000)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })

    await page.getByTestId('section-toggle-lab').click()
    await page.getByTestId('lab-preset-deep-sigmoid').click()
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', '3074', { timeout: 15_000 })

    // Compare live, prefilled with the story's variants: no norm, BatchNorm, residual + BatchNorm.
    await page.getByTestId('compare-toggle').click()
    await expect(page.getByTestId('compare-setting')).toHaveValue('blocks')
    await expect(page.getByTestId('compare-value-0')).toHaveValue('none')
    await expect(page.getByTestId('compare-value-1')).toHaveValue('batch')
    await expect(page.getByTestId('compare-value-2')).toHaveValue('residual+batch')
    await page.getByTestId('compare-start').click()
    const lanes = page.getByTestId('compare-lane')
    await expect(lanes).toHaveCount(3)
    await expect(page.getByTestId('compare-problems')).toHaveCount(0)
    const [plain, bn, res] = [lanes.nth(0), lanes.nth(1), lanes.nth(2)]
    await expect(plain).toHaveAttribute('data-label', 'no norm')
    await expect(bn).toHaveAttribute('data-label', 'BatchNorm')
    await expect(res).toHaveAttribute('data-label', 'residual + BatchNorm')

    // Play all: the variants advance together and each stops at the preset's budget.
    await page.getByTestId('compare-play').click()
    for (const lane of [plain, bn, res]) {
      await expect(lane).toHaveAttribute('data-stopped', 'true', { timeout: 60_000 })
      await expect(lane).toHaveAttribute('data-step', String(STEPS))
      await expect(lane).toHaveAttribute('data-loss-step', String(STEPS))
    }
    await expect(page.getByTestId('compare-controls')).toHaveAttribute('data-playing', 'false')
    await expect(page.getByTestId('compare-controls')).toHaveAttribute('data-max-step', String(STEPS))

    // Only the no-norm variant raises the vanishing alarm, with a badge naming the step.
    await expect(plain).toHaveAttribute('data-alarms', /\bvanishing\b/)
    await expect(plain.getByTestId('compare-alarm').first()).toHaveText(/^vanishing gradients at step \d+$/)
    for (const lane of [bn, res]) expect(await lane.getAttribute('data-alarms')).not.toMatch(/vanishing/)

    // Both cures reach a lower loss at the same step.
    const plainLoss = await num(plain, 'data-loss')
    expect(plainLoss).toBeGreaterThan(0)
    expect(await num(bn, 'data-loss')).toBeLessThan(plainLoss)
    expect(await num(res, 'data-loss')).toBeLessThan(plainLoss)

    // One aligned loss chart and accuracy chart (a line per variant), and a heatmap per variant.
    expect(await num(page.getByTestId('compare-loss-chart'), 'data-points')).toBeGreaterThanOrEqual(3 * STEPS)
    await expect(page.getByTestId('compare-heatmap')).toHaveCount(3)
    for (const h of await page.getByTestId('compare-heatmap').all()) await expect(h).not.toHaveAttribute('data-painted', '0')

    // Save as runs: one click, one tag; then they open side by side in the Runs view's compare.
    await page.getByTestId('compare-save').click()
    const saved = page.getByTestId('compare-saved')
    await expect(saved).toHaveAttribute('data-tag', /^compare \d{4}-/)
    const tag = (await saved.getAttribute('data-tag'))!
    const ids: string[] = []
    for (const lane of [plain, bn, res]) {
      await expect(lane).toHaveAttribute('data-run-id', /^r/)
      ids.push((await lane.getAttribute('data-run-id'))!)
    }
    await page.getByTestId('compare-open-runs').click()
    await expect(page.getByTestId('runs-table')).toBeVisible()
    const names = ['norm + residual: no norm', 'norm + residual: BatchNorm', 'norm + residual: residual + BatchNorm']
    for (const [i, id] of ids.entries()) {
      await expect(page.getByTestId(`run-name-${id}`)).toHaveValue(names[i]!)
      await expect(page.getByTestId(`run-tags-${id}`)).toContainText(tag)
      await expect(page.getByTestId(`run-steps-${id}`)).toHaveText(String(STEPS))
      await expect(page.getByTestId(`run-select-${id}`)).toBeChecked()
    }
    await expect(page.getByTestId('compare-chart-trainLoss')).toHaveAttribute('data-lines', '3')

    // Leaving compare mode closes the variants' sessions: their runs are saved, not live.
    await page.getByTestId('tab-studio').click()
    await page.getByTestId('compare-leave').click()
    await expect(page.getByTestId('compare-live')).toHaveAttribute('data-active', 'false')
    await page.getByTestId('tab-runs').click()
    for (const id of ids) await expect(page.getByTestId(`run-status-${id}`)).toHaveText('saved')
    expect(problems).toEqual([])
  })
})
