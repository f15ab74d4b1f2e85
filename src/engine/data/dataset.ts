// The dataset record every other part of the engine consumes: plain typed arrays so it can be
// posted to a worker (structured clone) and wrapped by the tensor layer without copying.

import { EngineError } from '../errors.js'
import { Rng } from '../rng.js'

export type Task = 'binary' | 'multiclass' | 'regression'

export interface Dataset {
  name: string
  task: Task
  /** Row-major n × nFeatures. */
  x: Float32Array
  /** Class index 0..nClasses-1 for classification, target value for regression. */
  y: Float32Array
  n: number
  nFeatures: number
  /** 0 for regression. */
  nClasses: number
  featureNames: string[]
  classNames?: string[]
}

export function isClassification(ds: Dataset): boolean {
  return ds.task !== 'regression'
}

/**
 * Checks shapes, finiteness and label range; throws an EngineError (code 'data') naming the
 * dataset and the first bad row. Called on every dataset built here and meant for imported ones,
 * so a NaN is reported where it enters rather than as a NaN loss a hundred steps later.
 */
export function validateDataset(ds: Dataset): void {
  const op = 'validateDataset'
  const where = `dataset "${ds.name}"`
  const fail = (msg: string): never => {
    throw new EngineError(op, 'data', `${where}: ${msg}`)
  }
  if (!Number.isInteger(ds.n) || ds.n < 0) fail(`n must be a non-negative integer, got ${ds.n}`)
  if (!Number.isInteger(ds.nFeatures) || ds.nFeatures < 1) fail(`nFeatures must be a positive integer, got ${ds.nFeatures}`)
  if (ds.x.length !== ds.n * ds.nFeatures)
    fail(`x has length ${ds.x.length}, expected n*nFeatures = ${ds.n}*${ds.nFeatures} = ${ds.n * ds.nFeatures}`)
  if (ds.y.length !== ds.n) fail(`y has length ${ds.y.length}, expected n = ${ds.n}`)
  if (ds.featureNames.length !== ds.nFeatures)
    fail(`featureNames has ${ds.featureNames.length} names, expected nFeatures = ${ds.nFeatures}`)
  const cls = isClassification(ds)
  if (cls) {
    if (!Number.isInteger(ds.nClasses) || ds.nClasses < 2) fail(`a ${ds.task} dataset needs nClasses >= 2, got ${ds.nClasses}`)
    if (ds.task === 'binary' && ds.nClasses !== 2) fail(`a binary dataset needs nClasses = 2, got ${ds.nClasses}`)
    if (ds.classNames && ds.classNames.length !== ds.nClasses)
      fail(`classNames has ${ds.classNames.length} names, expected nClasses = ${ds.nClasses}`)
  } else if (ds.nClasses !== 0) {
    fail(`a regression dataset must have nClasses = 0, got ${ds.nClasses}`)
  }
  const { x, y, nFeatures: f } = ds
  for (let i = 0; i < ds.n; i++) {
    for (let j = 0; j < f; j++) {
      const v = x[i * f + j]
      if (!Number.isFinite(v)) fail(`row ${i}: feature ${j} ("${ds.featureNames[j]}") is ${v}`)
    }
    const t = y[i]
    if (!Number.isFinite(t)) fail(`row ${i}: target is ${t}`)
    if (cls && (!Number.isInteger(t) || t < 0 || t >= ds.nClasses))
      fail(`row ${i}: label ${t} is not a class index in [0, ${ds.nClasses - 1}]`)
  }
}

/** Rows per class (index = class). Empty for regression. */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.nClasses).fill(0)
  if (!isClassification(ds)) return counts
  for (let i = 0; i < ds.n; i++) counts[ds.y[i]]++
  return counts
}

/** A new dataset holding copies of the given rows, in the given order (repeats allowed). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const f = ds.nFeatures
  const m = indices.length
  const x = new Float32Array(m * f)
  const y = new Float32Array(m)
  for (let k = 0; k < m; k++) {
    const i = indices[k]
    if (!Number.isInteger(i) || i < 0 || i >= ds.n)
      throw new EngineError('subset', 'argument', `indices[${k}] = ${i} is not a row of dataset "${ds.name}" (n = ${ds.n})`)
    x.set(ds.x.subarray(i * f, i * f + f), k * f)
    y[k] = ds.y[i]
  }
  return {
    name,
    task: ds.task,
    x,
    y,
    n: m,
    nFeatures: f,
    nClasses: ds.nClasses,
    featureNames: ds.featureNames.slice(),
    ...(ds.classNames ? { classNames: ds.classNames.slice() } : {}),
  }
}

export interface SplitOptions {
  /** Fraction of rows that go to the test set, in [0, 1). */
  testRatio: number
  seed?: number
  /** Keep each class's proportion in both parts (classification only). Default true. */
  stratify?: boolean
}

/**
 * Shuffled train/test split. The test set gets round(n * testRatio) rows (at most n - 1, so train
 * is never empty). Stratified by default for classification: each class is split in the same
 * proportion (largest-remainder rounding), so a small test set does not miss a class by chance.
 */
export function trainTestSplit(ds: Dataset, opts: SplitOptions): { train: Dataset; test: Dataset } {
  const op = 'trainTestSplit'
  const { testRatio, seed = 0 } = opts
  if (typeof testRatio !== 'number' || !Number.isFinite(testRatio) || testRatio < 0 || testRatio >= 1)
    throw new EngineError(op, 'argument', `testRatio must be in [0, 1), got ${testRatio}`)
  if (!Number.isFinite(seed)) throw new EngineError(op, 'argument', `seed must be a finite number, got ${seed}`)
  validateDataset(ds)
  if (ds.n < 1) throw new EngineError(op, 'data', `dataset "${ds.name}" has no rows to split`)
  const rng = new Rng(seed)
  const nTest = Math.min(Math.round(ds.n * testRatio), ds.n - 1)
  const stratify = (opts.stratify ?? true) && isClassification(ds)

  // Group row indices (one group, or one per class), shuffle each group, then cut.
  const groups: number[][] = stratify ? Array.from({ length: ds.nClasses }, () => []) : [[]]
  for (let i = 0; i < ds.n; i++) groups[stratify ? ds.y[i] : 0].push(i)
  for (const g of groups) rng.shuffle(g)
  const take = allocate(
    groups.map((g) => g.length),
    nTest,
  )
  const trainIdx: number[] = []
  const testIdx: number[] = []
  groups.forEach((g, c) => {
    for (let k = 0; k < g.length; k++) (k < take[c] ? testIdx : trainIdx).push(g[k])
  })
  // Mix the classes again so unshuffled batching does not see them in blocks.
  rng.shuffle(trainIdx)
  rng.shuffle(testIdx)
  return { train: subset(ds, trainIdx), test: subset(ds, testIdx) }
}

/** Split `total` across groups in proportion to their sizes, rounding by largest remainder. */
function allocate(sizes: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0)
  if (n === 0) return sizes.map(() => 0)
  const exact = sizes.map((s) => (s * total) / n)
  const out = exact.map(Math.floor)
  let left = total - out.reduce((a, b) => a + b, 0)
  // Ties break by group order so the result is deterministic.
  const order = exact.map((_, i) => i).sort((a, b) => exact[b] - out[b] - (exact[a] - out[a]) || a - b)
  for (const i of order) {
    if (left <= 0) break
    if (out[i] < sizes[i]) {
      out[i]++
      left--
    }
  }
  return out
}
