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

/** One tensor's place in a file, from its validated header: [begin, end) within the data section. */
export interface SafetensorsEntry {
  name: string
  dtype: SafetensorsDtype
  shape: number[]
  begin: number
  end: number
}

export interface SafetensorsHeader {
  /** Where the data section starts in the file (8 + the header's length). */
  dataStart: number
  entries: SafetensorsEntry[]
  metadata: Record<string, string>
}

const fail = (why: string): never => {
  throw new EngineError('decodeSafetensors', 'data', why)
}

/** The header's length from the file's first 8 bytes (the header itself follows them). */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number): number {
  if (first8.length < 8 || fileLength < 8) fail(`the file is ${fileLength} bytes; a safetensors file starts with an 8-byte header length`)
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true))
  if (n > MAX_HEADER || 8 + n > fileLength) fail(`the header claims ${n} bytes but the file has ${fileLength - 8} after the length`)
  return n
}

/**
 * Parse and check a header (`head`: the file's first 8 + N bytes) against the file's length: every
 * entry's dtype, shape and offsets, and that the entries tile the data section exactly. A reader
 * can then fetch just the tensors it needs, as byte ranges of the file.
 */
export function parseSafetensorsHeader(head: Uint8Array, fileLength: number): SafetensorsHeader {
  const n = safetensorsHeaderLength(head, fileLength)
  if (head.length < 8 + n) fail(`the header claims ${n} bytes but only ${head.length - 8} were given`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n))) as Record<string, unknown>
  } catch (e) {
    return fail(`the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object')
  const dataStart = 8 + n
  const dataLength = fileLength - dataStart
  const metadata: Record<string, string> = {}
  const entries: SafetensorsEntry[] = []
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
    entries.push({ name, dtype, shape, begin, end })
  }
  // The spec forbids holes and overlaps: the buffers must tile the data section exactly.
  const spans = [...entries].sort((a, b) => a.begin - b.begin)
  let expect = 0
  for (const { begin, end, name } of spans) {
    if (begin !== expect) fail(`tensor "${name}" starts at byte ${begin}; expected ${expect} (overlapping or missing data)`)
    expect = end
  }
  if (expect !== dataLength) fail(`the data section has ${dataLength - expect} bytes that no tensor uses`)
  return { dataStart, entries, metadata }
}

/**
 * An empty array for an entry and the bytes to fill it with: for F32/F64 on a little-endian machine
 * they are the array's own memory, so a reader can read the file straight into it (one copy).
 */
export function safetensorsTarget(e: SafetensorsEntry): { data: Float32Array | Float64Array; bytes: Uint8Array; direct: boolean } {
  const count = (e.end - e.begin) / BYTES[e.dtype]
  const data = e.dtype === 'F32' ? new Float32Array(count) : new Float64Array(count)
  const direct = e.dtype !== 'I64' && LITTLE_ENDIAN
  return { data, bytes: direct ? new Uint8Array(data.buffer) : new Uint8Array(e.end - e.begin), direct }
}

/** Fill `data` from an entry's little-endian bytes (where safetensorsTarget could not read into it directly). */
export function safetensorsFill(e: SafetensorsEntry, bytes: Uint8Array, data: Float32Array | Float64Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const width = BYTES[e.dtype]
  for (let i = 0, p = 0; i < data.length; i++, p += width) {
    if (e.dtype !== 'I64') {
      data[i] = e.dtype === 'F32' ? view.getFloat32(p, true) : view.getFloat64(p, true)
      continue
    }
    const v = view.getBigInt64(p, true)
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      fail(`tensor "${e.name}": I64 value ${v} at index ${i} is beyond ±2^53, which a number cannot hold exactly`)
    data[i] = Number(v)
  }
}

export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { dataStart, entries, metadata } = parseSafetensorsHeader(bytes, bytes.length)
  const tensors: Record<string, SafeTensor> = {}
  for (const e of entries) {
    const target = safetensorsTarget(e)
    const src = bytes.subarray(dataStart + e.begin, dataStart + e.end)
    // The file's layout is the array's: one copy (a 190 MB checkpoint read element by element took seconds).
    if (target.direct) target.bytes.set(src)
    else safetensorsFill(e, src, target.data)
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: target.data }
  }
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
