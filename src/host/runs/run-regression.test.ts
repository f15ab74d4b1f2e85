// A regression run through the real host: its evaluations carry R², RMSE and MAE in the protocol
// and in the run's metrics log, and its spec saves whether the target trained standardised. A
// run.json from before that option read back as what it was: trained on the raw target.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { okReply, parseReply } from '../../shared/protocol'
import { spec } from '../test-helpers'
import { cleanupAfterEach, make, runRecord, tempDir } from './test-helpers'
import { parseRecord } from './run-record'

cleanupAfterEach()

const diabetes = readFileSync(new URL('../../../e2e/fixtures/diabetes.csv', import.meta.url))

describe('a regression run', () => {
  it('carries R², RMSE and MAE in train.metrics and in its metrics log; its spec saves standardizeTarget', async () => {
    const h = make(tempDir())
    const file = await h.ok('files.upload', {
      uploadId: 'udiabetes1',
      name: 'diabetes.csv',
      index: 0,
      total: 1,
      bytes: diabetes.length,
      chunkBase64: diabetes.toString('base64'),
    })
    const info = await h.ok(
      'session.create',
      spec({
        model: { hidden: [16], activation: 'relu' },
        data: { source: 'csv', fileId: file.file!.fileId, target: 'progression' },
        optimizer: { type: 'adam', lr: 0.01 },
        train: { batchSize: 32, evalEvery: 50, seed: 0 },
      }),
    )
    expect(info.task).toBe('regression')
    expect(info.spec.data).toMatchObject({ source: 'csv', standardizeTarget: true })
    await h.ok('session.step', { sessionId: info.state.sessionId, steps: 100 })
    const evals = h.of('train.metrics', info.state.sessionId).flatMap((b) => b.evals)
    expect(evals.map((e) => e.step)).toEqual([0, 50, 100])
    for (const e of evals) {
      expect(e.regression!.test).toEqual({ r2: expect.any(Number), rmse: expect.any(Number), mae: expect.any(Number) })
      // The loss is the MSE in the target's units: the RMSE squared.
      expect(e.testLoss / e.regression!.test.rmse ** 2).toBeCloseTo(1, 4)
    }
    expect(evals[2]!.regression!.test.r2!).toBeGreaterThan(evals[0]!.regression!.test.r2!)
    const m = await h.ok('runs.metrics', { runId: info.runId!, maxPoints: 20_000 })
    expect(parseReply('runs.metrics', okReply(1, m)).ok).toBe(true)
    expect(m.evals.map((e) => e.regression)).toEqual(evals.map((e) => e.regression))
  }, 60_000)

  it('a run.json from before target standardisation reads as trained on the raw target', () => {
    const csv = { source: 'csv', fileId: 'f0123456789abcdef', target: 'y', task: 'auto', standardize: true, testRatio: 0.3, seed: 0 }
    const old = runRecord()
    const read = (data: object) => parseRecord(JSON.stringify({ ...old, spec: { ...old.spec, data } }))
    expect(read(csv)).toMatchObject({ spec: { data: { source: 'csv', standardizeTarget: false } } })
    expect(read({ ...csv, standardizeTarget: true })).toMatchObject({ spec: { data: { standardizeTarget: true } } })
    expect(read({ source: 'bundled', name: 'iris' })).toMatchObject({ spec: { data: { standardizeTarget: false } } })
  })
})
