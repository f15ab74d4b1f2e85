// Accessibility (#15): axe-core finds nothing on any of the five views, the keyboard reaches Play
// within five Tab stops (after the skip link), Space plays and pauses wherever focus is except in
// a text field, and the view tabs follow the ARIA tabs pattern (arrows, Home/End, roving tabindex).
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const VIEWS = ['studio', 'network', 'graph', 'micrograd', 'runs'] as const

async function open(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
}

const describe = (v: { id: string; impact?: string | null; nodes: { target: unknown }[] }): string =>
  `${v.id} (${v.impact ?? '?'}): ${v.nodes
    .slice(0, 4)
    .map((n) => JSON.stringify(n.target))
    .join(', ')}`

test.describe('accessibility', () => {
  for (const id of VIEWS) {
    test(`axe-core finds no violations in the ${id} view`, async ({ page }) => {
      test.setTimeout(120_000) // axe walks every node of a busy page on a shared CPU
      await open(page)
      if (id === 'studio') {
        // With data on the charts and the inspection panels filled in, not just the empty page.
        await page.getByTestId('step-button').click()
        await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
      }
      await page.getByTestId(`tab-${id}`).click()
      await expect(page.getByTestId(`tab-${id}`)).toHaveAttribute('aria-selected', 'true')
      await expect(page.locator('#view-panel')).toBeVisible()
      const result = await new AxeBuilder({ page }).analyze()
      expect(result.violations.map(describe)).toEqual([])
    })
  }

  test('a skip link comes first, and Tab reaches Play within five stops', async ({ page }) => {
    await open(page)
    await page.keyboard.press('Tab')
    const skip = page.getByTestId('skip-link')
    await expect(skip).toBeFocused()
    await expect(skip).toBeVisible()
    let reached = 0
    for (let i = 1; i <= 5 && !reached; i++) {
      if (i > 1) await page.keyboard.press('Tab')
      if ((await page.evaluate('document.activeElement?.dataset.testid')) === 'play-button') reached = i
    }
    expect(reached, 'Tab presses to reach Play').toBeGreaterThan(0)
    await expect(page.getByTestId('play-button')).toHaveAccessibleName('Play')
    await expect(page.getByTestId('pause-button')).toHaveAccessibleName('Pause')
  })

  test('Space on a focused chip plays and pauses instead of toggling it; → steps; typing is left alone', async ({ page }) => {
    await open(page)
    const status = page.getByTestId('session-status')
    const chip = page.getByTestId('generator-moons')
    await chip.click()
    await expect(chip).toHaveAttribute('aria-checked', 'true')
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/)
    await expect(status).toHaveText('idle')
    await page.getByTestId('generator-circle').focus()
    await page.keyboard.press('Space')
    await expect(status).toHaveText('running')
    await expect(page.getByTestId('generator-circle')).toHaveAttribute('aria-checked', 'false')
    await expect(chip).toHaveAttribute('aria-checked', 'true')
    await page.keyboard.press('Space')
    await expect(status).toHaveText('paused')
    const step = Number(await page.getByTestId('status-step').getAttribute('data-value'))
    // → steps from a chip too (not from the generator chips: a radio group moves with the arrows).
    await page.getByTestId('loss-reset-zoom').focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', String(step + 1))
    // In a text field Space is a character, not a shortcut.
    await page.getByTestId('lr-input').focus()
    await page.keyboard.press('Space')
    await expect(status).toHaveText('paused')
  })

  test('the view tabs follow the ARIA tabs pattern', async ({ page }) => {
    await open(page)
    const list = page.getByRole('tablist', { name: 'Views' })
    const tabs = list.getByRole('tab')
    await expect(tabs).toHaveCount(5)
    const studio = page.getByTestId('tab-studio')
    await expect(studio).toHaveAttribute('tabindex', '0')
    await expect(page.getByTestId('tab-network')).toHaveAttribute('tabindex', '-1')
    await studio.focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('tab-network')).toBeFocused()
    await expect(page.getByTestId('tab-network')).toHaveAttribute('aria-selected', 'true')
    await expect(page.getByTestId('tab-network')).toHaveAttribute('tabindex', '0')
    await expect(studio).toHaveAttribute('tabindex', '-1')
    const panel = page.locator('#view-panel')
    await expect(panel).toHaveAttribute('aria-labelledby', (await page.getByTestId('tab-network').getAttribute('id'))!)
    await page.keyboard.press('End')
    await expect(tabs.last()).toBeFocused()
    await expect(tabs.last()).toHaveAttribute('aria-selected', 'true')
    await page.keyboard.press('ArrowRight') // wraps around
    await expect(studio).toBeFocused()
    await page.keyboard.press('ArrowLeft')
    await expect(tabs.last()).toBeFocused()
    await page.keyboard.press('Home')
    await expect(studio).toHaveAttribute('aria-selected', 'true')
    await expect(page.getByTestId('training-view')).toBeVisible()
  })
})
