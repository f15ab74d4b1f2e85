// Saving and restoring where an Rng and a BatchSampler are: a restored copy continues with exactly
// the numbers and batches the original goes on to produce (what an exactly resumed run needs).
import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { Rng } from '../rng.js'
import { BatchSampler } from './batching.js'
import { indexDataset } from './test-helpers.js'

describe('Rng state', () => {
  it('a restored generator draws what the original draws next, normal spare included', () => {
    const a = new Rng(42)
    for (let i = 0; i < 1001; i++) a.normal() // leaves a spare normal pending
    const b = new Rng(0)
    b.setState(structuredClone(a.getState()))
    expect(a.getState().s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)).toBe(true)
    expect(Array.from({ length: 20 }, () => b.normal())).toEqual(Array.from({ length: 20 }, () => a.normal()))
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(Array.from({ length: 20 }, () => a.nextU32()))
  })

  it('refuses a state that is not four unsigned words, or all zero', () => {
    const r = new Rng(1)
    for (const s of [
      [0, 0, 0, 0],
      [1, 2, 3],
      [1, 2, 3, -1],
      [1, 2, 3, 2 ** 32],
      [1.5, 2, 3, 4],
    ]) {
      expect(() => r.setState({ s: s as [number, number, number, number], spare: null }), JSON.stringify(s)).toThrow(EngineError)
    }
  })
})

describe('BatchSampler state', () => {
  it('continues mid-epoch, across the next shuffles, exactly like the original', () => {
    const ds = indexDataset(23, 2)
    const a = new BatchSampler(ds, 5, { seed: 9 })
    for (let i = 0; i < 13; i++) a.next() // epoch 2, batch 3 of 5
    const saved = a.getState()
    expect(saved).toMatchObject({ epoch: 2, stepInEpoch: 3, total: 13 })
    const b = new BatchSampler(ds, 5, { seed: 123 })
    b.setState(saved)
    for (let i = 0; i < 17; i++) {
      const x = a.next()
      const y = b.next()
      expect(Array.from(y.indices), `batch ${i}`).toEqual(Array.from(x.indices))
      expect([y.epoch, y.stepInEpoch]).toEqual([x.epoch, x.stepInEpoch])
    }
    a.next()
    expect(saved.total).toBe(13) // the saved state is a copy
  })

  it('refuses a state from another dataset or batch size', () => {
    const s = new BatchSampler(indexDataset(10, 2), 4, { seed: 1 })
    const state = s.getState()
    expect(() => new BatchSampler(indexDataset(11, 2), 4).setState(state)).toThrow(/order has 10 rows, the dataset has 11/)
    expect(() => new BatchSampler(indexDataset(10, 2), 5).setState({ ...state, stepInEpoch: 2 })).toThrow(
      /stepInEpoch 2 is outside \[0, 2\)/,
    )
    expect(() => s.setState({ ...state, order: new Uint32Array(10) })).toThrow(/not a permutation/)
  })
})
