// External runs on the real host: a watch.report makes a run (run.json with `external`, the metrics
// log as the studio writes it), is listed live, its history reads back, alarms fire on the reported
// norms once per episode in PyTorch's layer names, a final report saves it, and it cannot be opened.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RequestPayload } from '../../shared/protocol'
import { cleanupAfterEach, make, tempDir } from '../runs/test-helpers'
import { spec } from '../test-helpers'

cleanupAfterEach()

const stats = (g: number) => ({ gradNorm: g, meanAbsGrad: g / 10, maxAbsGrad: g / 2, weightNorm: 2, biasGradNorm: 0 })

function report(over: Partial<RequestPayload<'watch.report'>> = {}): RequestPayload<'watch.report'> {
  return {
    watchId: 'w-test-0001',
    name: 'torch mlp',
    layers: ['net.0', 'net.2'],
    shapes: [
      [16, 2],
      [1, 16],
    ],
    points: [
      { step: 1, loss: 0.9, lr: 0.1, stats: [stats(0.5), stats(0.2)] },
      { step: 2, loss: 0.8, lr: 0.1 },
    ],
    ...over,
  }
}

describe('watch.report: external runs', () => {
  it('records a run with its metrics log, lists it live, and saves it on the final report', async () => {
    const dir = tempDir()
    const h = make(dir)
    const first = await h.ok('watch.report', report())
    expect(first).toEqual({ runId: expect.stringMatching(/^r/), accepted: 2, alarms: [] })
    const listed = (await h.ok('runs.list', {})).runs.find((r) => r.runId === first.runId)!
    expect(listed).toMatchObject({ name: 'torch mlp', status: 'live', steps: 2, lastTrainLoss: 0.8, checkpoints: [] })
    expect(listed.external).toEqual({
      source: 'studio_watch',
      layers: ['net.0', 'net.2'],
      shapes: [
        [16, 2],
        [1, 16],
      ],
      dropped: 0,
    })

    const ev = h.of('watch.metrics').at(-1)!
    expect(ev).toMatchObject({ runId: first.runId, layerNames: ['net.0', 'net.2'], final: false })
    expect(ev.batch.steps).toEqual([1, 2])
    // lr·‖g‖/‖w‖ from the reported lr; the activation statistics are unknown from parameters alone.
    expect(ev.batch.layers[0].stats[0]).toMatchObject({ gradNorm: 0.5, updateRatio: 0.025, deadFraction: null })

    const again = await h.ok('watch.report', report({ points: [{ step: 3, loss: 0.7 }], final: true, dropped: 4 }))
    expect(again.runId).toBe(first.runId)
    const rec = JSON.parse(readFileSync(join(dir, first.runId, 'run.json'), 'utf8'))
    expect(rec).toMatchObject({ status: 'saved', external: { dropped: 4 }, stats: { steps: 3, lastTrainLoss: 0.7 } })
    const history = await h.ok('runs.metrics', { runId: first.runId })
    expect(history.steps).toEqual([1, 2, 3])
    expect(history.gradNorms).toEqual([{ step: 1, norms: [0.5, 0.2] }])
    expect((await h.ok('runs.list', {})).runs.find((r) => r.runId === first.runId)?.status).toBe('saved')

    const csv = (await h.ok('runs.export', { runId: first.runId, format: 'metrics-csv' })).files[0]!
    expect(csv.content.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(3)
    const noWeights = await h.fail('runs.export', { runId: first.runId, format: 'pytorch' })
    expect(noWeights.message).toContain('has no checkpoint')

    const refused = await h.fail('runs.open', { runId: first.runId })
    expect(refused.code).toBe('invalid_payload')
    expect(refused.message).toContain('studio_watch.py')
  })

  it("runs the studio's alarms on reported norms: exploding once per episode, NaN, in PyTorch's names", async () => {
    const h = make(tempDir())
    const big = { lr: null, stats: [stats(5e3), stats(1)] }
    const r = await h.ok(
      'watch.report',
      report({
        points: [
          { step: 1, loss: 1, ...big },
          { step: 2, loss: 1, ...big },
          { step: 3, loss: 1, lr: null, stats: [stats(1), stats(1)] },
          { step: 4, loss: null },
        ],
      }),
    )
    expect(r.alarms).toHaveLength(2)
    expect(r.alarms[0]).toMatch(/^step 1: exploding gradients — net\.0 gradient norm 5e\+03/)
    expect(r.alarms[1]).toMatch(/^step 4: the loss is not finite/)
    const ev = h.of('watch.metrics').at(-1)!
    expect(ev.alarms.map((a) => [a.kind, a.layer])).toEqual([
      ['exploding', 'net.0'],
      ['nan', null],
    ])
    // No lr: the update ratio cannot be known and reads 0, never NaN.
    expect(ev.batch.layers[0].stats[0].updateRatio).toBe(0)
  })

  it('ships studio_watch.py, as it is in the source tree, with every PyTorch export', async () => {
    const h = make(tempDir())
    const s = await h.ok('session.create', spec())
    const files = (await h.ok('runs.export', { runId: s.runId!, format: 'pytorch' })).files
    const watchPy = files.find((f) => f.name === 'studio_watch.py')
    expect(watchPy?.content).toBe(readFileSync(new URL('../export/studio_watch.py', import.meta.url), 'utf8'))
  })

  it('refuses the reports of a run the user deleted while it was live', async () => {
    const h = make(tempDir())
    const { runId } = await h.ok('watch.report', report())
    await h.ok('runs.delete', { runId })
    const e = await h.fail('watch.report', report({ points: [{ step: 3, loss: 0.5 }] }))
    expect(e).toMatchObject({
      code: 'not_found',
      message: `watch.report: run ${runId} ("torch mlp") was deleted in the studio; its reports are refused`,
    })
    const restored = await h.ok('runs.restore', { runId })
    expect(restored).toMatchObject({ status: 'saved', steps: 2 })
  })

  it('refuses a script that changes its layers mid-run, and reports without a data directory', async () => {
    const h = make(tempDir())
    await h.ok('watch.report', report())
    const e = await h.fail('watch.report', report({ layers: ['fc1'], shapes: [[1, 2]], points: [] }))
    expect(e).toMatchObject({ code: 'invalid_payload' })
    expect(e.message).toContain('reported layers [net.0, net.2] before and now [fc1]')
    const bad = await h.fail('watch.report', report({ points: [{ step: 1, loss: 1, stats: [stats(1)] }] }))
    expect(bad.message).toContain('points[0].stats: gives 1 layer statistics for 2 layers')
  })
})
