// Checking an uploaded file's bytes: inflated when gzipped, recognised (IDX by its magic, else CSV
// text), parsed a piece at a time with yields between pieces, summarised and stored by content id.
import { createGunzip } from 'node:zlib'
import { data } from '../../engine'
import { DATA_LIMITS } from '../../shared/protocol-data'
import { HostError } from '../errors'
import { asDataError, CSV_LIMITS, type FileStore, type StoredFileOut } from './store'

/** Rows shown in a CSV file's summary. */
export const PREVIEW_ROWS = 20
const MiB = (n: number): string => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`

/** Work done by one ingest (tests read it to see that a refused file was not read to its end). */
export interface IngestStats {
  /** Bytes after inflating, read so far. */
  inflatedBytes: number
  /** CSV data rows parsed so far. */
  rowsParsed: number
  /** Times the ingest yielded to the event loop (once per piece). */
  yields: number
}

/** Inflated bytes are read, checked and parsed in pieces of this size, yielding between pieces. */
export const PIECE_BYTES = 64 * 1024

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b

/**
 * The file's bytes (inflated when gzipped, whatever the name says) in pieces, counted: past
 * maxUploadBytes the inflation stops and the file is refused, so a gzip bomb costs at most the
 * limit, and less when the consumer stops early (a CSV over its row limit).
 */
async function* pieces(bytes: Uint8Array, name: string, stats: IngestStats): AsyncGenerator<Uint8Array> {
  const tooBig = () =>
    new HostError('limit', `"${name}" inflates to more than ${MiB(DATA_LIMITS.maxUploadBytes)}, the most a file may hold`)
  if (!isGzip(bytes)) {
    for (let a = 0; a < bytes.length; a += PIECE_BYTES) {
      const piece = bytes.subarray(a, a + PIECE_BYTES)
      stats.inflatedBytes += piece.length
      yield piece
    }
    return
  }
  const gunzip = createGunzip({ chunkSize: PIECE_BYTES })
  gunzip.end(bytes)
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) {
      stats.inflatedBytes += piece.length
      if (stats.inflatedBytes > DATA_LIMITS.maxUploadBytes) throw tooBig()
      yield new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength)
    }
  } catch (e) {
    if (e instanceof HostError) throw e
    throw new HostError(
      'invalid_payload',
      `"${name}" looks gzip-compressed but does not inflate (${(e as Error).message}); is it truncated?`,
    )
  } finally {
    gunzip.destroy()
  }
}

/** IDX files start with two zero bytes and a known type code; CSV text never does. */
function looksLikeIdx(bytes: Uint8Array, name: string): boolean {
  if (/idx\d?-u?byte|\.idx\d?$/i.test(name.replace(/\.gz$/i, ''))) return true
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && data.IDX_TYPES[bytes[2]] !== undefined && bytes[3] >= 1
}

/** Let other requests and training slices run between pieces. */
const yieldNow = (stats: IngestStats): Promise<void> => {
  stats.yields++
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Check, summarise and store a whole file, in pieces: the bytes are inflated, checked and (CSV)
 * parsed one piece at a time, yielding to the event loop after each, and refused at the first
 * piece past a limit (bytes, rows, columns, cells). Memory stays within the limits: the inflated
 * bytes (at most maxUploadBytes, kept to be stored) and the compact parsed table.
 */
export async function ingest(
  store: FileStore,
  name: string,
  received: Uint8Array,
  stats: IngestStats = { inflatedBytes: 0, rowsParsed: 0, yields: 0 },
): Promise<StoredFileOut> {
  const stored = name.replace(/\.gz$/i, '')
  const kept: Uint8Array[] = []
  let head: Uint8Array = new Uint8Array(0)
  let kind: 'idx' | 'csv' | null = null
  const csv = new CsvPieces(name)
  /** Recognise the file once 4 bytes are in (or at the end), then parse what came so far. */
  const recognise = (): void => {
    kind = looksLikeIdx(head, name) ? 'idx' : 'csv'
    if (kind === 'csv') csv.push(head)
  }
  try {
    for await (const piece of pieces(received, name, stats)) {
      kept.push(piece)
      if (kind === null) {
        head = Buffer.concat([head, piece])
        if (head.length >= 4) recognise()
      } else if (kind === 'csv') csv.push(piece)
      stats.rowsParsed = csv.reader.rowsParsed
      await yieldNow(stats)
    }
    if (head.length === 0) throw new HostError('invalid_payload', `"${name}" is empty`)
    if (kind === null) recognise()
  } finally {
    stats.rowsParsed = csv.reader.rowsParsed
  }
  const bytes = Buffer.concat(kept)
  if (kind === 'idx') {
    const idx = asDataError(() => data.parseIdx(bytes, `"${name}"`))
    if (idx.shape.length === 0)
      throw new HostError('invalid_payload', `"${name}" is an IDX file with no dims; expected images [n, rows, cols] or labels [n]`)
    return store.put(stored, bytes, {
      format: 'idx',
      dtype: idx.dtype,
      dims: idx.shape,
      role: idx.shape.length === 1 ? 'labels' : 'images',
    })
  }
  const table = csv.end()
  const columns = data.describeColumns(table)
  const summary = { format: 'csv' as const, rows: table.n, columns, preview: table.rows(0, PREVIEW_ROWS), warnings: table.warnings }
  return store.put(stored, bytes, summary, table)
}

/** CSV bytes → text → rows, a piece at a time: binary data and bad UTF-8 are refused where they are met. */
class CsvPieces {
  readonly reader: data.CsvReader
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  private offset = 0

  constructor(private readonly name: string) {
    this.reader = new data.CsvReader(`"${name}"`, CSV_LIMITS)
  }

  push(piece: Uint8Array): void {
    const text = this.decode(piece, false)
    asDataError(() => this.reader.push(text))
  }

  end(): data.CsvTable {
    const text = this.decode(new Uint8Array(0), true)
    return asDataError(() => {
      this.reader.push(text)
      return this.reader.end()
    })
  }

  private decode(piece: Uint8Array, last: boolean): string {
    const nul = piece.indexOf(0)
    if (nul >= 0) {
      const where = `a zero byte at offset ${this.offset + nul}`
      throw new HostError(
        'invalid_payload',
        `"${this.name}" is not a CSV text file: it holds binary data (${where}); upload a CSV table or an IDX file`,
      )
    }
    this.offset += piece.length
    try {
      return this.decoder.decode(piece, { stream: !last })
    } catch {
      throw new HostError('invalid_payload', `"${this.name}" is not UTF-8 text; save the CSV as UTF-8`)
    }
  }
}
