// An IDX spec as a dataset: the training pair's first `limit` examples and, when the spec names a
// second pair (MNIST's t10k files), that pair's first `limit` examples as the fixed test split,
// appended after the training rows so the raw dataset still holds every row. Class names are the
// user's, or known ones when the files look like Fashion-MNIST, or the labels.
import { data } from '../../engine'
import { KNOWN_CLASS_NAMES, KNOWN_CLASS_LABELS, type KnownClassSet } from '../../shared/class-names'
import type { IdxData } from '../../shared/protocol-data'
import type { z } from 'zod'
import { HostError } from '../errors'
import { asDataError, type FileStore } from './store'

type IdxSpec = z.output<typeof IdxData>

export interface KnownClasses {
  set: KnownClassSet
  reason: string
}

export interface IdxSource {
  raw: data.Dataset
  /** Rows of raw that are the test split when a test pair is given (the training rows come first); else null. */
  fixedSplit: { trainRows: number[]; testRows: number[] } | null
  classNames: string[]
  knownClasses: KnownClasses | null
  imageShape: [number, number] | null
  description: string
}

/** Mean pixel (on a 0…1 scale) of Fashion-MNIST's training images is 0.286, MNIST's 0.131: the midpoint tells them apart. */
const FASHION_MEAN_ABOVE = 0.2
/** Rows the pixel mean is taken over (enough for two decimals, cheap for any limit). */
const MEAN_ROWS = 1000

/** Which known set 28×28, 10-class files look like: by name first ("fashion", "mnist"), else by their mean pixel. */
export function guessKnownClasses(name: string, raw: data.Dataset, shape: [number, number] | null, pixelMax: number): KnownClasses | null {
  if (raw.nClasses !== 10 || !shape || shape[0] !== 28 || shape[1] !== 28) return null
  if (/fashion/i.test(name)) return { set: 'fashion-mnist', reason: `the file name "${name}" says Fashion-MNIST` }
  if (/mnist/i.test(name)) return { set: 'mnist', reason: `the file name "${name}" says MNIST` }
  const cells = Math.min(raw.n, MEAN_ROWS) * raw.nFeatures
  let sum = 0
  for (let i = 0; i < cells; i++) sum += raw.x[i]!
  const mean = sum / cells / pixelMax
  const set: KnownClassSet = mean > FASHION_MEAN_ABOVE ? 'fashion-mnist' : 'mnist'
  return {
    set,
    reason: `28×28 images in 10 classes with mean pixel ${mean.toFixed(2)} (Fashion-MNIST ≈ 0.29, MNIST ≈ 0.13): ${KNOWN_CLASS_LABELS[set]}?`,
  }
}

function idxFile(store: FileStore, fileId: string, role: 'images' | 'labels', field: string) {
  const info = store.info(fileId)
  if (info.summary.format !== 'idx' || info.summary.role !== role)
    throw new HostError('invalid_payload', `data.${field}: "${info.name}" is not an IDX ${role} file`)
  return info
}

function loadPair(store: FileStore, imagesId: string, labelsId: string, spec: IdxSpec, nClasses?: number): data.Dataset {
  const name = store.info(imagesId).name
  return asDataError(() =>
    data.idxDataset({
      images: store.bytes(imagesId),
      labels: store.bytes(labelsId),
      name,
      scale: spec.scale ? 1 / 255 : 1,
      limit: spec.limit,
      nClasses,
    }),
  )
}

/** The training rows followed by the test rows, as one dataset with the larger class count. */
function appendRows(train: data.Dataset, test: data.Dataset): data.Dataset {
  const x = new Float32Array(train.x.length + test.x.length)
  x.set(train.x)
  x.set(test.x, train.x.length)
  const y = new Float32Array(train.n + test.n)
  y.set(train.y)
  y.set(test.y, train.n)
  return { ...train, x, y, n: train.n + test.n }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

export function idxSource(spec: IdxSpec, store: FileStore): IdxSource {
  const images = idxFile(store, spec.imagesFileId, 'images', 'imagesFileId')
  const labels = idxFile(store, spec.labelsFileId, 'labels', 'labelsFileId')
  const dims = images.summary.format === 'idx' ? images.summary.dims : []
  const imageShape: [number, number] | null = dims.length === 3 ? [dims[1]!, dims[2]!] : null
  const testImages = spec.testImagesFileId
  const testLabels = spec.testLabelsFileId
  if ((testImages === undefined) !== (testLabels === undefined))
    throw new HostError('invalid_payload', 'data: a test pair needs both testImagesFileId and testLabelsFileId (or neither)')

  let raw = loadPair(store, spec.imagesFileId, spec.labelsFileId, spec)
  let fixedSplit: IdxSource['fixedSplit'] = null
  let testNote = ''
  if (testImages !== undefined && testLabels !== undefined) {
    const ti = idxFile(store, testImages, 'images', 'testImagesFileId')
    idxFile(store, testLabels, 'labels', 'testLabelsFileId')
    const tdims = ti.summary.format === 'idx' ? ti.summary.dims : []
    if (tdims.slice(1).join('×') !== dims.slice(1).join('×'))
      throw new HostError(
        'invalid_payload',
        `data.testImagesFileId: "${ti.name}" holds ${tdims.slice(1).join('×')} images but "${images.name}" holds ${dims.slice(1).join('×')}`,
      )
    let test = loadPair(store, testImages, testLabels, spec)
    const nClasses = Math.max(raw.nClasses, test.nClasses)
    if (raw.nClasses < nClasses) raw = loadPair(store, spec.imagesFileId, spec.labelsFileId, spec, nClasses)
    if (test.nClasses < nClasses) test = loadPair(store, testImages, testLabels, spec, nClasses)
    fixedSplit = { trainRows: range(0, raw.n), testRows: range(raw.n, raw.n + test.n) }
    raw = appendRows(raw, test)
    testNote = `; test split: the first ${test.n} of "${ti.name}"`
  }

  const knownClasses = guessKnownClasses(images.name, raw, imageShape, spec.scale ? 1 : 255)
  let classNames: string[]
  if (spec.classNames) {
    if (spec.classNames.length < raw.nClasses)
      throw new HostError(
        'invalid_payload',
        `data.classNames: ${spec.classNames.length} names for ${raw.nClasses} classes: name every class (labels 0–${raw.nClasses - 1})`,
      )
    classNames = spec.classNames.slice(0, raw.nClasses)
  } else if (knownClasses?.set === 'fashion-mnist') classNames = [...KNOWN_CLASS_NAMES['fashion-mnist']]
  else classNames = Array.from({ length: raw.nClasses }, (_, k) => String(k))
  raw.classNames = classNames

  const trainN = fixedSplit ? fixedSplit.trainRows.length : raw.n
  const description =
    `IDX images "${images.name}" (${dims[0]} × ${dims.slice(1).join('×')}) with labels "${labels.name}": the first ${trainN} examples` +
    `${testNote}, ${raw.nClasses} classes${spec.scale ? ', pixels / 255' : ''}`
  return { raw, fixedSplit, classNames, knownClasses, imageShape, description }
}
