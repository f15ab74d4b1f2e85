import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { classCounts, type Dataset, subset, trainTestSplit, validateDataset } from './dataset.js'
import { generate } from './generators.js'
import { indexDataset, rowIds } from './test-helpers.js'

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

describe('validateDataset', () => {
  it('accepts a well-formed dataset', () => {
    expect(() => validateDataset(indexDataset(20))).not.toThrow()
    expect(() => validateDataset(indexDataset(20, 0))).not.toThrow()
  })

  it('names the dataset and the row of a non-finite value', () => {
    const ds = indexDataset(10)
    ds.x[3 * 2 + 1] = NaN
    expectError(() => validateDataset(ds), 'data', '"index"', 'row 3', 'NaN')
    const ds2 = indexDataset(10, 0)
    ds2.y[7] = Infinity
    expectError(() => validateDataset(ds2), 'data', '"index"', 'row 7', 'Infinity')
  })

  it('rejects wrong lengths and labels out of range', () => {
    expectError(() => validateDataset({ ...indexDataset(10), x: new Float32Array(19) }), 'data', 'x has length 19')
    expectError(() => validateDataset({ ...indexDataset(10), y: new Float32Array(9) }), 'data', 'y has length 9')
    expectError(() => validateDataset({ ...indexDataset(10), featureNames: ['a'] }), 'data', 'featureNames')
    const ds = indexDataset(10)
    ds.y[4] = 2
    expectError(() => validateDataset(ds), 'data', 'row 4', 'label 2')
    ds.y[4] = 0.5
    expectError(() => validateDataset(ds), 'data', 'row 4', 'label 0.5')
    expectError(() => validateDataset({ ...indexDataset(10, 0), nClasses: 2 }), 'data', 'nClasses = 0')
    expectError(() => validateDataset({ ...indexDataset(10, 3), task: 'binary' }), 'data', 'nClasses = 2')
  })
})

describe('subset and classCounts', () => {
  it('copies the chosen rows in order', () => {
    const ds = indexDataset(10, 3)
    const s = subset(ds, [7, 2, 2])
    expect(s.n).toBe(3)
    expect(rowIds(s)).toEqual([7, 2, 2])
    expect(Array.from(s.y)).toEqual([1, 2, 2])
    s.x[0] = 99
    expect(ds.x[14]).toBe(7) // a copy, not a view
    expect(classCounts(ds)).toEqual([4, 3, 3])
  })

  it('rejects indices outside the dataset', () => {
    expectError(() => subset(indexDataset(5), [0, 5]), 'argument', 'indices[1] = 5', 'n = 5')
    expectError(() => subset(indexDataset(5), [1.5]), 'argument', 'indices[0] = 1.5')
  })
})

describe('trainTestSplit', () => {
  it('gives the right sizes, no overlap and every row once', () => {
    const ds = indexDataset(500)
    const { train, test } = trainTestSplit(ds, { testRatio: 0.2, seed: 1 })
    expect(test.n).toBe(100)
    expect(train.n).toBe(400)
    const a = rowIds(train)
    const b = rowIds(test)
    const all = new Set([...a, ...b])
    expect(all.size).toBe(500)
    expect(a.filter((i) => b.includes(i))).toEqual([])
    // Labels travel with their rows.
    for (const part of [train, test]) for (let i = 0; i < part.n; i++) expect(part.y[i]).toBe(part.x[2 * i] % 2)
    validateDataset(train)
    validateDataset(test)
  })

  it('is shuffled and reproducible per seed', () => {
    const ds = indexDataset(200)
    const s1 = trainTestSplit(ds, { testRatio: 0.5, seed: 3 })
    const s2 = trainTestSplit(ds, { testRatio: 0.5, seed: 3 })
    const s3 = trainTestSplit(ds, { testRatio: 0.5, seed: 4 })
    expect(s1.train.x).toEqual(s2.train.x)
    expect(s1.test.y).toEqual(s2.test.y)
    expect(rowIds(s1.test)).not.toEqual(rowIds(s3.test))
    const ids = rowIds(s1.train)
    expect(ids).not.toEqual([...ids].sort((p, q) => p - q))
  })

  it('stratifies classes by default', () => {
    // 300 rows of class 0, 100 of class 1.
    const ds = indexDataset(400)
    for (let i = 0; i < 400; i++) ds.y[i] = i < 300 ? 0 : 1
    const { train, test } = trainTestSplit(ds, { testRatio: 0.25, seed: 0 })
    expect(classCounts(test)).toEqual([75, 25])
    expect(classCounts(train)).toEqual([225, 75])
    const odd = trainTestSplit(indexDataset(11, 3), { testRatio: 0.3, seed: 0 })
    expect(odd.test.n).toBe(3)
    expect(classCounts(odd.test)).toEqual([1, 1, 1])
  })

  it('splits generated and regression data', () => {
    const ds = generate('circle', { n: 300, seed: 5 })
    const { test } = trainTestSplit(ds, { testRatio: 0.3, seed: 0 })
    expect(classCounts(test)).toEqual([45, 45])
    const reg = trainTestSplit(generate('reg-plane', { n: 101 }), { testRatio: 0.5 })
    expect(reg.train.n + reg.test.n).toBe(101)
    expect(reg.test.nClasses).toBe(0)
  })

  it('handles the edges of testRatio', () => {
    const ds = indexDataset(10)
    expect(trainTestSplit(ds, { testRatio: 0 }).test.n).toBe(0)
    expect(trainTestSplit(ds, { testRatio: 0.99 }).train.n).toBe(1)
    for (const bad of [-0.1, 1, 1.5, NaN]) expectError(() => trainTestSplit(ds, { testRatio: bad }), 'argument', 'testRatio', String(bad))
    const empty: Dataset = { ...indexDataset(0) }
    expectError(() => trainTestSplit(empty, { testRatio: 0.5 }), 'data', 'no rows')
  })
})
