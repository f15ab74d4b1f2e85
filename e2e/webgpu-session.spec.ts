// Serve mode in Chromium: choosing the WebGPU backend in the setup's Backend section rebuilds the
// session on the engine host's Dawn device (SwiftShader here: VK_ICD_FILENAMES must reach the
// serve process, as .ci/run exports it), the status line says webgpu and why, and it trains.
// Auto (after Rebuild) then goes back to the CPU, naming the software adapter it declined.
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const stepOf = async (page: Page) => Number(await page.getByTestId('status-step').getAttribute('data-value'))

test.describe('webgpu backend in serve mode', () => {
  test.use({ viewport: { width: 1440, height: 1000 } })

  test('select WebGPU, train a few steps on it, then auto falls back to the CPU saying why', async ({ page }) => {
    // The serve process inherits this runner's environment: without an ICD Dawn finds no adapter.
    expect(
      process.env['VK_ICD_FILENAMES'],
      'export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (as .ci/run does)',
    ).toBeTruthy()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })
    const first = await page.getByTestId('param-count').getAttribute('data-session')

    await page.getByTestId('section-toggle-backend').click()
    await page.getByTestId('backend-webgpu').click()
    // The change rebuilds the session on the device.
    await expect(page.getByTestId('param-count')).not.toHaveAttribute('data-session', first!, { timeout: 15_000 })
    await expect(page.getByTestId('backend-error')).toHaveCount(0)
    await expect(page.getByTestId('status-backend')).toHaveText('webgpu', { timeout: 15_000 })
    await expect(page.getByTestId('backend-chosen')).toContainText(/Running on WebGPU: requested \(.*software adapter/i)

    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1', { timeout: 15_000 })
    await page.getByTestId('play-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('running')
    await expect.poll(() => stepOf(page), { timeout: 30_000 }).toBeGreaterThan(20)
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    await expect(page.getByTestId('status-backend')).toHaveText('webgpu')

    // A trained session is rebuilt only on request.
    await page.getByTestId('backend-auto').click()
    await page.getByTestId('rebuild-button').click()
    await expect(page.getByTestId('status-backend')).toHaveText('cpu', { timeout: 15_000 })
    await expect(page.getByTestId('backend-chosen')).toContainText(/Running on CPU: auto: only a software WebGPU adapter .* was found/)
    expect(problems).toEqual([])
  })
})
