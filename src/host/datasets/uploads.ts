// Upload assembly for 'files.upload': chunks (bytes, or base64 from text clients) arrive in order
// under one uploadId, from the client that began it; the last one completes the file, which is
// checked and stored (ingest.ts). Every refusal says what was wrong: a chunk out of order or
// repeated, from another client, a size or count that differs from what the upload began with,
// too much data, too many uploads at once, a malformed file. Nothing is stored unless the whole
// file is good.
import { DATA_LIMITS } from '../../shared/protocol-data'
import type { ParsedPayload, RequestResult } from '../../shared/protocol'
import { currentClient } from '../clients'
import { HostError } from '../errors'
import { ingest } from './ingest'
import type { FileStore } from './store'

export { ingest, PIECE_BYTES, PREVIEW_ROWS, type IngestStats } from './ingest'

export type UploadPayload = ParsedPayload<'files.upload'>
export type UploadResult = RequestResult<'files.upload'>

/** At most this many uploads may be in progress at once. */
export const MAX_CONCURRENT_UPLOADS = 4
/**
 * Uploads one client may have open at once (an IDX pair is two). A client starting another has
 * moved on from its oldest unfinished one, which is dropped, so one client can never hold every
 * slot and lock the others out, however many uploads it abandons while it stays connected.
 */
export const MAX_UPLOADS_PER_CLIENT = 2
/** An upload that receives no chunk for this long is dropped. */
export const UPLOAD_STALE_MS = 5 * 60_000

interface Upload {
  name: string
  total: number
  bytes: number
  chunks: Buffer[]
  /** Bytes in `chunks`. */
  have: number
  received: number
  lastAt: number
  /** The client that began it (clients.ts): its slots are freed when that client leaves. */
  owner: string | null
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`

/** A chunk's bytes, without a copy when they came as bytes; base64 is checked before it is decoded. */
function chunkBytes(p: UploadPayload, bad: (msg: string, drop: boolean) => never): Buffer {
  if (p.chunk !== undefined) return Buffer.from(p.chunk.buffer, p.chunk.byteOffset, p.chunk.byteLength)
  const text = p.chunkBase64 ?? ''
  if (text.length % 4 !== 0 || !BASE64.test(text)) bad(`chunk ${p.index} is not valid base64`, true)
  return Buffer.from(text, 'base64')
}

export class Uploads {
  private readonly open = new Map<string, Upload>()

  constructor(
    private readonly store: FileStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sync for every chunk but the last; the last one's file is checked asynchronously (ingest). */
  receive(p: UploadPayload): UploadResult | Promise<UploadResult> {
    const refuse = (code: 'invalid_payload' | 'limit' | 'not_found', msg: string, drop = false): never => {
      if (drop) this.open.delete(p.uploadId)
      throw new HostError(code, `files.upload ${p.uploadId} ("${p.name}"): ${msg}`)
    }
    const bad = (msg: string, drop = false): never => refuse('invalid_payload', msg, drop)
    this.dropStale()
    if (p.bytes > DATA_LIMITS.maxUploadBytes)
      refuse('limit', `the file is ${MiB(p.bytes)}, more than the ${MiB(DATA_LIMITS.maxUploadBytes)} allowed`)
    if (p.index >= p.total) bad(`chunk ${p.index} is past the end: the upload has ${p.total} chunks (0…${p.total - 1})`)
    let up = this.open.get(p.uploadId)
    if (!up) {
      if (p.index !== 0)
        bad(
          `chunk ${p.index} arrived, but no upload with this id is in progress (chunks start at 0; an upload idle for ${UPLOAD_STALE_MS / 60_000} minutes is dropped)`,
        )
      const owner = currentClient()
      if (owner !== null) this.makeRoomFor(owner)
      if (this.open.size >= MAX_CONCURRENT_UPLOADS)
        refuse('limit', `${MAX_CONCURRENT_UPLOADS} uploads are already in progress; wait for one to finish`)
      up = { name: p.name, total: p.total, bytes: p.bytes, chunks: [], have: 0, received: 0, lastAt: this.now(), owner }
      this.open.set(p.uploadId, up)
    } else {
      // The id alone is no key: only the client that began an upload may add to it.
      if (up.owner !== currentClient())
        refuse('not_found', `no upload with this id was begun by this client (chunks of an upload come from the client that sent chunk 0)`)
      if (p.index < up.received) bad(`chunk ${p.index} was already received (next expected: chunk ${up.received})`)
      if (p.index > up.received)
        bad(`chunk ${p.index} arrived out of order (next expected: chunk ${up.received}); chunks must be sent in order`)
      if (p.total !== up.total) bad(`chunk ${p.index} says the upload has ${p.total} chunks, but it began with ${up.total}`, true)
      if (p.bytes !== up.bytes || p.name !== up.name)
        bad(`chunk ${p.index} describes a different file (${p.bytes} bytes) than the upload began with (${up.bytes} bytes)`, true)
    }
    const chunk = chunkBytes(p, bad)
    const have = up.have + chunk.length
    if (have > up.bytes) bad(`the chunks hold more than the ${up.bytes} bytes the upload announced`, true)
    up.chunks.push(chunk)
    up.have = have
    up.received++
    up.lastAt = this.now()
    if (up.received < up.total) return { uploadId: p.uploadId, received: up.received, done: false, file: null }

    if (have !== up.bytes) bad(`the ${up.total} chunks hold ${have} bytes, but the upload announced ${up.bytes}`, true)
    return this.complete(p.uploadId, up, Buffer.concat(up.chunks, have))
  }

  /** Check and store a whole file; its slot stays taken until then, so at most MAX_CONCURRENT_UPLOADS are parsed at once. */
  private async complete(uploadId: string, up: Upload, bytes: Buffer): Promise<UploadResult> {
    up.chunks = []
    try {
      const file = await ingest(this.store, up.name, bytes)
      return { uploadId, received: up.received, done: true, file }
    } finally {
      if (this.open.get(uploadId) === up) this.open.delete(uploadId)
    }
  }

  /** Uploads in progress (for tests and diagnostics). */
  get inProgress(): number {
    return this.open.size
  }

  /** Keep `client` under MAX_UPLOADS_PER_CLIENT by dropping its least recently fed unfinished uploads. */
  private makeRoomFor(client: string): void {
    // Uploads whose file is being checked (every chunk received) keep their slot until it is done.
    const receiving = [...this.open].filter(([, up]) => up.owner === client && up.received < up.total)
    const held = [...this.open.values()].filter((up) => up.owner === client).length
    receiving.sort((a, b) => a[1].lastAt - b[1].lastAt)
    for (let extra = held - MAX_UPLOADS_PER_CLIENT + 1, k = 0; extra > 0 && k < receiving.length; extra--, k++) {
      this.open.delete(receiving[k][0])
    }
  }

  /** The client left: drop the uploads it began. Returns how many. */
  releaseClient(client: string): number {
    let n = 0
    for (const [id, up] of this.open) if (up.owner === client && this.open.delete(id)) n++
    return n
  }

  private dropStale(): void {
    const cutoff = this.now() - UPLOAD_STALE_MS
    for (const [id, up] of this.open) if (up.lastAt < cutoff) this.open.delete(id)
  }
}
