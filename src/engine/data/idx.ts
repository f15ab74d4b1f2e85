// Import of the IDX format (the MNIST / Fashion-MNIST files): a 4-byte magic (two zero bytes, a
// type code, the number of dims), the dims as big-endian uint32, then the values big-endian, row
// major. Pure TS like the rest of the engine: no decompression here. The distributed files are
// usually gzipped; the host decompresses (node:zlib gunzipSync, or DecompressionStream('gzip') in a
// browser) and passes the raw bytes. Gzipped input is detected and rejected with that advice.

import { EngineError, fmtShape } from '../errors.js'
import { type Dataset, validateDataset } from './dataset.js'

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64'

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array

export interface IdxArray {
  dtype: IdxDtype
  /** Dims from the header, outermost first; [] for a 0-dim file (one value). */
  shape: number[]
  /** The values, row major, in the file's own type (decoded from big-endian). */
  data: IdxData
}

/** IDX type codes (byte 2 of the magic) and the element type each one stands for. */
export const IDX_TYPES: Readonly<Record<number, { dtype: IdxDtype; bytes: number }>> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
}

/**
 * Most elements one IDX file may hold (2^30: 4 GiB as float32 once turned into a dataset). Larger
 * headers are rejected before anything is allocated, so a corrupt header cannot ask for a huge
 * buffer.
 */
export const MAX_IDX_ELEMENTS = 2 ** 30

/** Largest label idxDataset accepts (so a corrupt labels file cannot claim millions of classes). */
export const MAX_IDX_CLASSES = 65536

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`

/**
 * Parses one IDX file. `source` names it in error messages ("images file", a file name...).
 * Every malformed input throws an EngineError (code 'data') saying what is wrong: gzip-compressed
 * input, bad magic, unsupported type code, a header or data shorter or longer than the dims say,
 * dims too large.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  const op = 'parseIdx'
  const fail = (msg: string): never => {
    throw new EngineError(op, 'data', `${source}: ${msg}`)
  }
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array of the file's bytes, got ${describe(bytes)}`)
  const got = bytes.length
  if (got >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)
    fail(
      'the bytes are gzip-compressed (they start with 1f 8b); decompress them first and pass the raw IDX ' +
        "bytes (Node: zlib.gunzipSync; browser: new DecompressionStream('gzip'))",
    )
  if (got < 4) fail(`truncated header: expected at least 4 bytes (the magic), got ${got}`)
  if (bytes[0] !== 0 || bytes[1] !== 0)
    fail(`bad magic: an IDX file starts with two zero bytes, got ${hex(bytes[0])} ${hex(bytes[1])} ` + '(is this an IDX file?)')
  const code = bytes[2]
  const type = IDX_TYPES[code]
  if (!type)
    fail(
      `unsupported type code ${hex(code)} in the magic; expected 0x08 (ubyte), 0x09 (sbyte), 0x0b (short), ` +
        '0x0c (int), 0x0d (float) or 0x0e (double)',
    )
  const nDims = bytes[3]
  const headerBytes = 4 + 4 * nDims
  if (got < headerBytes) fail(`truncated header: ${nDims} dims need ${headerBytes} header bytes, got ${got}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const shape: number[] = []
  let count = 1
  for (let k = 0; k < nDims; k++) {
    const d = view.getUint32(4 + 4 * k, false)
    if (d > 0x7fffffff) fail(`dim ${k} is ${d}, which does not fit a signed 32-bit int (corrupt header?)`)
    shape.push(d)
    count *= d
  }
  if (count > MAX_IDX_ELEMENTS) fail(`dims ${fmtShape(shape)} hold ${count} elements, more than the ${MAX_IDX_ELEMENTS} allowed`)
  const expected = headerBytes + count * type.bytes
  if (got < expected)
    fail(
      `truncated data: dims ${fmtShape(shape)} of ${type.dtype} need ${expected} bytes ` +
        `(${headerBytes} header + ${count} × ${type.bytes}), got ${got}`,
    )
  if (got > expected)
    fail(
      `expected ${expected} bytes for dims ${fmtShape(shape)} of ${type.dtype}, got ${got} ` +
        `(${got - expected} trailing bytes; wrong dims or a concatenated file?)`,
    )
  return { dtype: type.dtype, shape, data: decode(view, headerBytes, count, type) }
}

function decode(view: DataView, off: number, n: number, type: { dtype: IdxDtype; bytes: number }): IdxData {
  const src = new Uint8Array(view.buffer, view.byteOffset + off, n * type.bytes)
  switch (type.dtype) {
    case 'uint8':
      return src.slice()
    case 'int8':
      return new Int8Array(src.slice().buffer)
    case 'int16': {
      const out = new Int16Array(n)
      for (let i = 0; i < n; i++) out[i] = view.getInt16(off + 2 * i, false)
      return out
    }
    case 'int32': {
      const out = new Int32Array(n)
      for (let i = 0; i < n; i++) out[i] = view.getInt32(off + 4 * i, false)
      return out
    }
    case 'float32': {
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, false)
      return out
    }
    case 'float64': {
      const out = new Float64Array(n)
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(off + 8 * i, false)
      return out
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object'
  return typeof v
}

export interface IdxDatasetOptions {
  /** Raw (decompressed) bytes of the images file: [n, rows, cols] (any [n, ...] with 2+ dims). */
  images: Uint8Array
  /** Raw (decompressed) bytes of the labels file: [n] class indices. */
  labels: Uint8Array
  name: string
  /** Multiplies every pixel (1/255 maps ubyte pixels to [0, 1]). */
  scale?: number
  /** Keep only the first `limit` rows. */
  limit?: number
  /**
   * Number of classes; default max label + 1 over the whole labels file (so `limit` does not
   * change it). Every label must be below it.
   */
  nClasses?: number
  /** Optional class names, one per class. */
  classNames?: string[]
}

/**
 * Pairs an IDX images file with an IDX labels file into a multiclass dataset: x is each image
 * flattened row major and multiplied by `scale`, y the class index, features px0, px1, ...
 * Throws an EngineError naming what is wrong: a malformed file (see parseIdx), wrong ranks,
 * image and label counts that differ, a label that is not a class index.
 */
export function idxDataset(opts: IdxDatasetOptions): Dataset {
  const op = 'idxDataset'
  const { name, scale = 1 / 255, limit } = opts
  const arg = (msg: string): never => {
    throw new EngineError(op, 'argument', msg)
  }
  if (typeof name !== 'string' || name === '') arg(`name must be a non-empty string, got ${JSON.stringify(name)}`)
  if (typeof scale !== 'number' || !Number.isFinite(scale)) arg(`scale must be a finite number, got ${scale}`)
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) arg(`limit must be a positive integer, got ${limit}`)
  if (opts.nClasses !== undefined && (!Number.isInteger(opts.nClasses) || opts.nClasses < 2 || opts.nClasses > MAX_IDX_CLASSES))
    arg(`nClasses must be an integer in [2, ${MAX_IDX_CLASSES}], got ${opts.nClasses}`)

  const fail = (msg: string): never => {
    throw new EngineError(op, 'data', `dataset "${name}": ${msg}`)
  }
  const images = parseIdx(opts.images, `images file of dataset "${name}"`)
  const labels = parseIdx(opts.labels, `labels file of dataset "${name}"`)
  if (images.shape.length < 2) fail(`the images file must have shape [n, rows, cols], got ${fmtShape(images.shape)}`)
  if (labels.shape.length !== 1) fail(`the labels file must have shape [n], got ${fmtShape(labels.shape)}`)
  const count = images.shape[0]
  if (labels.shape[0] !== count) fail(`the images file holds ${count} images but the labels file holds ${labels.shape[0]} labels`)
  const f = images.shape.slice(1).reduce((a, b) => a * b, 1)
  if (f < 1) fail(`images of shape ${fmtShape(images.shape.slice(1))} have no pixels`)
  if (count < 1) fail('the files hold no rows')

  // Labels: integer class indices, checked over the whole file so nClasses does not depend on limit.
  const lab = labels.data
  const bound = opts.nClasses ?? MAX_IDX_CLASSES
  let maxLabel = -1
  for (let i = 0; i < count; i++) {
    const t = lab[i]
    if (!Number.isInteger(t) || t < 0 || t >= bound)
      fail(
        `label ${i} is ${t}, out of range: labels must be integer class indices in [0, ${bound - 1}]` +
          (opts.nClasses !== undefined ? ` (nClasses = ${opts.nClasses})` : ''),
      )
    if (t > maxLabel) maxLabel = t
  }
  const nClasses = opts.nClasses ?? maxLabel + 1
  if (nClasses < 2) fail(`every label is ${maxLabel}: a classification dataset needs at least 2 classes (pass nClasses)`)

  const n = limit === undefined ? count : Math.min(limit, count)
  const src = images.data
  const x = new Float32Array(n * f)
  for (let i = 0; i < n * f; i++) x[i] = src[i] * scale
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) y[i] = lab[i]
  const featureNames = new Array<string>(f)
  for (let j = 0; j < f; j++) featureNames[j] = `px${j}`
  const ds: Dataset = {
    name,
    task: 'multiclass',
    x,
    y,
    n,
    nFeatures: f,
    nClasses,
    featureNames,
    ...(opts.classNames ? { classNames: opts.classNames.slice() } : {}),
  }
  validateDataset(ds)
  return ds
}
