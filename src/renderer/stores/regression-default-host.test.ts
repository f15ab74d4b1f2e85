// The studio's defaults on a real regression table, run on the real host: the diabetes CSV (309
// training rows) with the default form (8×8 tanh, Adam 0.01, batch 32) and the L2 its task brings
// (l2-default.ts) trains 2,000 steps without an alarm and ends with a useful test R², where the
// same run without L2 has overfitted. Seeds 1–8 end at 0.39–0.60 with the default (0.13 at seed 1
// without it), so the 0.3 the studio promises has a real margin.
import { readFileSync } from 'node:fs'
import { reactive } from 'vue'
import { afterEach, describe, expect, it } from 'vitest'
import { testHost } from '../../host/test-helpers'
import { buildSpec, defaultForm, type SessionForm } from './session-form'
import { REGRESSION_L2, followDataL2 } from './l2-default'

const diabetes = readFileSync(new URL('../../../e2e/fixtures/diabetes.csv', import.meta.url))
let h: ReturnType<typeof testHost> | null = null
afterEach(() => h?.host.dispose())

/** The default form with only the file and its target chosen, its L2 set as the form store sets it once the task is known. */
async function diabetesForm(seed: number): Promise<SessionForm> {
  h = testHost()
  const file = await h.ok('files.upload', {
    uploadId: `udiabetes${seed}`,
    name: 'diabetes.csv',
    index: 0,
    total: 1,
    bytes: diabetes.length,
    chunkBase64: diabetes.toString('base64'),
  })
  const form = reactive(defaultForm())
  form.source = 'csv'
  form.csv = { ...form.csv, fileId: file.file!.fileId, target: 'progression', seed }
  const preview = await h.ok('dataset.preview', buildSpec(form).data)
  followDataL2(form, () => preview.task)
  return form
}

/** Train `form` 2,000 steps on the host; the alarms raised and the last evaluation's test R². */
async function train(form: SessionForm): Promise<{ alarms: string[]; step: number; r2: number }> {
  const info = await h!.ok('session.create', { ...buildSpec(form), backend: 'cpu' })
  const sessionId = info.state.sessionId
  const state = await h!.ok('session.step', { sessionId, steps: 2000 })
  const batches = h!.of('train.metrics', sessionId)
  const last = batches.flatMap((b) => b.evals).at(-1)!
  return {
    alarms: h!.of('train.alarm', sessionId).map((a) => a.message),
    step: state.step,
    r2: last.regression!.test.r2!,
  }
}

describe('the default form on the diabetes CSV', () => {
  it('brings L2 0.01 with the regression task, and trains 2,000 steps without an alarm to test R² ≥ 0.3 (seeds 1–3)', async () => {
    for (const seed of [1, 2, 3]) {
      const form = await diabetesForm(seed)
      expect(form.l2).toBe(REGRESSION_L2)
      expect(buildSpec(form)).toMatchObject({
        model: { hidden: [8, 8], activations: ['tanh', 'tanh'], init: 'xavier-uniform' },
        optimizer: { type: 'adam', lr: 0.01 },
        train: { batchSize: 32, seed, l2: REGRESSION_L2 },
      })
      const run = await train(form)
      console.log(`regression-default-host.test.ts: seed ${seed}: test R² ${run.r2.toFixed(3)} at step ${run.step}`)
      expect(run).toMatchObject({ alarms: [], step: 2000 })
      expect(run.r2).toBeGreaterThanOrEqual(0.3)
      h!.host.dispose()
      h = null
    }
  }, 180_000)

  it('without it the same run overfits: the test R² at step 2,000 is far below the default’s', async () => {
    const form = await diabetesForm(1)
    const withL2 = await train(form)
    form.l2 = 0
    const without = await train(form)
    console.log(`regression-default-host.test.ts: seed 1: test R² ${withL2.r2.toFixed(3)} with L2 0.01, ${without.r2.toFixed(3)} without`)
    expect(without.r2).toBeLessThan(withL2.r2 - 0.2)
  }, 120_000)
})
