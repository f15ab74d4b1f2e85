// Runs → Import PyTorch weights, in serve mode: a state dict that does not fit the studio's data is
// refused with every difference named (nothing is created); one that fits becomes a new run in the
// studio with the file's hidden widths and the chosen activation, and Play trains it.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const DIR = 'test-results/runs-import'

/** A safetensors file of float32 tensors in nn.Sequential's names and PyTorch's [out, in] layout. */
function torchMlp(file: string, sizes: number[]): string {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {}
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [inp, out] = [sizes[i]!, sizes[i + 1]!]
    tensors[`net.${2 * i}.weight`] = { shape: [out, inp], data: Float32Array.from({ length: out * inp }, (_, k) => Math.sin(k + i) / 2) }
    tensors[`net.${2 * i}.bias`] = { shape: [out], data: new Float32Array(out) }
  }
  const header: Record<string, unknown> = {}
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '))
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(json.length))
  const body = Buffer.concat(Object.values(tensors).map((t) => Buffer.from(t.data.buffer)))
  mkdirSync(DIR, { recursive: true })
  const path = join(DIR, file)
  writeFileSync(path, Buffer.concat([len, json, body]))
  return path
}

/** Pick the file and import it; the Runs view then shows the host's refusal, or the studio the new run. */
async function importFile(page: Page, path: string, activation: string): Promise<void> {
  await page.getByTestId('tab-runs').click()
  const panel = page.getByTestId('runs-import')
  if ((await panel.getAttribute('open')) === null) await panel.locator('summary').click()
  await page.getByTestId('runs-import-file').setInputFiles(path)
  await page.getByTestId('runs-import-activation').selectOption(activation)
  await page.getByTestId('runs-import-submit').click()
}

test('Runs → Import PyTorch weights: misfits listed, a fitting file opens as a new run that trains', async ({ page }) => {
  test.setTimeout(120_000)
  await page.goto(appPath())
  await expect(page.getByTestId('session-status')).toHaveText('idle')

  await importFile(page, torchMlp('wrong.safetensors', [5, 6, 7]), 'relu')
  await expect(page.getByTestId('runs-import-result')).toHaveAttribute('role', 'alert')
  const refused = (await page.getByTestId('runs-import-result').textContent()) ?? ''
  expect(refused).toContain('layers.0.weight takes 5 inputs but the data gives 2 (x1, x2)')
  const needs = /gives 7 outputs but the data's task needs (\d+)/.exec(refused)
  expect(needs, refused).not.toBeNull()
  await expect(page.locator('[data-testid^="run-name-"][value="wrong"]')).toHaveCount(0)

  await importFile(page, torchMlp('torch-mlp.safetensors', [2, 6, 4, Number(needs![1])]), 'relu')
  await expect(page.getByTestId('training-view')).toBeVisible()
  await expect(page.getByTestId('layer-width-0')).toHaveValue('6')
  await expect(page.getByTestId('layer-width-1')).toHaveValue('4')
  await expect(page.getByTestId('layer-activation-0')).toHaveValue('relu')

  await page.getByTestId('play-button').click()
  await expect
    .poll(async () => Number(await page.getByTestId('status-step').getAttribute('data-value')), { timeout: 60_000 })
    .toBeGreaterThan(20)
  await page.getByTestId('pause-button').click()
  await page.getByTestId('tab-runs').click()
  await expect(page.getByTestId('runs-import-result')).toHaveText('Imported 6 tensors: hidden layers 6-4.')
  const names = () =>
    page.locator('[data-testid^="run-name-"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))
  await expect.poll(names).toContain('torch-mlp')
})
