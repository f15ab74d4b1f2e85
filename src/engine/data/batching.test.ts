import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { Rng } from '../rng.js'
import { BatchSampler, batches } from './batching.js'
import { indexDataset } from './test-helpers.js'

/** Copies what matters out of each (reused) batch. */
function collect(it: Iterable<{ x: Float32Array; y: Float32Array; size: number; indices: Uint32Array }>) {
  return Array.from(it, (b) => ({ size: b.size, x: Array.from(b.x), y: Array.from(b.y), idx: Array.from(b.indices) }))
}

function expectError(fn: () => unknown, code: string, ...parts: string[]): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(EngineError)
  expect((err as EngineError).code).toBe(code)
  for (const p of parts) expect((err as Error).message).toContain(p)
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('batches', () => {
  it('covers every index exactly once, last partial batch included', () => {
    const ds = indexDataset(10, 3)
    const got = collect(batches(ds, 3, { seed: 1 }))
    expect(got.map((b) => b.size)).toEqual([3, 3, 3, 1])
    expect(got.flatMap((b) => b.idx).sort((a, b) => a - b)).toEqual(range(10))
    for (const b of got) {
      expect(b.x.length).toBe(b.size * 2)
      expect(b.y.length).toBe(b.size)
      b.idx.forEach((i, k) => {
        expect(b.x[2 * k]).toBe(i)
        expect(b.x[2 * k + 1]).toBe(-2 * i)
        expect(b.y[k]).toBe(i % 3)
      })
    }
  })

  it('drops the last partial batch with dropLast', () => {
    const got = collect(batches(indexDataset(10), 3, { seed: 1, dropLast: true }))
    expect(got.map((b) => b.size)).toEqual([3, 3, 3])
    expect(new Set(got.flatMap((b) => b.idx)).size).toBe(9)
    expect(collect(batches(indexDataset(9), 3, { dropLast: true })).length).toBe(3)
  })

  it('keeps row order without shuffle and shuffles reproducibly with one', () => {
    const ds = indexDataset(50)
    expect(collect(batches(ds, 16, { shuffle: false })).flatMap((b) => b.idx)).toEqual(range(50))
    const a = collect(batches(ds, 16, { seed: 7 })).flatMap((b) => b.idx)
    const b = collect(batches(ds, 16, { rng: new Rng(7) })).flatMap((b) => b.idx)
    const c = collect(batches(ds, 16, { seed: 8 })).flatMap((b) => b.idx)
    expect(a).toEqual(b)
    expect(a).not.toEqual(range(50))
    expect(a).not.toEqual(c)
  })

  it('gives one batch of all rows when batchSize exceeds n', () => {
    const got = collect(batches(indexDataset(5), 64))
    expect(got.map((b) => b.size)).toEqual([5])
  })

  it('reuses its buffers between batches (documented)', () => {
    const it = batches(indexDataset(8), 4, { shuffle: false })
    const first = it.next().value!
    const firstX = first.x
    const second = it.next().value!
    expect(second.x).toBe(firstX)
    expect(firstX[0]).toBe(4) // overwritten by the second batch
  })

  it('rejects bad batch sizes and empty datasets', () => {
    const ds = indexDataset(10)
    for (const bs of [0, -1, 2.5, NaN]) expectError(() => batches(ds, bs).next(), 'argument', 'batchSize', String(bs))
    expectError(() => batches(indexDataset(0), 4).next(), 'data', 'empty')
    expectError(() => batches(ds, 11, { dropLast: true }).next(), 'argument', 'batchSize 11', 'n = 10', 'dropLast')
  })
})

describe('BatchSampler', () => {
  it('counts epochs and steps, reshuffling at each epoch boundary', () => {
    const s = new BatchSampler(indexDataset(10), 4, { seed: 3 })
    expect(s.stepsPerEpoch).toBe(3)
    const seen: { epoch: number; step: number; last: boolean; size: number; idx: number[] }[] = []
    for (let k = 0; k < 9; k++) {
      const b = s.next()
      seen.push({ epoch: b.epoch, step: b.stepInEpoch, last: b.lastInEpoch, size: b.size, idx: Array.from(b.indices) })
    }
    expect(seen.map((b) => b.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2])
    expect(seen.map((b) => b.step)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2])
    expect(seen.map((b) => b.last)).toEqual([false, false, true, false, false, true, false, false, true])
    expect(seen.map((b) => b.size)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2])
    const epochs = [0, 1, 2].map((e) => seen.filter((b) => b.epoch === e).flatMap((b) => b.idx))
    for (const order of epochs) expect([...order].sort((a, b) => a - b)).toEqual(range(10))
    expect(epochs[0]).not.toEqual(epochs[1])
    expect(s.epoch).toBe(3)
    expect(s.stepInEpoch).toBe(0)
    expect(s.step).toBe(9)
    s.next()
    expect(s.epoch).toBe(3)
    expect(s.stepInEpoch).toBe(1)
  })

  it('honours dropLast and shuffle: false', () => {
    const s = new BatchSampler(indexDataset(10), 4, { dropLast: true, seed: 0 })
    expect(s.stepsPerEpoch).toBe(2)
    const sizes = Array.from({ length: 6 }, () => s.next().size)
    expect(sizes).toEqual([4, 4, 4, 4, 4, 4])
    expect(s.epoch).toBe(3)
    const plain = new BatchSampler(indexDataset(5), 2, { shuffle: false })
    const idx = Array.from({ length: 6 }, () => Array.from(plain.next().indices))
    expect(idx).toEqual([[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]])
  })

  it('replays the same batches after reset() when seeded', () => {
    const s = new BatchSampler(indexDataset(20), 6, { seed: 9 })
    const run = () => Array.from({ length: 8 }, () => Array.from(s.next().indices))
    const first = run()
    s.reset()
    expect(s.step).toBe(0)
    expect(run()).toEqual(first)
  })

  it('rejects bad batch sizes with the same messages as batches()', () => {
    expectError(() => new BatchSampler(indexDataset(10), 0), 'argument', 'batchSize', '0')
    expectError(() => new BatchSampler(indexDataset(10), 1.5), 'argument', 'batchSize', '1.5')
    expectError(() => new BatchSampler(indexDataset(10), 20, { dropLast: true }), 'argument', 'dropLast')
    expectError(() => new BatchSampler(indexDataset(0), 2), 'data', 'empty')
  })
})
