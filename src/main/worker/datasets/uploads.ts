// Upload assembly for 'files.upload': base64 chunks arrive in order under one uploadId; the last
// one completes the file, which is inflated when gzipped, recognised (IDX by its magic, else CSV
// text), checked, summarised and stored by content id. Every refusal says what was wrong: a chunk
// out of order or repeated, a size or count that differs from what the upload began with, too much
// data, too many uploads at once, a malformed file. Nothing is stored unless the whole file is good.
import { gunzipSync } from 'node:zlib'
import { data } from '../../../engine'
import { DATA_LIMITS } from '../../../shared/protocol-data'
import type { ParsedPayload, RequestResult } from '../../../shared/protocol'
import { HostError } from '../errors'
import { asDataError, type FileStore, parseCsvBytes, type StoredFileOut } from './store'

export type UploadPayload = ParsedPayload<'files.upload'>
export type UploadResult = RequestResult<'files.upload'>

/** At most this many uploads may be in progress at once. */
export const MAX_CONCURRENT_UPLOADS = 4
/** An upload that receives no chunk for this long is dropped. */
export const UPLOAD_STALE_MS = 5 * 60_000
/** Rows shown in a CSV file's summary. */
export const PREVIEW_ROWS = 20

interface Upload {
  name: string
  total: number
  bytes: number
  chunks: Buffer[]
  received: number
  lastAt: number
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`

export class Uploads {
  private readonly open = new Map<string, Upload>()

  constructor(
    private readonly store: FileStore,
    private readonly now: () => number = Date.now,
  ) {}

  receive(p: UploadPayload): UploadResult {
    const refuse = (code: 'invalid_payload' | 'limit', msg: string, drop = false): never => {
      if (drop) this.open.delete(p.uploadId)
      throw new HostError(code, `files.upload ${p.uploadId} ("${p.name}"): ${msg}`)
    }
    this.dropStale()
    if (p.bytes > DATA_LIMITS.maxUploadBytes) refuse('limit', `the file is ${MiB(p.bytes)}, more than the ${MiB(DATA_LIMITS.maxUploadBytes)} allowed`)
    if (p.index >= p.total) refuse('invalid_payload', `chunk ${p.index} is past the end: the upload has ${p.total} chunks (0…${p.total - 1})`)
    let up = this.open.get(p.uploadId)
    if (!up) {
      if (p.index !== 0) refuse('invalid_payload', `chunk ${p.index} arrived, but no upload with this id is in progress (chunks start at 0; an upload idle for ${UPLOAD_STALE_MS / 60_000} minutes is dropped)`)
      if (this.open.size >= MAX_CONCURRENT_UPLOADS) refuse('limit', `${MAX_CONCURRENT_UPLOADS} uploads are already in progress; wait for one to finish`)
      up = { name: p.name, total: p.total, bytes: p.bytes, chunks: [], received: 0, lastAt: this.now() }
      this.open.set(p.uploadId, up)
    } else {
      if (p.index < up.received) refuse('invalid_payload', `chunk ${p.index} was already received (next expected: chunk ${up.received})`)
      if (p.index > up.received) refuse('invalid_payload', `chunk ${p.index} arrived out of order (next expected: chunk ${up.received}); chunks must be sent in order`)
      if (p.total !== up.total) refuse('invalid_payload', `chunk ${p.index} says the upload has ${p.total} chunks, but it began with ${up.total}`, true)
      if (p.bytes !== up.bytes || p.name !== up.name) refuse('invalid_payload', `chunk ${p.index} describes a different file (${p.bytes} bytes) than the upload began with (${up.bytes} bytes)`, true)
    }
    if (p.chunkBase64.length % 4 !== 0 || !BASE64.test(p.chunkBase64)) refuse('invalid_payload', `chunk ${p.index} is not valid base64`, true)
    const chunk = Buffer.from(p.chunkBase64, 'base64')
    const have = up.chunks.reduce((s, c) => s + c.length, 0) + chunk.length
    if (have > up.bytes) refuse('invalid_payload', `the chunks hold more than the ${up.bytes} bytes the upload announced`, true)
    up.chunks.push(chunk)
    up.received++
    up.lastAt = this.now()
    if (up.received < up.total) return { uploadId: p.uploadId, received: up.received, done: false, file: null }

    this.open.delete(p.uploadId)
    if (have !== up.bytes) refuse('invalid_payload', `the ${up.total} chunks hold ${have} bytes, but the upload announced ${up.bytes}`)
    const file = ingest(this.store, up.name, Buffer.concat(up.chunks, have))
    return { uploadId: p.uploadId, received: up.received, done: true, file }
  }

  /** Uploads in progress (for tests and diagnostics). */
  get inProgress(): number {
    return this.open.size
  }

  private dropStale(): void {
    const cutoff = this.now() - UPLOAD_STALE_MS
    for (const [id, up] of this.open) if (up.lastAt < cutoff) this.open.delete(id)
  }
}

/** Inflate when gzipped (whatever the name says), with the upload size limit on the output. */
function inflate(bytes: Uint8Array, name: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes
  try {
    const out = gunzipSync(bytes, { maxOutputLength: DATA_LIMITS.maxUploadBytes })
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new HostError('limit', `"${name}" inflates to more than ${MiB(DATA_LIMITS.maxUploadBytes)}, the most a file may hold`)
    throw new HostError('invalid_payload', `"${name}" looks gzip-compressed but does not inflate (${(e as Error).message}); is it truncated?`)
  }
}

/** IDX files start with two zero bytes and a known type code; CSV text never does. */
function looksLikeIdx(bytes: Uint8Array, name: string): boolean {
  if (/idx\d?-u?byte|\.idx\d?$/i.test(name.replace(/\.gz$/i, ''))) return true
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && data.IDX_TYPES[bytes[2]] !== undefined && bytes[3] >= 1
}

/** Check, summarise and store a whole file. */
export function ingest(store: FileStore, name: string, received: Uint8Array): StoredFileOut {
  const bytes = inflate(received, name)
  const stored = name.replace(/\.gz$/i, '')
  if (bytes.length === 0) throw new HostError('invalid_payload', `"${name}" is empty`)
  if (looksLikeIdx(bytes, name)) {
    const idx = asDataError(() => data.parseIdx(bytes, `"${name}"`))
    if (idx.shape.length === 0) throw new HostError('invalid_payload', `"${name}" is an IDX file with no dims; expected images [n, rows, cols] or labels [n]`)
    return store.put(stored, bytes, { format: 'idx', dtype: idx.dtype, dims: idx.shape, role: idx.shape.length === 1 ? 'labels' : 'images' })
  }
  const table = parseCsvBytes(bytes, name)
  const columns = data.describeColumns(table)
  return store.put(stored, bytes, {
    format: 'csv',
    rows: table.rows.length,
    columns,
    preview: table.rows.slice(0, PREVIEW_ROWS).map((r) => r.map((c) => c.trim())),
    warnings: table.warnings,
  })
}
