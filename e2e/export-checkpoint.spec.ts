// Export any checkpoint, in serve mode: train past a checkpoint (every 250 steps), scrub the
// time-travel slider back to it, export PyTorch from there, and the downloads say that step:
// weights.safetensors' metadata, optimizer.safetensors', train_state.json and train.py's start.
import { readFileSync } from 'node:fs'
import { expect, test, type Download, type Page } from '@playwright/test'
import { appPath } from './serve-token'
import { PYTORCH_EXPORT_FILES } from '../src/shared/export-files'

const num = async (page: Page, testId: string, attr: string): Promise<number> => Number(await page.getByTestId(testId).getAttribute(attr))

/** A safetensors file's __metadata__ (u64 LE header length, then the JSON header). */
function safetensorsMetadata(path: string): Record<string, string> {
  const bytes = readFileSync(path)
  const n = Number(bytes.readBigUInt64LE(0))
  return JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')).__metadata__
}

test('scrub to an earlier checkpoint → export PyTorch → the files carry that checkpoint’s step', async ({ page }) => {
  test.setTimeout(120_000)
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))

  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await expect(page.getByTestId('param-count')).toContainText('parameters', { timeout: 15_000 })
  await page.getByTestId('play-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('running')
  await expect.poll(() => num(page, 'status-step', 'data-value'), { timeout: 60_000 }).toBeGreaterThan(300)
  await page.getByTestId('pause-button').click()
  await expect(page.getByTestId('session-status')).toHaveText('paused')
  const last = await num(page, 'status-step', 'data-value')

  // The run just trained is the newest: the first row, with a checkpoint every 250 steps and the pause's.
  await page.getByTestId('tab-runs').click()
  const row = page.locator('[data-testid^="run-row-"]').first()
  await expect.poll(async () => Number(await row.getAttribute('data-checkpoints')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2)
  const runId = (await row.getAttribute('data-testid'))!.slice('run-row-'.length)
  const count = Number(await row.getAttribute('data-checkpoints'))
  await page.getByTestId(`run-select-${runId}`).check()
  // The slider starts on the latest; one notch back is an earlier checkpoint.
  await expect(page.getByTestId('checkpoint-step')).toHaveAttribute('data-value', String(last))
  await page.getByTestId('checkpoint-slider').fill(String(count - 2))
  const step = await num(page, 'checkpoint-step', 'data-value')
  expect(step % 250).toBe(0)
  expect(step).toBeLessThan(last)
  await expect(page.getByTestId('time-travel-note')).toHaveAttribute('data-step', String(step), { timeout: 15_000 })

  const downloads: Download[] = []
  const all = new Promise<void>((resolve) => page.on('download', (d) => downloads.push(d) === PYTORCH_EXPORT_FILES.length && resolve()))
  await page.getByTestId('checkpoint-run-export').click()
  // The menu names the step (with the studio's digit grouping).
  await expect(page.getByTestId('checkpoint-run-export')).toContainText('Export step')
  expect((await page.getByTestId('checkpoint-run-export').textContent())!.replace(/\D/g, '')).toBe(String(step))
  await page.getByTestId('checkpoint-export-pytorch').click()
  await all
  const files = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), (await d.path())!] as const)))
  expect([...files.keys()].sort()).toEqual(PYTORCH_EXPORT_FILES)
  expect(safetensorsMetadata(files.get('weights.safetensors')!).step).toBe(String(step))
  expect(safetensorsMetadata(files.get('optimizer.safetensors')!).step).toBe(String(step))
  expect(JSON.parse(readFileSync(files.get('train_state.json')!, 'utf8')).step).toBe(step)
  expect(readFileSync(files.get('train.py')!, 'utf8')).toContain(`START_STEP = ${step}\n`)

  expect(problems).toEqual([])
})
