// Shared fixtures for the data-layer tests (not exported from index.ts).

import type { Dataset } from './dataset.js'

/**
 * n rows whose first feature is the row index, so any derived set (split, batch) can be traced
 * back to the rows it came from; labels cycle through k classes (k = 0 gives regression).
 */
export function indexDataset(n: number, k = 2, nFeatures = 2): Dataset {
  const x = new Float32Array(n * nFeatures)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nFeatures; j++) x[i * nFeatures + j] = j === 0 ? i : -i * (j + 1)
    y[i] = k > 0 ? i % k : i / 10
  }
  return {
    name: 'index',
    task: k === 0 ? 'regression' : k === 2 ? 'binary' : 'multiclass',
    x,
    y,
    n,
    nFeatures,
    nClasses: k,
    featureNames: Array.from({ length: nFeatures }, (_, j) => `f${j}`),
  }
}

/** Row ids (feature 0) of a dataset built from indexDataset. */
export function rowIds(ds: Dataset): number[] {
  return Array.from({ length: ds.n }, (_, i) => ds.x[i * ds.nFeatures])
}
