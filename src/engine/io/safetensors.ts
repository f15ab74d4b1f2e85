// The safetensors format, written in-house (no npm package exists), following the published spec:
// an 8-byte little-endian header length N, N bytes of UTF-8 JSON (padded with spaces to a multiple
// of 8), then the raw little-endian tensor bytes. Each header entry gives dtype, shape and
// [begin, end) offsets into the byte buffer; "__metadata__" maps strings to strings. Floats are
// F32 or F64; I64 (PyTorch's integer buffers, such as BatchNorm's num_batches_tracked) is read
// into and written from a Float64Array, exact up to 2^53.
import { EngineError } from '../errors.js'

export type SafetensorsDtype = 'F32' | 'F64' | 'I64'

export interface SafeTensor {
  dtype: SafetensorsDtype
  shape: number[]
  /** I64 values as numbers (integers within ±2^53). */
  data: Float32Array | Float64Array
}

export interface SafetensorsFile {
  tensors: Record<string, SafeTensor>
  metadata: Record<string, string>
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I64: 8 }
const DTYPES: readonly string[] = Object.keys(BYTES)
/** Headers beyond this are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000

export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const { parts, byteLength } = safetensorsParts(tensors, metadata)
  const out = new Uint8Array(byteLength)
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

/** Whether typed arrays are little-endian here (every platform Node runs on in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The file as a list of byte ranges, in order: the length and header, then each tensor's bytes.
 * F32/F64 tensors are views of their own data (no copy, on a little-endian machine), so a caller
 * can write a big checkpoint piece by piece without holding a second copy of it; the data must not
 * change until the parts are written.
 */
export function safetensorsParts(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): { parts: Uint8Array[]; byteLength: number } {
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata
  let offset = 0
  // Sorted names: the reference writer orders by dtype alignment then name; any order is valid.
  const names = Object.keys(tensors).sort()
  for (const name of names) {
    const t = tensors[name]
    checkTensor('encodeSafetensors', name, t)
    const bytes = t.data.length * BYTES[t.dtype]
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  let json = JSON.stringify(header)
  while (new TextEncoder().encode(json).length % 8 !== 0) json += ' '
  const headerBytes = new TextEncoder().encode(json)
  const head = new Uint8Array(8 + headerBytes.length)
  new DataView(head.buffer).setBigUint64(0, BigInt(headerBytes.length), true)
  head.set(headerBytes, 8)
  const parts = [head, ...names.map((name) => tensorBytes(tensors[name]))]
  return { parts, byteLength: head.length + offset }
}

/** A tensor's little-endian bytes: a view of its data where the layout already matches. */
function tensorBytes(t: SafeTensor): Uint8Array {
  const native = (t.dtype === 'F32' && t.data instanceof Float32Array) || (t.dtype === 'F64' && t.data instanceof Float64Array)
  if (native && LITTLE_ENDIAN) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  const width = BYTES[t.dtype]
  const out = new Uint8Array(t.data.length * width)
  const view = new DataView(out.buffer)
  for (let i = 0, pos = 0; i < t.data.length; i++, pos += width) {
    if (t.dtype === 'F32') view.setFloat32(pos, t.data[i], true)
    else if (t.dtype === 'F64') view.setFloat64(pos, t.data[i], true)
    else view.setBigInt64(pos, BigInt(t.data[i]), true)
  }
  return out
}

export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const fail = (why: string): never => {
    throw new EngineError('decodeSafetensors', 'data', why)
  }
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = Number(view.getBigUint64(0, true))
  if (n > MAX_HEADER || 8 + n > bytes.length) fail(`the header claims ${n} bytes but the file has ${bytes.length - 8} after the length`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>
  } catch (e) {
    return fail(`the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object')
  const dataStart = 8 + n
  const dataLength = bytes.length - dataStart
  const metadata: Record<string, string> = {}
  const tensors: Record<string, SafeTensor> = {}
  const spans: [number, number, string][] = []
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) fail('__metadata__ must be an object of strings')
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string`)
        metadata[k] = v as string
      }
      continue
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (typeof e.dtype !== 'string' || !DTYPES.includes(e.dtype))
      fail(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}; only F32, F64 and I64 are supported`)
    const dtype = e.dtype as SafetensorsDtype
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`)
    const shape = e.shape as number[]
    const offs = e.data_offsets
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0]) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`)
    }
    const [begin, end] = offs as [number, number]
    const count = shape.reduce((a, b) => a * b, 1)
    if (end - begin !== count * BYTES[dtype])
      fail(`tensor "${name}": shape [${shape.join(',')}] needs ${count * BYTES[dtype]} bytes, data_offsets give ${end - begin}`)
    if (end > dataLength) fail(`tensor "${name}" ends at byte ${end} but the data section has ${dataLength} bytes (truncated file?)`)
    const data = dtype === 'F32' ? new Float32Array(count) : new Float64Array(count)
    const width = BYTES[dtype]
    if (dtype !== 'I64' && LITTLE_ENDIAN) {
      // The file's layout is the array's: one copy (a 190 MB checkpoint read element by element took seconds).
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end))
      spans.push([begin, end, name])
      tensors[name] = { dtype, shape, data }
      continue
    }
    for (let i = 0, p = dataStart + begin; i < count; i++, p += width) {
      if (dtype !== 'I64') {
        data[i] = dtype === 'F32' ? view.getFloat32(p, true) : view.getFloat64(p, true)
        continue
      }
      const v = view.getBigInt64(p, true)
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
        fail(`tensor "${name}": I64 value ${v} at index ${i} is beyond ±2^53, which a number cannot hold exactly`)
      data[i] = Number(v)
    }
    spans.push([begin, end, name])
    tensors[name] = { dtype, shape, data }
  }
  // The spec forbids holes and overlaps: the buffers must tile the data section exactly.
  spans.sort((a, b) => a[0] - b[0])
  let expect = 0
  for (const [b, e, name] of spans) {
    if (b !== expect) fail(`tensor "${name}" starts at byte ${b}; expected ${expect} (overlapping or missing data)`)
    expect = e
  }
  if (expect !== dataLength) fail(`the data section has ${dataLength - expect} bytes that no tensor uses`)
  return { tensors, metadata }
}

function checkTensor(op: string, name: string, t: SafeTensor): void {
  if (!DTYPES.includes(t.dtype)) throw new EngineError(op, 'argument', `tensor "${name}": dtype must be F32, F64 or I64`)
  if (t.dtype === 'I64' && !t.data.every((v) => Number.isSafeInteger(v)))
    throw new EngineError(op, 'argument', `tensor "${name}": I64 values must be integers within ±2^53`)
  const count = t.shape.reduce((a, b) => a * b, 1)
  if (count !== t.data.length)
    throw new EngineError(op, 'shape', `tensor "${name}": shape [${t.shape.join(',')}] needs ${count} values, got ${t.data.length}`)
  if (name === '__metadata__') throw new EngineError(op, 'argument', '"__metadata__" is reserved')
}
