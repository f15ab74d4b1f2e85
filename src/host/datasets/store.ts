// The file store: the user's checked files under their content id, in `<dataDir>/files/` as
// `<fileId>.data` (the bytes, decompressed) and `<fileId>.json` (name, size, summary), each
// written atomically (temp + fsync + rename), data first, so a file is listed only once whole.
// Without a data directory (or when it cannot be written) files are kept in memory for the
// host's lifetime. Parsed CSV tables are cached, a few at a time, for previews and sessions.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { z } from 'zod'
import { data, EngineError } from '../../engine'
import { DATA_LIMITS, FileId, StoredFile } from '../../shared/protocol-data'
import { HostError } from '../errors'
import { isFsError, TMP_PREFIX, writeFileAtomic } from '../runs/atomic'

export type StoredFileOut = z.output<typeof StoredFile>

/** 'f' + the first 16 hex digits of the SHA-256 of the (decompressed) bytes. */
export function contentId(bytes: Uint8Array): string {
  return `f${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`
}

const TABLE_CACHE = 4

export class FileStore {
  private readonly memory = new Map<string, { info: StoredFileOut; bytes: Uint8Array }>()
  private readonly tables = new Map<string, data.CsvTable>()
  /** Null: memory only (no data directory, or it could not be created). */
  readonly dir: string | null

  constructor(dir: string | null) {
    let usable = dir
    if (dir !== null) {
      try {
        mkdirSync(dir, { recursive: true })
        for (const n of readdirSync(dir)) if (n.startsWith(TMP_PREFIX)) rmSync(join(dir, n), { force: true })
      } catch (e) {
        if (!isFsError(e)) throw e
        console.error(`engine host: files are kept in memory: cannot use ${dir} (${e.code})`)
        usable = null
      }
    }
    this.dir = usable
  }

  /** Keep a checked file (and its parsed table, for the sessions that follow); the same bytes again get the same id. */
  put(name: string, bytes: Uint8Array, summary: StoredFileOut['summary'], table?: data.CsvTable): StoredFileOut {
    const info: StoredFileOut = { fileId: contentId(bytes), name, bytes: bytes.length, summary }
    if (table) this.cache(info.fileId, table)
    const existing = this.find(info.fileId)
    if (existing) return existing
    if (this.dir !== null) {
      try {
        writeFileAtomic(join(this.dir, `${info.fileId}.data`), bytes)
        writeFileAtomic(join(this.dir, `${info.fileId}.json`), `${JSON.stringify(info)}\n`)
        return info
      } catch (e) {
        if (!isFsError(e)) throw e
        console.error(`engine host: could not save ${name} in ${this.dir} (${e.code}); keeping it in memory`)
      }
    }
    this.memory.set(info.fileId, { info, bytes })
    return info
  }

  has(fileId: string): boolean {
    return this.find(fileId) !== null
  }

  /** The stored file's description, or not_found. */
  info(fileId: string): StoredFileOut {
    const hit = this.find(fileId)
    if (!hit) throw new HostError('not_found', `no stored file "${fileId}" (upload it again)`)
    return hit
  }

  /** The stored (decompressed) bytes, or not_found. */
  bytes(fileId: string): Uint8Array {
    const info = this.info(fileId)
    const mem = this.memory.get(fileId)
    if (mem) return mem.bytes
    const b = readFileSync(join(this.dir!, `${fileId}.data`))
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).subarray(0, info.bytes)
  }

  /** A stored CSV file parsed into a table (cached), or an error saying it is not a CSV file. */
  table(fileId: string): data.CsvTable {
    const hit = this.tables.get(fileId)
    if (hit) return hit
    const info = this.info(fileId)
    if (info.summary.format !== 'csv')
      throw new HostError('invalid_payload', `file ${fileId} ("${info.name}") is an IDX file, not a CSV table`)
    const table = parseCsvBytes(this.bytes(fileId), info.name)
    this.cache(fileId, table)
    return table
  }

  private cache(fileId: string, table: data.CsvTable): void {
    this.tables.delete(fileId)
    this.tables.set(fileId, table)
    if (this.tables.size > TABLE_CACHE) this.tables.delete(this.tables.keys().next().value!)
  }

  private find(fileId: string): StoredFileOut | null {
    if (!FileId.safeParse(fileId).success) return null
    const mem = this.memory.get(fileId)
    if (mem) return mem.info
    if (this.dir === null) return null
    const meta = join(this.dir, `${fileId}.json`)
    if (!existsSync(meta) || !existsSync(join(this.dir, `${fileId}.data`))) return null
    let json: unknown
    try {
      json = JSON.parse(readFileSync(meta, 'utf8'))
    } catch {
      return null // unreadable metadata: as if the file were not there (uploading it again rewrites it)
    }
    const parsed = StoredFile.safeParse(json)
    return parsed.success && parsed.data.fileId === fileId ? parsed.data : null
  }
}

/** UTF-8 text of a CSV file; binary content is refused with where it was seen. */
export function csvText(bytes: Uint8Array, name: string): string {
  const nul = bytes.indexOf(0)
  if (nul >= 0)
    throw new HostError(
      'invalid_payload',
      `"${name}" is not a CSV text file: it holds binary data (a zero byte at offset ${nul}); upload a CSV table or an IDX file`,
    )
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw new HostError('invalid_payload', `"${name}" is not UTF-8 text; save the CSV as UTF-8`)
  }
}

/** What a CSV file may hold: checked as it is read, so a file over them is never parsed whole. */
export const CSV_LIMITS: data.CsvLimits = {
  maxRows: DATA_LIMITS.maxSamples,
  maxColumns: DATA_LIMITS.maxColumns,
  maxCells: DATA_LIMITS.maxCells,
}

/** Parse a stored CSV file's bytes with the host's limits; malformed files become payload errors. */
export function parseCsvBytes(bytes: Uint8Array, name: string): data.CsvTable {
  const text = csvText(bytes, name)
  return asDataError(() => data.parseCsv(text, `"${name}"`, CSV_LIMITS))
}

/** Engine data/argument errors are about the user's file or spec: 'invalid_payload'. */
export function asDataError<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof EngineError && (e.code === 'data' || e.code === 'argument')) {
      throw new HostError('invalid_payload', e.message.slice(e.op.length + 2))
    }
    throw e
  }
}
