// Serve mode in Chromium: train a network end to end, see the charts fill, and check that the
// server refuses anyone without the per-launch token (page and WebSocket alike).
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { expect, test } from '@playwright/test'
import WebSocket from 'ws'
import { E2E_TOKEN, appPath } from './serve-token'
import { runTrainingFlow } from './training-flow'

const SCREENSHOT = 'test-results/screenshots/training-view.png'

test.describe('training in serve mode', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test('trains the spiral: loss falls, charts fill, pause/step/reset behave', async ({ page }, testInfo) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))

    await page.goto(appPath())
    // The token leaves the address bar (and so the history) once the page has it.
    await expect.poll(() => new URL(page.url()).searchParams.has('token')).toBe(false)

    await runTrainingFlow(page, {
      whilePaused: async (p) => {
        mkdirSync(dirname(SCREENSHOT), { recursive: true })
        await p.screenshot({ path: SCREENSHOT })
        await testInfo.attach('training-view', { path: SCREENSHOT, contentType: 'image/png' })
      },
    })
    expect(problems).toEqual([])
  })

  test('bad settings show a dismissable error banner and change nothing', async ({ page }) => {
    await page.goto(appPath())
    await expect(page.getByTestId('param-count')).toContainText('parameters')
    await expect(page.getByTestId('error-banner')).toHaveCount(0)
    await page.getByTestId('lr-input').fill('50')
    const banner = page.getByTestId('error-banner')
    await expect(banner).toBeVisible()
    await expect(banner).toContainText('Learning rate must be at most 10 (it is 50)')
    await expect(page.getByTestId('play-button')).toBeDisabled()
    await expect(page.getByTestId('session-status')).toHaveText('idle')
    await banner.getByTestId('error-dismiss').first().click()
    await expect(banner).toHaveCount(0)
  })
})

test.describe('the token gate', () => {
  test('the page is refused without the token or with a wrong one', async ({ request }) => {
    expect((await request.get('/')).status()).toBe(403)
    expect((await request.get('/?token=wrong_token_0123456789')).status()).toBe(403)
    expect((await request.get('/index.html')).status()).toBe(403)
    expect((await request.get(appPath())).status()).toBe(200)
  })

  /** Resolves with the HTTP status of a refused handshake, or 101 when the socket opened. */
  function handshake(url: string, origin: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { origin })
      ws.on('open', () => (ws.close(), resolve(101)))
      ws.on('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), res.resume()))
      ws.on('error', reject)
    })
  }

  test('the WebSocket is refused without the token or with a wrong one', async ({ baseURL }) => {
    const ws = `${baseURL!.replace(/^http/, 'ws')}/ws`
    expect(await handshake(ws, baseURL!)).toBe(403)
    expect(await handshake(`${ws}?token=wrong_token_0123456789`, baseURL!)).toBe(403)
    expect(await handshake(`${ws}?token=${E2E_TOKEN}`, baseURL!)).toBe(101)
  })

  test('a page without the token cannot reach the engine from the browser', async ({ page, baseURL }) => {
    const response = await page.goto('/?token=wrong_token_0123456789')
    expect(response?.status()).toBe(403)
    const opened = await page.evaluate(
      (url) =>
        new Promise<boolean>((resolve) => {
          const ws = new WebSocket(url)
          ws.onopen = () => resolve(true)
          ws.onclose = () => resolve(false)
        }),
      `${baseURL!.replace(/^http/, 'ws')}/ws`,
    )
    expect(opened).toBe(false)
  })
})
