// Input features and feature scaling. The features are Playground's input nodes for 2-D data, so
// a linear model on x1², x2² can solve `circle` and one on x1x2 can solve `xor`, as in Playground.
// The row-level functions (featurizeRows, standardizeRows) exist for the decision-boundary grid:
// the UI must put grid points through exactly the transform the training data went through.

import { EngineError } from '../errors.js'
import type { Dataset } from './dataset.js'

export type FeatureName = 'x1' | 'x2' | 'x1sq' | 'x2sq' | 'x1x2' | 'sinx1' | 'sinx2'

export interface FeatureInfo {
  name: FeatureName
  /** Label for the UI, as Playground writes it. */
  label: string
}

const DEFS: readonly (FeatureInfo & { fn: (a: number, b: number) => number })[] = [
  { name: 'x1', label: 'X₁', fn: (a) => a },
  { name: 'x2', label: 'X₂', fn: (_, b) => b },
  { name: 'x1sq', label: 'X₁²', fn: (a) => a * a },
  { name: 'x2sq', label: 'X₂²', fn: (_, b) => b * b },
  { name: 'x1x2', label: 'X₁X₂', fn: (a, b) => a * b },
  { name: 'sinx1', label: 'sin(X₁)', fn: (a) => Math.sin(a) },
  { name: 'sinx2', label: 'sin(X₂)', fn: (_, b) => Math.sin(b) },
]

/** Every feature, in Playground's order. */
export function listFeatures(): FeatureInfo[] {
  return DEFS.map(({ name, label }) => ({ name, label }))
}

function resolve(names: readonly string[], op: string): ((a: number, b: number) => number)[] {
  if (names.length === 0) throw new EngineError(op, 'argument', 'features must name at least one feature')
  return names.map((name, k) => {
    const def = DEFS.find((d) => d.name === name)
    if (!def)
      throw new EngineError(
        op,
        'argument',
        `features[${k}] = "${name}" is not a feature; expected one of ${DEFS.map((d) => d.name).join(', ')}`,
      )
    if (names.indexOf(name) !== k) throw new EngineError(op, 'argument', `features[${k}] = "${name}" is listed twice`)
    return def.fn
  })
}

/**
 * Maps n raw points (row-major n × 2: x1, x2) to n × features.length. Writes into `out` when given
 * (it must have exactly that length), so a fixed grid can be re-featurized without allocating.
 */
export function featurizeRows(xy: Float32Array, features: readonly FeatureName[], out?: Float32Array): Float32Array {
  const op = 'featurizeRows'
  const fns = resolve(features, op)
  if (xy.length % 2 !== 0) throw new EngineError(op, 'argument', `xy must hold (x1, x2) pairs, got an odd length ${xy.length}`)
  const n = xy.length / 2
  const m = fns.length
  const res = out ?? new Float32Array(n * m)
  if (res.length !== n * m) throw new EngineError(op, 'argument', `out has length ${res.length}, expected ${n}*${m} = ${n * m}`)
  for (let i = 0; i < n; i++) {
    const a = xy[2 * i]
    const b = xy[2 * i + 1]
    for (let j = 0; j < m; j++) res[i * m + j] = fns[j](a, b)
  }
  return res
}

/** A new dataset whose columns are the chosen features of a 2-D dataset (columns x1, x2). */
export function featurize(ds: Dataset, features: readonly FeatureName[]): Dataset {
  if (ds.nFeatures !== 2)
    throw new EngineError(
      'featurize',
      'data',
      `dataset "${ds.name}" has ${ds.nFeatures} features; the Playground features need the 2 raw coordinates`,
    )
  const x = featurizeRows(ds.x, features)
  return { ...copyMeta(ds), x, y: ds.y.slice(), nFeatures: features.length, featureNames: features.slice() }
}

/** Per-column mean and standard deviation, as fitted on a training set; plain data, so it can be saved. */
export interface Standardization {
  featureNames: string[]
  mean: Float32Array
  /** Population std; a constant column gets 1 so it maps to 0 rather than dividing by zero. */
  std: Float32Array
}

export function fitStandardization(ds: Dataset): Standardization {
  const f = ds.nFeatures
  if (ds.n < 1) throw new EngineError('standardize', 'data', `dataset "${ds.name}" is empty: nothing to fit`)
  // Two passes in float64: one-pass sum-of-squares loses digits when |mean| >> std.
  const mean = new Float64Array(f)
  for (let i = 0; i < ds.n; i++) for (let j = 0; j < f; j++) mean[j] += ds.x[i * f + j]
  for (let j = 0; j < f; j++) mean[j] /= ds.n
  const vars = new Float64Array(f)
  for (let i = 0; i < ds.n; i++)
    for (let j = 0; j < f; j++) {
      const d = ds.x[i * f + j] - mean[j]
      vars[j] += d * d
    }
  const std = new Float32Array(f)
  for (let j = 0; j < f; j++) {
    const s = Math.sqrt(vars[j] / ds.n)
    // Relative threshold: float32 data that is constant can still show rounding-level spread.
    std[j] = s > 1e-7 * Math.max(1, Math.abs(mean[j])) ? s : 1
  }
  return { featureNames: ds.featureNames.slice(), mean: Float32Array.from(mean), std }
}

/** (x - mean) / std for row-major rows of stats.mean.length columns; in place when out === x. */
export function standardizeRows(x: Float32Array, stats: Standardization, out?: Float32Array): Float32Array {
  const f = stats.mean.length
  if (x.length % f !== 0) throw new EngineError('standardizeRows', 'argument', `x has length ${x.length}, not a multiple of ${f} columns`)
  const res = out ?? new Float32Array(x.length)
  if (res.length !== x.length) throw new EngineError('standardizeRows', 'argument', `out has length ${res.length}, expected ${x.length}`)
  for (let i = 0; i < x.length; i += f) for (let j = 0; j < f; j++) res[i + j] = (x[i + j] - stats.mean[j]) / stats.std[j]
  return res
}

/** A new dataset with stats applied; the columns must match the ones the stats were fitted on. */
export function applyStandardization(ds: Dataset, stats: Standardization): Dataset {
  const same = ds.nFeatures === stats.mean.length && ds.featureNames.every((name, j) => name === stats.featureNames[j])
  if (!same)
    throw new EngineError(
      'standardize',
      'data',
      `dataset "${ds.name}" has columns [${ds.featureNames.join(', ')}] but the stats were fitted on [${stats.featureNames.join(', ')}]`,
    )
  return { ...copyMeta(ds), x: standardizeRows(ds.x, stats), y: ds.y.slice() }
}

/**
 * Fits mean/std on `train` only (the test set must not leak into the scaling) and applies them to
 * both. Returns new datasets and the stats, which the UI applies to grid points and saves with a model.
 */
export function standardize(train: Dataset, test?: Dataset): { train: Dataset; test?: Dataset; stats: Standardization } {
  const stats = fitStandardization(train)
  return {
    train: applyStandardization(train, stats),
    ...(test ? { test: applyStandardization(test, stats) } : {}),
    stats,
  }
}

function copyMeta(ds: Dataset): Dataset {
  return {
    ...ds,
    featureNames: ds.featureNames.slice(),
    ...(ds.classNames ? { classNames: ds.classNames.slice() } : {}),
  }
}
