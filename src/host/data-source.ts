// Where a session's data comes from: a DataSpec (generator, bundled dataset, uploaded CSV or IDX
// file) becomes the raw dataset, its train/test split and the split the model sees (featurised
// generator points, standardised table columns). Everything follows from the spec alone, so the
// same spec gives the same split bit for bit (runs resume and reopen from their spec). Uploaded
// files come from the file store the caller passes (its host's: never looked up globally).
import { data, EngineError } from '../engine'
import { HostError } from './errors'
import { bundledDataset } from './datasets/bundled'
import { idxSource, type KnownClasses } from './datasets/idx-source'
import { asDataError, type FileStore } from './datasets/store'
import { imagePreviewOf, type ImagePreviewOut } from './image-preview'
import type { DataSpecOut } from './setup'
import { fitTargetScaling, scaleTargets, type TargetScaling } from './target-scaling'

/** Engine 'argument' errors from the data layer are about the request, so they are payload errors. */
function asPayloadError<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof EngineError && (e.code === 'argument' || e.code === 'data'))
      throw new HostError('invalid_payload', `${what}: ${e.message}`)
    throw e
  }
}

export interface SplitData {
  /** Every row with its raw columns: x1, x2 for generators, the chosen file columns for tables, pixels for IDX. */
  raw: data.Dataset
  /** The training rows as the model takes them (after featurisation or standardisation). */
  train: data.Dataset
  test: data.Dataset
  /** The model's input columns. */
  featureNames: string[]
  classNames: string[] | null
  /** Raw inputs are exactly two numeric columns, so a decision boundary can be drawn over them. */
  planar: boolean
  description: string
  targetName: string
  /** Raw rows (raw's column layout, row major) → what the model takes. */
  toModelInputs(raw: Float32Array, rows: number): Float32Array
  /** Indices into raw of the training and test rows, in split order. */
  trainRows: number[]
  testRows: number[]
  /** The standardisation fitted on the training rows, or null when the inputs are not standardised. */
  standardization: data.Standardization | null
  /** [height, width] when each raw row is an image's pixels (IDX images, Digits, a CSV marked H×W); else null. */
  imageShape: [number, number] | null
  /** Known class names the files seem to have (IDX), offered to the user; else null. */
  knownClasses: KnownClasses | null
  /** Regression: the target's scaling fitted on the training rows (train and test y are scaled by it), or null. */
  targetScaling: TargetScaling | null
}

/** The store that holds a CSV or IDX spec's files; null: the caller has none (generator and bundled data need none). */
function needFiles(files: FileStore | null, fileId: string): FileStore {
  if (!files) throw new HostError('not_found', `no stored file "${fileId}": no file store was given for this data`)
  return files
}

/** A short name for the data in messages ("spiral", "iris", "CSV f0123…"). */
export function dataLabel(spec: DataSpecOut): string {
  switch (spec.source) {
    case 'bundled':
      return spec.name
    case 'csv':
      return `CSV file ${spec.fileId}`
    case 'idx':
      return `IDX files ${spec.imagesFileId} + ${spec.labelsFileId}`
    default:
      return spec.generator
  }
}

/** Row indices of a stratified split of ds (the same rows trainTestSplit would give: it depends on y, n and seed only). */
function splitRows(ds: data.Dataset, testRatio: number, seed: number): { trainRows: number[]; testRows: number[] } {
  const index: data.Dataset = { ...ds, x: Float32Array.from({ length: ds.n }, (_, i) => i), nFeatures: 1, featureNames: ['row'] }
  const { train, test } = data.trainTestSplit(index, { testRatio, seed, stratify: true })
  return { trainRows: Array.from(train.x), testRows: Array.from(test.x) }
}

const checkRows = (raw: Float32Array, rows: number, width: number): void => {
  if (!Number.isInteger(rows) || rows < 0 || raw.length !== rows * width) {
    throw new HostError('invalid_payload', `toModelInputs: ${raw.length} values are not ${rows} rows of ${width} raw columns`)
  }
}

function classNamesOf(ds: data.Dataset): string[] | null {
  if (ds.task === 'regression') return null
  return ds.classNames ?? Array.from({ length: ds.nClasses }, (_, k) => String(k))
}

function generatorData(spec: Extract<DataSpecOut, { generator: string }>): SplitData {
  const dup = spec.features.find((f, i) => spec.features.indexOf(f) !== i)
  if (dup) throw new HostError('invalid_payload', `data.features: "${dup}" is listed twice`)
  const raw = asPayloadError('data', () =>
    data.generate(spec.generator, { n: spec.n, noise: spec.noise, seed: spec.seed, classes: spec.classes }),
  )
  const { trainRows, testRows } = asPayloadError('data', () => splitRows(raw, spec.testRatio, spec.seed))
  const info = data.listGenerators().find((g) => g.name === spec.generator)
  return asPayloadError('data.features', () => ({
    raw,
    train: data.featurize(data.subset(raw, trainRows), spec.features),
    test: data.featurize(data.subset(raw, testRows), spec.features),
    featureNames: [...spec.features],
    classNames: classNamesOf(raw),
    planar: true,
    description: info ? `${info.label}: ${info.description}` : spec.generator,
    targetName: raw.task === 'regression' ? 'target' : 'class',
    toModelInputs: (x, rows) => {
      checkRows(x, rows, 2)
      return data.featurizeRows(x, spec.features)
    },
    trainRows,
    testRows,
    standardization: null,
    imageShape: null,
    knownClasses: null,
    targetScaling: null,
  }))
}

interface TableOptions {
  testRatio: number
  seed: number
  standardize: boolean
  /** Regression: train on the target standardised with the training rows' statistics (target-scaling.ts). */
  standardizeTarget: boolean
  description: string
  targetName: string
  imageShape?: [number, number] | null
  knownClasses?: KnownClasses | null
  /** Fixed train and test rows (an IDX test pair) instead of a stratified split by testRatio. */
  fixedSplit?: { trainRows: number[]; testRows: number[] } | null
}

/** A table (bundled, CSV or IDX): split, then standardise with the training rows' statistics when asked. */
function tableData(raw: data.Dataset, opts: TableOptions): SplitData {
  const { trainRows, testRows } = opts.fixedSplit ?? asPayloadError('data', () => splitRows(raw, opts.testRatio, opts.seed))
  let train = data.subset(raw, trainRows)
  let test = data.subset(raw, testRows)
  const stats = opts.standardize ? data.fitStandardization(train) : null
  if (stats) {
    train = data.applyStandardization(train, stats)
    test = data.applyStandardization(test, stats)
  }
  // Fitted on the training rows only, like the inputs: the test rows must not leak into training.
  const targetScaling = opts.standardizeTarget && raw.task === 'regression' && train.n > 0 ? fitTargetScaling(train.y) : null
  if (targetScaling) {
    train = scaleTargets(train, targetScaling)
    test = scaleTargets(test, targetScaling)
  }
  const width = raw.nFeatures
  return {
    raw,
    train,
    test,
    featureNames: [...raw.featureNames],
    classNames: classNamesOf(raw),
    planar: width === 2,
    description: opts.description,
    targetName: opts.targetName,
    toModelInputs: (x, rows) => {
      checkRows(x, rows, width)
      return stats ? data.standardizeRows(x, stats) : x.slice()
    },
    trainRows,
    testRows,
    standardization: stats,
    imageShape: opts.imageShape ?? null,
    knownClasses: opts.knownClasses ?? null,
    targetScaling,
  }
}

/** The image shape a CSV spec marks its feature columns with, checked against their count. */
function csvImageShape(shape: [number, number] | undefined, features: number): [number, number] | null {
  if (!shape) return null
  if (shape[0] * shape[1] !== features)
    throw new HostError(
      'invalid_payload',
      `data.imageShape: ${shape[0]}×${shape[1]} images have ${shape[0] * shape[1]} pixels but the data has ${features} feature columns`,
    )
  return shape
}

/** The split, with the model's input columns: every source goes through here (sessions, previews, exports). */
export function prepareData(spec: DataSpecOut, files: FileStore | null): SplitData {
  switch (spec.source) {
    case 'bundled': {
      const b = bundledDataset(spec.name)
      return tableData(b.dataset, { ...spec, description: b.description, targetName: b.targetName, imageShape: b.imageShape })
    }
    case 'csv': {
      const store = needFiles(files, spec.fileId)
      const info = store.info(spec.fileId)
      const table = store.table(spec.fileId)
      const raw = asDataError(() =>
        data.csvDataset(table, { name: `"${info.name}"`, target: spec.target, features: spec.features, task: spec.task }),
      )
      const description = `CSV file "${info.name}": ${raw.n} rows, ${raw.nFeatures} feature${raw.nFeatures === 1 ? '' : 's'}, target "${spec.target}" (${raw.task === 'regression' ? 'regression' : `${raw.nClasses} classes`})`
      const imageShape = csvImageShape(spec.imageShape, raw.nFeatures)
      return tableData(raw, { ...spec, description, targetName: spec.target, imageShape })
    }
    case 'idx': {
      const src = idxSource(spec, needFiles(files, spec.imagesFileId))
      return tableData(src.raw, { ...spec, ...src, standardize: false, standardizeTarget: false, targetName: 'label' })
    }
    default:
      return generatorData(spec)
  }
}

/** What a model trained on this spec takes and gives: column names, and the input and target scalings folded into exports. */
export function modelInputsOf(
  spec: DataSpecOut,
  files: FileStore | null,
): { features: string[]; standardization: data.Standardization | null; targetScaling: TargetScaling | null } {
  if (spec.source === undefined || spec.source === 'generator')
    return { features: [...spec.features], standardization: null, targetScaling: null }
  const d = prepareData(spec, files)
  return { features: d.featureNames, standardization: d.standardization, targetScaling: d.targetScaling }
}

export interface PreviewOut {
  task: data.Task
  nClasses: number
  points: number[]
  labels: number[]
  isTest: boolean[]
  trainCount: number
  testCount: number
  featureNames: string[]
  axisNames: [string, string]
  classNames: string[] | null
  targetName: string
  planar: boolean
  description: string
  image: ImagePreviewOut | null
  knownClasses: KnownClasses | null
}

/**
 * dataset.preview: about maxPoints rows (every k-th) as 2-D points — the first two raw columns,
 * standardised when the spec standardises — with labels and whether each is a test row.
 */
export function previewData(spec: DataSpecOut, maxPoints: number, files: FileStore | null): PreviewOut {
  const d = prepareData(spec, files)
  const { raw, standardization: st } = d
  const f = raw.nFeatures
  const isTest = new Uint8Array(raw.n)
  for (const i of d.testRows) isTest[i] = 1
  const col = (i: number, j: number): number => (j >= f ? 0 : st ? (raw.x[i * f + j] - st.mean[j]) / st.std[j] : raw.x[i * f + j])
  const stride = Math.max(1, Math.ceil(raw.n / maxPoints))
  const points: number[] = []
  const labels: number[] = []
  const test: boolean[] = []
  for (let i = 0; i < raw.n; i += stride) {
    points.push(Math.fround(col(i, 0)), Math.fround(col(i, 1)))
    labels.push(raw.y[i])
    test.push(isTest[i] === 1)
  }
  return {
    task: raw.task,
    nClasses: raw.nClasses,
    points,
    labels,
    isTest: test,
    trainCount: d.train.n,
    testCount: d.test.n,
    featureNames: d.featureNames,
    axisNames: [raw.featureNames[0], raw.featureNames[1] ?? ''],
    classNames: d.classNames,
    targetName: d.targetName,
    planar: d.planar,
    description: d.description,
    image: imagePreviewOf(d),
    knownClasses: d.knownClasses,
  }
}
