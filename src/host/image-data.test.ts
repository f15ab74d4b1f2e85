// Image data in the host: an IDX test pair as the fixed test split, class names (the user's,
// Fashion-MNIST's when the files look like it, else the labels), the sample grid and pixel mean of
// the preview (bounded in bytes), Digits as 8×8 images, and a CSV marked H×W checked against its columns.
import { describe, expect, it } from 'vitest'
import { data } from '../engine'
import { DataSpec, PREVIEW_IMAGE_BYTES } from '../shared/protocol-data'
import { KNOWN_CLASS_NAMES } from '../shared/class-names'
import { prepareData, previewData } from './data-source'
import { FileStore } from './datasets/store'
import { imagePreviewOf } from './image-preview'
import type { DataSpecOut } from './setup'

/** A uint8 IDX file, encoded independently of the parser (big-endian dims). */
function idx(shape: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + values.length)
  const v = new DataView(out.buffer)
  out[2] = 0x08
  out[3] = shape.length
  shape.forEach((d, k) => v.setUint32(4 + 4 * k, d, false))
  out.set(Uint8Array.from(values), 4 + 4 * shape.length)
  return out
}

/** n images of h×w whose pixel p of image i is (i·7 + p·3 + seed) mod 256 scaled by `level`, labels i mod k. */
function pair(store: FileStore, name: string, n: number, h: number, w: number, k: number, seed = 0, level = 1) {
  const px = Array.from({ length: n * h * w }, (_, j) =>
    Math.floor(((Math.floor(j / (h * w)) * 7 + (j % (h * w)) * 3 + seed) % 256) * level),
  )
  const images = store.put(`${name}-images-idx3-ubyte`, idx([n, h, w], px), {
    format: 'idx',
    dtype: 'uint8',
    dims: [n, h, w],
    role: 'images',
  })
  const labels = store.put(
    `${name}-labels-idx1-ubyte`,
    idx(
      [n],
      Array.from({ length: n }, (_, i) => i % k),
    ),
    {
      format: 'idx',
      dtype: 'uint8',
      dims: [n],
      role: 'labels',
    },
  )
  return { images: images.fileId, labels: labels.fileId, px }
}

const parse = (spec: unknown): DataSpecOut => DataSpec.parse(spec) as DataSpecOut
const pixelsOf = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'))

describe('IDX image data', () => {
  it('a second pair is the test split: training rows first, then the test rows, none drawn at random', () => {
    const store = new FileStore(null)
    const train = pair(store, 'train', 30, 4, 4, 3)
    const test = pair(store, 't10k', 20, 4, 4, 3, 11)
    const spec = {
      source: 'idx',
      imagesFileId: train.images,
      labelsFileId: train.labels,
      testImagesFileId: test.images,
      testLabelsFileId: test.labels,
    }
    const d = prepareData(parse(spec), store)
    expect([d.train.n, d.test.n, d.raw.n]).toEqual([30, 20, 50])
    expect(d.trainRows).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(d.testRows).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i))
    // Test row 5 is image 5 of the t10k file, pixels / 255.
    expect(Array.from(d.test.x.subarray(5 * 16, 6 * 16))).toEqual(test.px.slice(5 * 16, 6 * 16).map((v) => Math.fround(v / 255)))
    expect(d.test.y[5]).toBe(5 % 3)
    expect(d.imageShape).toEqual([4, 4])
    expect(d.description).toMatch(/the first 30 examples; test split: the first 20 of "t10k-images-idx3-ubyte", 3 classes/)
    // `limit` applies to each file.
    const limited = prepareData(parse({ ...spec, limit: 10 }), store)
    expect([limited.train.n, limited.test.n]).toEqual([10, 10])
  })

  it('refuses half a test pair, and a test pair of another image size', () => {
    const store = new FileStore(null)
    const train = pair(store, 'train', 30, 4, 4, 3)
    const other = pair(store, 'other', 20, 5, 4, 3)
    const base = { source: 'idx', imagesFileId: train.images, labelsFileId: train.labels }
    expect(() => prepareData(parse({ ...base, testImagesFileId: other.images }), store)).toThrow(
      /needs both testImagesFileId and testLabelsFileId/,
    )
    expect(() => prepareData(parse({ ...base, testImagesFileId: other.images, testLabelsFileId: other.labels }), store)).toThrow(
      'data.testImagesFileId: "other-images-idx3-ubyte" holds 5×4 images but "train-images-idx3-ubyte" holds 4×4',
    )
  })

  it('class names: Fashion-MNIST by the pixel mean of 28×28 10-class files, MNIST by a dim one, the user’s over both', () => {
    const store = new FileStore(null)
    const bright = pair(store, 'train', 40, 28, 28, 10) // mean ≈ 127/255
    const dim = pair(store, 'digits', 40, 28, 28, 10, 0, 0.2) // mean ≈ 25/255
    const fashion = previewData(parse({ source: 'idx', imagesFileId: bright.images, labelsFileId: bright.labels }), 100, store)
    expect(fashion.knownClasses?.set).toBe('fashion-mnist')
    expect(fashion.knownClasses?.reason).toMatch(/mean pixel 0\.\d\d/)
    expect(fashion.classNames).toEqual(KNOWN_CLASS_NAMES['fashion-mnist'])
    const mnist = previewData(parse({ source: 'idx', imagesFileId: dim.images, labelsFileId: dim.labels }), 100, store)
    expect(mnist.knownClasses?.set).toBe('mnist')
    expect(mnist.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`)
    const own = prepareData(parse({ source: 'idx', imagesFileId: bright.images, labelsFileId: bright.labels, classNames: names }), store)
    expect(own.classNames).toEqual(names)
    expect(own.train.classNames ?? own.raw.classNames).toEqual(names)
    expect(() =>
      prepareData(parse({ source: 'idx', imagesFileId: bright.images, labelsFileId: bright.labels, classNames: ['a', 'b'] }), store),
    ).toThrow('data.classNames: 2 names for 10 classes: name every class (labels 0–9)')
    // Other shapes or class counts have no known names.
    const small = pair(store, 'small', 30, 4, 4, 3)
    expect(
      previewData(parse({ source: 'idx', imagesFileId: small.images, labelsFileId: small.labels }), 100, store).knownClasses,
    ).toBeNull()
  })

  it('the preview: up to 8 training images per class, grouped by class, and the training rows’ mean image', () => {
    const store = new FileStore(null)
    const train = pair(store, 'train', 60, 4, 4, 3)
    const p = previewData(parse({ source: 'idx', imagesFileId: train.images, labelsFileId: train.labels, testRatio: 0.25 }), 100, store)
    const img = p.image!
    expect([img.height, img.width, img.perClass]).toEqual([4, 4, 8])
    expect(img.labels).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2])
    const d = prepareData(parse({ source: 'idx', imagesFileId: train.images, labelsFileId: train.labels, testRatio: 0.25 }), store)
    // Sample 0 is the first training row of class 0, dequantised within a byte's step.
    const first = d.trainRows.find((r) => d.raw.y[r] === 0)!
    const bytes = pixelsOf(img.pixels)
    expect(bytes.length).toBe(24 * 16)
    const [lo, hi] = img.range
    for (let j = 0; j < 16; j++) expect(lo + ((hi - lo) * bytes[j]!) / 255).toBeCloseTo(d.raw.x[first * 16 + j]!, 2)
    // The mean over every training row, pixel by pixel.
    const mean = pixelsOf(img.mean)
    const [mlo, mhi] = img.meanRange
    for (let j = 0; j < 16; j++) {
      const want = d.trainRows.reduce((s, r) => s + d.raw.x[r * 16 + j]!, 0) / d.trainRows.length
      expect(mlo + ((mhi - mlo) * mean[j]!) / 255).toBeCloseTo(want, 2)
    }
  })

  it('stays within its byte budget: many classes get fewer samples each, never the dataset', () => {
    const store = new FileStore(null)
    const train = pair(store, 'train', 2000, 28, 28, 100)
    const d = prepareData(parse({ source: 'idx', imagesFileId: train.images, labelsFileId: train.labels }), store)
    const img = imagePreviewOf(d)!
    expect(img.perClass).toBe(1)
    expect(img.labels.length).toBe(100)
    expect(pixelsOf(img.pixels).length).toBeLessThanOrEqual(PREVIEW_IMAGE_BYTES)
    // A budget too small for even one image: no grid (the scatter stays).
    expect(imagePreviewOf(d, 700)).toBeNull()
  })
})

describe('other image-shaped data', () => {
  it('Digits is 8×8 images with its ten classes; iris is not image data', () => {
    const p = previewData(parse({ source: 'bundled', name: 'digits' }), 100, null)
    expect(p.image).toMatchObject({ height: 8, width: 8, perClass: 8 })
    expect(p.image!.labels.length).toBe(80)
    expect(new Set(p.image!.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    // Raw pixel counts 0–16, not the standardised inputs.
    expect(p.image!.range).toEqual([0, 16])
    expect(previewData(parse({ source: 'bundled', name: 'iris' }), 100, null).image).toBeNull()
  })

  it('a CSV marked H×W must have H·W feature columns', () => {
    const store = new FileStore(null)
    const header = ['label', ...Array.from({ length: 6 }, (_, j) => `p${j}`)].join(',')
    const rows = Array.from({ length: 30 }, (_, i) => [i % 2, ...Array.from({ length: 6 }, (_, j) => (i * j) % 5)].join(','))
    const text = `${header}\n${rows.join('\n')}\n`
    const table = data.parseCsv(text, 'tiny.csv')
    const f = store.put(
      'tiny.csv',
      new TextEncoder().encode(text),
      { format: 'csv', rows: 30, columns: [], preview: [], warnings: [] },
      table,
    )
    const base = { source: 'csv', fileId: f.fileId, target: 'label' }
    expect(previewData(parse({ ...base, imageShape: [2, 3] }), 100, store).image).toMatchObject({ height: 2, width: 3 })
    expect(() => prepareData(parse({ ...base, imageShape: [3, 3] }), store)).toThrow(
      'data.imageShape: 3×3 images have 9 pixels but the data has 6 feature columns',
    )
  })
})
