// The built renderer in a plain browser: it must render, log no errors, and enforce its CSP.
import { expect, test, type ConsoleMessage } from '@playwright/test'
import { appPath } from './serve-token'

test.describe('renderer in a browser', () => {
  let problems: string[]

  test.beforeEach(async ({ page }) => {
    problems = []
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`)
    })
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await page.goto(appPath())
  })

  test('shows the title and reports a browser host without console errors', async ({ page }) => {
    await expect(page).toHaveTitle('Backprop Studio')
    await expect(page.getByTestId('app-title')).toHaveText('Backprop Studio')
    await expect(page.getByTestId('training-view')).toBeVisible()
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(page.getByTestId('host')).toHaveText('browser')
    expect(problems).toEqual([])
  })

  test('declares a strict Content-Security-Policy', async ({ page }) => {
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')
    expect(csp).not.toBeNull()
    const directives = new Map(
      (csp ?? '').split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/)
        return [name, values.join(' ')] as const
      }),
    )
    expect(directives.get('default-src')).toBe("'self'")
    expect(directives.get('script-src')).toBe("'self'")
    expect(directives.get('object-src')).toBe("'none'")
    expect(directives.get('base-uri')).toBe("'none'")
    expect(csp).not.toContain('unsafe-eval')
  })

  test('the CSP is enforced: an injected inline script does not run', async ({ page }) => {
    const blocked = page.waitForEvent('console', (msg) => msg.text().includes('Content Security Policy'))
    await page.addScriptTag({ content: 'window.__inlineRan = true' }).catch(() => undefined)
    await blocked
    expect(await page.evaluate('typeof window.__inlineRan')).toBe('undefined')
  })
})
