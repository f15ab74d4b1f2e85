// IDX import: hand-built buffers for every type code and every malformed input, then the real
// Fashion-MNIST files from Debian's dataset-fashion-mnist package (CI installs it; a missing package
// fails the fixture test with an install hint unless BPS_SKIP_FIXTURES=1 says to skip it).
// Tests may use Node (fs, zlib); the engine source may not.
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { classCounts } from './dataset.js'
import { idxDataset, MAX_IDX_ELEMENTS, parseIdx } from './idx.js'
import * as data from './index.js'

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

const SIZES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }

/** Encodes an IDX file independently of the parser (DataView, big-endian). */
function idx(code: number, shape: number[], values: number[]): Uint8Array {
  const size = SIZES[code] ?? 1
  const out = new Uint8Array(4 + 4 * shape.length + size * values.length)
  const v = new DataView(out.buffer)
  out[2] = code
  out[3] = shape.length
  shape.forEach((d, k) => v.setUint32(4 + 4 * k, d, false))
  const off = 4 + 4 * shape.length
  values.forEach((x, i) => {
    const o = off + size * i
    if (code === 0x08) v.setUint8(o, x)
    else if (code === 0x09) v.setInt8(o, x)
    else if (code === 0x0b) v.setInt16(o, x, false)
    else if (code === 0x0c) v.setInt32(o, x, false)
    else if (code === 0x0d) v.setFloat32(o, x, false)
    else v.setFloat64(o, x, false)
  })
  return out
}

describe('parseIdx', () => {
  it('decodes every type code, big-endian, with its shape', () => {
    const cases: [number, string, new (xs: number[]) => ArrayLike<number>, number[]][] = [
      [0x08, 'uint8', Uint8Array, [0, 1, 127, 128, 200, 255]],
      [0x09, 'int8', Int8Array, [-128, -1, 0, 1, 64, 127]],
      [0x0b, 'int16', Int16Array, [-32768, -2, 0, 258, 1000, 32767]],
      [0x0c, 'int32', Int32Array, [-(2 ** 31), -70000, 0, 66051, 16909060, 2 ** 31 - 1]],
      [0x0d, 'float32', Float32Array, [-1.5, 0, 0.25, Math.fround(3.14), Math.fround(1e-20), 65504]],
      [0x0e, 'float64', Float64Array, [-1 / 3, 0, Math.PI, 1e-300, -1e300, 2 ** 53]],
    ]
    for (const [code, dtype, ctor, values] of cases) {
      const a = parseIdx(idx(code, [2, 3], values))
      expect(a.dtype).toBe(dtype)
      expect(a.shape).toEqual([2, 3])
      expect(a.data).toBeInstanceOf(ctor)
      expect(Array.from(a.data)).toEqual(values)
    }
  })

  it('reads the dims and bytes big-endian (a hand-written buffer)', () => {
    // int16, 1 dim of 2: 0x0102 = 258, 0xfffe = -2
    const bytes = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe])
    expect(parseIdx(bytes)).toEqual({ dtype: 'int16', shape: [2], data: new Int16Array([258, -2]) })
  })

  it('handles 0-dim, empty and 3-dim files, and a view into a larger (unaligned) buffer', () => {
    expect(Array.from(parseIdx(idx(0x0c, [], [7])).data)).toEqual([7])
    const empty = parseIdx(idx(0x0d, [0, 28, 28], []))
    expect(empty.shape).toEqual([0, 28, 28])
    expect(empty.data.length).toBe(0)
    const file = idx(0x0e, [1, 2, 2], [1, 2, 3, 4.5])
    const padded = new Uint8Array(file.length + 4)
    padded.set(file, 3)
    const a = parseIdx(padded.subarray(3, 3 + file.length))
    expect(a.shape).toEqual([1, 2, 2])
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4.5])
  })

  it('copies the data (the result does not alias the input)', () => {
    const bytes = idx(0x08, [3], [1, 2, 3])
    const a = parseIdx(bytes)
    bytes[bytes.length - 1] = 9
    expect(Array.from(a.data)).toEqual([1, 2, 3])
  })

  it('rejects gzip-compressed input and says how to decompress', () => {
    const gz = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])
    expectError(() => parseIdx(gz), 'data', 'gzip', '1f 8b', 'decompress', 'gunzipSync', 'DecompressionStream')
  })

  it('rejects a bad magic', () => {
    expectError(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0])), 'data', 'bad magic', '0x50 0x4b')
    expectError(() => parseIdx(new Uint8Array([0, 1, 8, 1, 0, 0, 0, 0])), 'data', 'bad magic', '0x00 0x01')
  })

  it('rejects an unsupported type code', () => {
    for (const code of [0x00, 0x07, 0x0a, 0x0f, 0xff])
      expectError(
        () => parseIdx(new Uint8Array([0, 0, code, 1, 0, 0, 0, 0])),
        'data',
        'unsupported type code',
        `0x${code.toString(16).padStart(2, '0')}`,
      )
  })

  it('rejects a truncated header', () => {
    expectError(() => parseIdx(new Uint8Array([])), 'data', 'truncated header', 'got 0')
    expectError(() => parseIdx(new Uint8Array([0, 0, 8])), 'data', 'truncated header', 'got 3')
    expectError(
      () => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0])),
      'data',
      'truncated header',
      '3 dims need 16 header bytes, got 10',
    )
  })

  it('rejects truncated data with the expected and actual byte counts', () => {
    const full = idx(0x0c, [2, 3], [1, 2, 3, 4, 5, 6]) // 4 + 8 + 24 = 36 bytes
    expectError(() => parseIdx(full.subarray(0, 35)), 'data', 'truncated data', 'need 36 bytes', 'got 35')
    expectError(() => parseIdx(full.subarray(0, 12)), 'data', 'truncated data', 'need 36 bytes', 'got 12')
  })

  it('rejects trailing bytes after the data', () => {
    const full = idx(0x08, [2], [1, 2])
    const long = new Uint8Array(full.length + 3)
    long.set(full)
    expectError(() => parseIdx(long), 'data', 'expected 10 bytes', 'got 13', '3 trailing bytes')
  })

  it('rejects dims that overflow or are too large, before allocating', () => {
    expectError(() => parseIdx(idx(0x08, [0x80000000], [])), 'data', 'dim 0 is 2147483648')
    expectError(() => parseIdx(idx(0x08, [1, 0xffffffff], [])), 'data', 'dim 1 is 4294967295')
    expectError(() => parseIdx(idx(0x0d, [65536, 65536], [])), 'data', '[65536,65536]', `more than the ${MAX_IDX_ELEMENTS} allowed`)
  })

  it('names the source in its messages and rejects non-byte input', () => {
    expectError(() => parseIdx(new Uint8Array([9, 9, 9, 9]), 'train-images'), 'data', 'train-images: bad magic')
    expectError(() => parseIdx([0, 0, 8, 0] as unknown as Uint8Array), 'data', 'expected a Uint8Array', 'Array')
  })
})

describe('idxDataset', () => {
  // 4 images of 2×3 pixels, labels 0..2
  const px = Array.from({ length: 24 }, (_, i) => i * 10)
  const images = idx(0x08, [4, 2, 3], px)
  const labels = idx(0x08, [4], [2, 0, 1, 2])

  it('pairs images and labels into a multiclass dataset, flattened and scaled', () => {
    const ds = idxDataset({ images, labels, name: 'tiny' })
    expect(ds.name).toBe('tiny')
    expect(ds.task).toBe('multiclass')
    expect([ds.n, ds.nFeatures, ds.nClasses]).toEqual([4, 6, 3])
    expect(ds.featureNames).toEqual(['px0', 'px1', 'px2', 'px3', 'px4', 'px5'])
    expect(Array.from(ds.y)).toEqual([2, 0, 1, 2])
    expect(ds.x).toBeInstanceOf(Float32Array)
    ds.x.forEach((v, i) => expect(v).toBeCloseTo(px[i] / 255, 6))
    expect(ds.classNames).toBeUndefined()
  })

  it('applies scale, limit, nClasses and classNames', () => {
    const ds = idxDataset({ images, labels, name: 't', scale: 1, limit: 2, nClasses: 5, classNames: ['a', 'b', 'c', 'd', 'e'] })
    expect([ds.n, ds.nClasses]).toEqual([2, 5])
    expect(Array.from(ds.x)).toEqual(px.slice(0, 12))
    expect(Array.from(ds.y)).toEqual([2, 0])
    expect(ds.classNames).toEqual(['a', 'b', 'c', 'd', 'e'])
    // nClasses comes from the whole labels file, not the rows kept
    expect(idxDataset({ images, labels, name: 't', limit: 1 }).nClasses).toBe(3)
    expect(idxDataset({ images, labels, name: 't', limit: 100 }).n).toBe(4)
  })

  it('accepts every type code for images and integer labels of any type', () => {
    for (const code of [0x09, 0x0b, 0x0c, 0x0d, 0x0e]) {
      const ds = idxDataset({ images: idx(code, [2, 1, 2], [1, -2, 3, 4]), labels: idx(code, [2], [1, 0]), name: 'c', scale: 0.5 })
      expect(Array.from(ds.x)).toEqual([0.5, -1, 1.5, 2])
      expect(Array.from(ds.y)).toEqual([1, 0])
    }
  })

  it('rejects image and label counts that differ', () => {
    expectError(() => idxDataset({ images, labels: idx(0x08, [3], [0, 1, 2]), name: 'd' }), 'data', '"d"', '4 images', '3 labels')
  })

  it('rejects labels out of range', () => {
    expectError(() => idxDataset({ images, labels: idx(0x09, [4], [0, 1, -1, 2]), name: 'd' }), 'data', 'label 2 is -1', 'out of range')
    expectError(() => idxDataset({ images, labels: idx(0x0d, [4], [0, 1.5, 1, 2]), name: 'd' }), 'data', 'label 1 is 1.5', 'out of range')
    expectError(
      () => idxDataset({ images, labels: idx(0x0c, [4], [0, 1, 70000, 2]), name: 'd' }),
      'data',
      'label 2 is 70000',
      'out of range',
    )
    expectError(() => idxDataset({ images, labels, name: 'd', nClasses: 2 }), 'data', 'label 0 is 2', 'nClasses = 2')
    expectError(() => idxDataset({ images, labels: idx(0x08, [4], [0, 0, 0, 0]), name: 'd' }), 'data', 'at least 2 classes')
  })

  it('rejects wrong ranks, swapped files and empty images', () => {
    expectError(
      () => idxDataset({ images: labels, labels: images, name: 's' }),
      'data',
      'images file must have shape [n, rows, cols]',
      '[4]',
    )
    expectError(
      () => idxDataset({ images, labels: idx(0x08, [4, 1], [0, 1, 0, 1]), name: 's' }),
      'data',
      'labels file must have shape [n]',
      '[4,1]',
    )
    expectError(() => idxDataset({ images: idx(0x08, [4, 0, 3], []), labels, name: 's' }), 'data', 'no pixels')
    expectError(() => idxDataset({ images: idx(0x08, [0, 2, 2], []), labels: idx(0x08, [0], []), name: 's' }), 'data', 'no rows')
  })

  it('names which file is malformed', () => {
    expectError(
      () => idxDataset({ images: images.subarray(0, 20), labels, name: 'm' }),
      'data',
      'images file of dataset "m"',
      'truncated data',
    )
    expectError(
      () => idxDataset({ images, labels: new Uint8Array([0x1f, 0x8b, 8, 0]), name: 'm' }),
      'data',
      'labels file of dataset "m"',
      'gzip',
    )
  })

  it('rejects bad options', () => {
    expectError(() => idxDataset({ images, labels, name: '' }), 'argument', 'name')
    expectError(() => idxDataset({ images, labels, name: 'o', scale: NaN }), 'argument', 'scale')
    expectError(() => idxDataset({ images, labels, name: 'o', limit: 0 }), 'argument', 'limit')
    expectError(() => idxDataset({ images, labels, name: 'o', limit: 1.5 }), 'argument', 'limit')
    expectError(() => idxDataset({ images, labels, name: 'o', nClasses: 1 }), 'argument', 'nClasses')
    expectError(() => idxDataset({ images, labels, name: 'o', classNames: ['x'] }), 'data', 'classNames')
  })

  it('is exported from the data layer, and the engine source imports no Node module', () => {
    expect(data.parseIdx).toBe(parseIdx)
    expect(data.idxDataset).toBe(idxDataset)
    const src = readFileSync(new URL('./idx.ts', import.meta.url), 'utf8')
    expect(src).not.toMatch(/from\s+['"](node:|zlib|fs)/)
  })
})

// Real files from Debian's dataset-fashion-mnist. Known values read independently of this parser
// (python3 gzip + od): the first 20 training labels, 6000 images of each class, pixel sum of image 0.
const FASHION_DIR = '/usr/share/datasets/fashion-mnist'
const FASHION_FIRST_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4]
const FASHION_IMAGE0_SUM = 76247
const SKIP_FIXTURES = process.env.BPS_SKIP_FIXTURES === '1'
if (SKIP_FIXTURES)
  console.log('idx.test.ts: Fashion-MNIST fixture skipped: BPS_SKIP_FIXTURES=1 (it needs the dataset-fashion-mnist package)')

function fashionFile(file: string): Uint8Array {
  const path = `${FASHION_DIR}/${file}`
  if (!existsSync(path))
    throw new Error(`${path} is missing: apt-get install dataset-fashion-mnist (Debian), or set BPS_SKIP_FIXTURES=1 to skip this fixture`)
  return readFileSync(path)
}

const unzipped = new Map<string, Uint8Array>()
/** A package file decompressed once for all tests here (the training images are 47 MB raw). */
function fashion(file: string): Uint8Array {
  let b = unzipped.get(file)
  if (!b) unzipped.set(file, (b = gunzipSync(fashionFile(`${file}.gz`))))
  return b
}

describe.skipIf(SKIP_FIXTURES)('Fashion-MNIST fixture (dataset-fashion-mnist)', () => {
  it('parses the training images and labels into a 60000 × 784, 10-class dataset', () => {
    const gzLabels = fashionFile('train-labels-idx1-ubyte.gz')
    // The package ships gzipped files: the engine says so instead of misreading them.
    expectError(() => parseIdx(gzLabels), 'data', 'gzip')
    const images = fashion('train-images-idx3-ubyte')
    const labels = fashion('train-labels-idx1-ubyte')

    const img = parseIdx(images)
    expect(img.dtype).toBe('uint8')
    expect(img.shape).toEqual([60000, 28, 28])
    let sum0 = 0
    for (let i = 0; i < 784; i++) sum0 += img.data[i]
    expect(sum0).toBe(FASHION_IMAGE0_SUM)
    const lab = parseIdx(labels)
    expect(lab.shape).toEqual([60000])
    expect(Array.from(lab.data.subarray(0, 20))).toEqual(FASHION_FIRST_LABELS)

    const ds = idxDataset({ images, labels, name: 'fashion-mnist' })
    expect([ds.n, ds.nFeatures, ds.nClasses, ds.task]).toEqual([60000, 784, 10, 'multiclass'])
    expect(ds.featureNames[0]).toBe('px0')
    expect(ds.featureNames[783]).toBe('px783')
    expect(Array.from(ds.y.subarray(0, 20))).toEqual(FASHION_FIRST_LABELS)
    expect(classCounts(ds)).toEqual(new Array(10).fill(6000))
    let lo = Infinity
    let hi = -Infinity
    for (const v of ds.x) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    expect([lo, hi]).toEqual([0, 1])
    let xs0 = 0
    for (let i = 0; i < 784; i++) xs0 += ds.x[i]
    expect(xs0).toBeCloseTo(FASHION_IMAGE0_SUM / 255, 2)

    const small = idxDataset({ images, labels, name: 'fashion-mnist-100', limit: 100 })
    expect([small.n, small.nClasses]).toEqual([100, 10])
    expect(Array.from(small.x.subarray(0, 784))).toEqual(Array.from(ds.x.subarray(0, 784)))
    // 47 million pixels inflated, parsed and scaled: about 2 s on a quiet machine, but nothing here
    // depends on how fast; vitest's 5 s default would make it fail on a loaded one.
  }, 60_000)

  it('parses the test set (10000 images) and rejects train images paired with test labels', () => {
    const images = fashion('t10k-images-idx3-ubyte')
    const labels = fashion('t10k-labels-idx1-ubyte')
    const ds = idxDataset({ images, labels, name: 'fashion-mnist-test', limit: 500 })
    expect([ds.n, ds.nFeatures, ds.nClasses]).toEqual([500, 784, 10])
    expect(parseIdx(images).shape).toEqual([10000, 28, 28])
    const trainImages = fashion('train-images-idx3-ubyte')
    expectError(() => idxDataset({ images: trainImages, labels, name: 'mixed' }), 'data', '60000 images', '10000 labels')
    const trainImagesHeader = trainImages.subarray(0, 16)
    // a header alone is a truncated file: 60000 × 28 × 28 bytes announced, 16 present
    expectError(() => parseIdx(trainImagesHeader), 'data', 'truncated data', 'need 47040016 bytes', 'got 16')
  })
})
