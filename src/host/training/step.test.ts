// The step's bookkeeping around its outcome on a split CPU step (the device's steps are pending
// the same way, between their awaits): a refused step ends like an applied one — its batch is
// drawn, nothing is pending, the weights are untouched and the gradients cleared.
import { describe, expect, it } from 'vitest'
import { add, mul, softmaxCrossEntropy, sqrt, sum } from '../../engine'
import { SessionSpec } from '../../shared/protocol'
import { prepareData } from '../data-source'
import { planLoss, type LossPlan } from '../setup'
import { spec as specInput } from '../test-helpers'
import { Trainer } from '../trainer'
import { chunkFlopsForRows } from '../work-budget'
import { runSync, sliced } from './drive'

const SIZES = [2, 8, 8, 2]
/** 4-row chunks for a batch of 16 (see fairness.test.ts). */
const CHUNK_FLOPS = chunkFlopsForRows(SIZES, 4)

function split(loss?: LossPlan['loss']): Trainer {
  const s = SessionSpec.parse(
    specInput({
      model: { hidden: [8, 8], activation: 'relu' },
      optimizer: { type: 'sgd', lr: 0.1 },
      train: { batchSize: 16, evalEvery: 50, seed: 1 },
    }),
  )
  const d = prepareData(s.data, null)
  const plan = planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data')
  return new Trainer(d, loss ? { ...plan, loss } : plan, s, undefined, { chunkFlops: CHUNK_FLOPS })
}

const weights = (t: Trainer) => t.model.parameters().map((p) => Array.from(p.dataSync()))

describe('a wide step in pieces', () => {
  it('runs the whole batch at once (no gradient sums), a layer or a rule a piece: the same update as in one piece', () => {
    const make = (chunkFlops: number) => {
      const s = SessionSpec.parse(
        specInput({
          model: { hidden: [8, 8], activation: 'relu' },
          optimizer: { type: 'adam', lr: 0.01 },
          train: { batchSize: 16, seed: 1 },
        }),
      )
      const d = prepareData(s.data, null)
      return new Trainer(d, planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data'), s, undefined, { chunkFlops })
    }
    // Just over one piece of work for the step (3·192 FLOPs a row · 16 rows), yet 16 rows fit in a chunk.
    const inPieces = make(3 * 192 * 16 - 1)
    const whole = make(3 * 192 * 16)
    expect([inPieces.stepChunkRows, whole.stepChunkRows]).toEqual([16, 16])
    for (let i = 0; i < 4; i++) {
      const task = sliced(inPieces.step(true))
      let pieces = 0
      let r = task.next()
      for (; !r.done; r = task.next()) pieces++
      expect(pieces).toBeGreaterThan(2) // 2 between the 3 layers of the forward, more in the backward
      const wholeTask = sliced(whole.step(true))
      let rw = wholeTask.next()
      let wholePieces = 0
      for (; !rw.done; rw = wholeTask.next()) wholePieces++
      expect(wholePieces).toBe(0)
      const [a, b] = [r.value, rw.value]
      if (!a?.ok || !b?.ok) throw new Error('refused')
      expect(a.loss).toBe(b.loss)
      expect(a.stats).toEqual(b.stats)
    }
    expect(weights(inPieces)).toEqual(weights(whole)) // the same operations on the same rows: bit for bit
  })
})

describe('a split step', () => {
  it('refused on a non-finite chunk loss: stops at that chunk, batch drawn, nothing pending, gradients cleared', () => {
    const t = split((out, y) => mul(softmaxCrossEntropy(out, y), Infinity))
    const before = { w: weights(t), sampler: t.captureState().sampler }
    const task = sliced(t.step(false))
    let r = task.next()
    let pieces = 0
    for (; !r.done; r = task.next()) pieces++
    expect(pieces).toBe(2) // the first chunk's forward, a layer a piece: its loss ends it, before its backward
    expect(r.value).toMatchObject({
      ok: false,
      alarm: {
        step: 1,
        kind: 'inf',
        message: 'step 1: the minibatch loss is Infinity; training paused. Lower the learning rate or reset.',
      },
    })
    expect(t.stepPending).toBe(false)
    expect(t.stepCount).toBe(0)
    expect(t.captureState().sampler).not.toEqual(before.sampler)
    expect(weights(t)).toEqual(before.w)
    expect(t.model.parameters().every((p) => p.grad === null)).toBe(true)
  })

  it('refused on a non-finite gradient after its last chunk: nothing pending, weights untouched', () => {
    // loss + 0·√(0·Σout): a finite loss whose gradient is NaN (d√u/du at 0 is Infinity, times 0).
    const t = split((out, y) => add(softmaxCrossEntropy(out, y), mul(sqrt(mul(sum(out), 0)), 0)))
    const before = weights(t)
    const r = runSync(t.step(false))!.value
    expect(r).toMatchObject({ ok: false, alarm: { step: 1, kind: 'nan', parameter: 'layers.0.weight' } })
    expect(t.stepPending).toBe(false)
    expect(weights(t)).toEqual(before)
  })

  it('applied: the same as the whole batch at once, then nothing pending', () => {
    const t = split()
    const task = t.step(false)
    const r = runSync(task, { deadline: 0, now: () => 0 }) // one chunk, then a slice point
    expect(r).toBeNull()
    expect(t.stepPending).toBe(true)
    const done = runSync(task)!.value
    expect(done).toMatchObject({ ok: true })
    expect(t.stepPending).toBe(false)
    expect(t.stepCount).toBe(1)
  })
})
