// Where a session's data comes from: a DataSpec (generator, bundled dataset, uploaded CSV or IDX
// file) becomes the raw dataset, its train/test split and the featurised split the model sees.
import { data, EngineError } from '../../engine'
import { HostError } from './errors'
import type { DataSpecOut } from './setup'

/** Engine 'argument' errors from the data layer are about the request, so they are payload errors. */
function asPayloadError<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof EngineError && (e.code === 'argument' || e.code === 'data')) throw new HostError('invalid_payload', `${what}: ${e.message}`)
    throw e
  }
}

export interface SplitData {
  raw: data.Dataset
  train: data.Dataset
  test: data.Dataset
}

/** Generate and split exactly as a session does (dataset.preview shows the same points). */
export function generateSplit(spec: DataSpecOut): SplitData {
  return asPayloadError('data', () => {
    const raw = data.generate(spec.generator, { n: spec.n, noise: spec.noise, seed: spec.seed, classes: spec.classes })
    const { train, test } = data.trainTestSplit(raw, { testRatio: spec.testRatio, seed: spec.seed, stratify: true })
    return { raw, train, test }
  })
}

/** The split, with the chosen input features as columns. */
export function prepareData(spec: DataSpecOut): SplitData {
  const split = generateSplit(spec)
  const dup = spec.features.find((f, i) => spec.features.indexOf(f) !== i)
  if (dup) throw new HostError('invalid_payload', `data.features: "${dup}" is listed twice`)
  return asPayloadError('data.features', () => ({
    raw: split.raw,
    train: data.featurize(split.train, spec.features),
    test: data.featurize(split.test, spec.features),
  }))
}

