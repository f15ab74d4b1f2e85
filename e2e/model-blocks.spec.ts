// Serve mode in Chromium: the gradient-flow lab's per-layer extras in the network editor. BatchNorm
// and a residual connection set from the keyboard and the mouse change the one-line architecture
// and the parameter count at once; a residual across different widths is refused at its control
// with the reason, and no session is asked for with it. One step at the end shows the norm's row
// in the gradient heatmap and the health strip.
import { mkdirSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const SHOTS = 'test-results/screenshots'

/** The models of every session.create the page sends (recorded before it opens its socket). */
function createdModels(page: Page): Record<string, unknown>[] {
  const models: Record<string, unknown>[] = []
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      try {
        const m = JSON.parse(String(payload)) as { kind?: string; payload?: { model?: Record<string, unknown> } }
        if (m.kind === 'session.create' && m.payload?.model) models.push(m.payload.model)
      } catch {
        // not a protocol frame
      }
    }),
  )
  return models
}

test.describe('the network editor builds blocks', () => {
  test.use({ viewport: { width: 1440, height: 1000 } })

  test('BatchNorm + residual on a layer: the architecture line and count follow; an impossible residual is refused at its control', async ({
    page,
  }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    const models = createdModels(page)
    await page.goto(appPath())
    await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
    await page.getByTestId('generator-spiral').click()
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-session', /^s\d+$/, { timeout: 15_000 })

    // The plain case looks as before: no extras open, no chips, and the plain architecture.
    const line = page.getByTestId('architecture')
    await expect(line).toHaveText('2 → 8 tanh → 8 tanh → 2 (softmax CE) · 114 parameters · Adam', { timeout: 15_000 })
    await expect(page.getByTestId('layer-1-extras-panel')).toHaveCount(0)
    await expect(page.getByTestId('layer-1-chips')).toHaveCount(0)

    // Open the second layer's extras from the keyboard and set BatchNorm there.
    const more = page.getByTestId('layer-1-extras')
    await expect(more).toHaveAttribute('aria-expanded', 'false')
    await more.focus()
    await page.keyboard.press('Enter')
    await expect(more).toHaveAttribute('aria-expanded', 'true')
    await page.getByTestId('layer-1-norm').selectOption('batch')
    await expect(page.getByTestId('layer-1-norm-at')).toHaveValue('mid')
    await expect(page.getByTestId('layer-1-norm-at').locator('option:checked')).toHaveText('before the activation')
    await expect(page.getByTestId('layer-1-norm-at')).toHaveAttribute('title', 'act(BN(W·x))')
    await page.getByTestId('layer-1-residual').focus()
    await page.keyboard.press('Space')
    await expect(page.getByTestId('layer-1-residual')).toBeChecked()
    await expect(page.getByTestId('layer-1-formula')).toHaveText('x + act(BN(W·x))')
    // BatchNorm's γ and β on 8 units: 16 parameters more.
    await expect(line).toHaveText('2 → 8 tanh → 8 BN tanh +skip → 2 (softmax CE) · 130 parameters · Adam')
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-form-count', '130')

    // A residual on the first layer adds 2 input features to 8 units: refused, with the reason.
    await page.getByTestId('layer-0-extras').click()
    await page.getByTestId('layer-0-residual').check()
    const issue = page.getByTestId('layer-0-residual-issue')
    await expect(issue).toContainText('hidden layer 1 has 8 units but its input is the 2 input features')
    await expect(issue).toContainText('set this layer to 2 units, or turn the residual off')
    await expect(page.getByTestId('layer-0-residual')).toHaveAttribute('aria-invalid', 'true')
    await expect(page.getByTestId('error-banner')).toContainText('Check the settings', { timeout: 15_000 })
    // Its panel stays open while it is refused, even when toggled.
    await page.getByTestId('layer-0-extras').click()
    await expect(issue).toBeVisible()
    mkdirSync(SHOTS, { recursive: true })
    await page.getByTestId('network-editor').screenshot({ path: `${SHOTS}/model-blocks-editor.png` })

    // Turning it off clears the refusal (the controls stay where the pointer is); folded, a plain
    // layer shows nothing more, and the other layer's extras show as chips.
    await page.getByTestId('layer-0-residual').uncheck()
    await expect(issue).toHaveCount(0)
    await expect(page.getByTestId('layer-0-extras-panel')).toBeVisible()
    await page.getByTestId('layer-0-extras').click()
    await expect(page.getByTestId('layer-0-extras-panel')).toHaveCount(0)
    await expect(page.getByTestId('layer-0-chips')).toHaveCount(0)
    await page.getByTestId('layer-1-extras').click()
    await expect(page.getByTestId('layer-1-chips')).toHaveText(/BN before act\s*\+skip/)
    await expect(line).toHaveText('2 → 8 tanh → 8 BN tanh +skip → 2 (softmax CE) · 130 parameters · Adam')

    // One training step of the BatchNorm model: the heatmap and the health strip get a row for the
    // norm's γ/β below its layer, with a gradient, and the health strip shows BatchNorm's gap.
    await expect(page.getByTestId('param-count')).toHaveAttribute('data-host-count', '130', { timeout: 15_000 })
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
    await expect(page.getByTestId('grad-heatmap-rows').locator('li')).toHaveText([
      'hidden 1 (2→8)',
      'hidden 2 (8→8)',
      'norm 2 (BN) γ/β',
      'output (8→2)',
    ])
    await expect(page.getByTestId('health-strip')).toHaveAttribute('data-rows', '4')
    await expect(page.getByTestId('health-row-2')).toHaveAttribute('data-kind', 'norm')
    await expect(page.getByTestId('health-row-2')).toContainText('norm 2 (BN) γ/β')
    await expect.poll(async () => Number(await page.getByTestId('health-grad-2').getAttribute('data-value'))).toBeGreaterThan(0)
    await expect(page.getByTestId('health-gap-2')).toHaveText(/σ · ×/)
    await expect(page.getByTestId('health-ratio-2')).toHaveText('—')
    await page.getByTestId('health-strip').screenshot({ path: `${SHOTS}/model-blocks-health.png` })

    // The host was never asked for the impossible residual.
    expect(models.length).toBeGreaterThan(0)
    for (const m of models) expect((m['blocks'] as { residual: boolean }[] | undefined)?.[0]?.residual ?? false).toBe(false)
    expect(problems).toEqual([])
  })
})
