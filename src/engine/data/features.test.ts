import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { subset, trainTestSplit } from './dataset.js'
import {
  applyStandardization,
  featurize,
  featurizeRows,
  fitStandardization,
  listFeatures,
  standardize,
  standardizeRows,
} from './features.js'
import { generate } from './generators.js'
import { indexDataset } from './test-helpers.js'

function expectError(fn: () => unknown, ...parts: string[]): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(EngineError)
  for (const p of parts) expect((err as Error).message).toContain(p)
}

function columnStats(x: Float32Array, f: number, j: number): { mean: number; std: number } {
  const n = x.length / f
  let s = 0
  for (let i = 0; i < n; i++) s += x[i * f + j]
  const mean = s / n
  let v = 0
  for (let i = 0; i < n; i++) v += (x[i * f + j] - mean) ** 2
  return { mean, std: Math.sqrt(v / n) }
}

describe('featurize', () => {
  it('computes Playground features column by column', () => {
    const ds = subset(generate('spiral', { n: 50, noise: 0.3, seed: 2 }), [0, 1, 2, 3, 4])
    const names = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'] as const
    const out = featurize(ds, names)
    expect(out.nFeatures).toBe(7)
    expect(out.featureNames).toEqual([...names])
    expect(out.y).toEqual(ds.y)
    expect(out.y).not.toBe(ds.y)
    for (let i = 0; i < ds.n; i++) {
      const a = ds.x[2 * i]
      const b = ds.x[2 * i + 1]
      const want = [a, b, a * a, b * b, a * b, Math.sin(a), Math.sin(b)].map(Math.fround)
      expect(Array.from(out.x.subarray(i * 7, i * 7 + 7))).toEqual(want)
    }
  })

  it('keeps the chosen order and works into a caller buffer', () => {
    const xy = new Float32Array([1, 2, -3, 0.5])
    expect(Array.from(featurizeRows(xy, ['x1x2', 'x2sq']))).toEqual([2, 4, -1.5, 0.25])
    const buf = new Float32Array(2)
    expect(featurizeRows(xy, ['x1'], buf)).toBe(buf)
    expect(Array.from(buf)).toEqual([1, -3])
    expectError(() => featurizeRows(xy, ['x1'], new Float32Array(3)), 'out has length 3')
    expectError(() => featurizeRows(new Float32Array(3), ['x1']), 'odd length 3')
  })

  it('rejects unknown, repeated or missing features and non-2-D data', () => {
    const ds = generate('xor', { n: 10 })
    expectError(() => featurize(ds, ['x1', 'cosx1' as never]), 'features[1] = "cosx1"')
    expectError(() => featurize(ds, ['x1', 'x1']), 'features[1] = "x1"', 'twice')
    expectError(() => featurize(ds, []), 'at least one')
    expectError(() => featurize(indexDataset(4, 2, 3), ['x1']), '"index"', '3 features')
  })

  it('lists the seven features with UI labels', () => {
    expect(listFeatures().map((f) => f.name)).toEqual(['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'])
    expect(listFeatures()[2].label).toBe('X₁²')
  })
})

describe('standardize', () => {
  it('gives mean 0 / std 1 on train and applies the train stats to test', () => {
    const ds = featurize(generate('gauss', { n: 600, noise: 0.3, seed: 1 }), ['x1', 'x2', 'x1sq', 'x1x2'])
    const split = trainTestSplit(ds, { testRatio: 0.3, seed: 1 })
    const { train, test, stats } = standardize(split.train, split.test)
    expect(stats.featureNames).toEqual(['x1', 'x2', 'x1sq', 'x1x2'])
    for (let j = 0; j < 4; j++) {
      const s = columnStats(train.x, 4, j)
      expect(Math.abs(s.mean)).toBeLessThan(1e-5)
      expect(s.std).toBeCloseTo(1, 5)
      const raw = columnStats(split.train.x, 4, j)
      expect(stats.mean[j]).toBeCloseTo(raw.mean, 4)
      expect(stats.std[j]).toBeCloseTo(raw.std, 4)
    }
    // The test set is scaled with train's numbers, not its own.
    expect(test!.x[0]).toBeCloseTo((split.test.x[0] - stats.mean[0]) / stats.std[0], 5)
    expect(split.train.x[0]).not.toBe(train.x[0]) // inputs untouched, outputs new
    expect(Array.from(standardizeRows(split.test.x, stats))).toEqual(Array.from(test!.x))
  })

  it('maps a constant column to 0 instead of dividing by zero', () => {
    const ds = indexDataset(6)
    ds.x.forEach((_, k) => {
      if (k % 2 === 1) ds.x[k] = 3.7
    })
    const stats = fitStandardization(ds)
    expect(stats.std[1]).toBe(1)
    const out = applyStandardization(ds, stats)
    for (let i = 0; i < 6; i++) expect(out.x[2 * i + 1]).toBeCloseTo(0, 6)
    expect(standardize(ds).test).toBeUndefined()
  })

  it('rejects data whose columns differ from the fitted ones', () => {
    const stats = fitStandardization(indexDataset(5))
    expectError(() => applyStandardization(indexDataset(5, 2, 3), stats), 'columns')
    expectError(() => fitStandardization(indexDataset(0)), 'empty')
  })
})
