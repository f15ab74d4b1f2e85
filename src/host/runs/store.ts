// The run store: one folder per run in the data directory, `<dataDir>/<runId>/` holding run.json
// (name, tags, status, the spec, versions), metrics.ndjson and checkpoints/step-<n>.{safetensors,json}
// (checkpoint-files.ts). Deleting moves a folder to `<dataDir>/.trash/` (undo: restore). Every
// run.json is read at startup, in slices (store-recovery.ts; `ready` resolves when done), into an
// index (run-index.ts) that the store's own writes keep current; listeners hear of each change.
// A filesystem failure marks the store unwritable with a message; the operation that failed (one
// run's writes, keyed by its id) is retried at most once per `retryMs`, while other runs' writes
// and user actions are tried as usual; the first write that succeeds clears the message.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { RunId } from '../../shared/protocol-runs'
import { HostError } from '../errors'
import { describeFsError, isFsError, nodeFs, writeFileAtomic, type FsOps } from './atomic'
import { CheckpointFiles } from './checkpoint-files'
import { compactLog, type CompactResult } from './log-compaction'
import { RunIndex, type IndexEntry } from './run-index'
import { DEFAULT_MAX_LOG_BYTES, METRICS_FILE, parseRecord, RUN_FILE, TRASH, type RunRecord, type StorageStatusOut } from './run-record'
import { nextTurn, type YieldFn } from './slices'
import { recoverRuns } from './store-recovery'

export * from './run-record'

export interface RunStoreOptions {
  /** The filesystem calls writes go through (tests inject failures). Default node:fs. */
  ops?: FsOps
  /** A run's metrics log is compacted when it grows past this. Default 64 MiB. */
  maxLogBytes?: number
  /** After a failure, that operation is tried again at most this often (ms). Default 3,000. */
  retryMs?: number
  /** Clock for the retry backoff (ms). */
  now?: () => number
  /** Between slices of long work (startup, log reads and compaction); tests count the turns. */
  yieldFn?: YieldFn
}

/** A change to one run (in the folder or the trash), or to the storage status. */
export type RunChange = { runId: string; trashed: boolean } | { storage: true }

/** The retry key of the store's own housekeeping (the data directory, startup clean-up). */
export const STORE_KEY = '(store)'

export class RunStore {
  private writable = true
  private message: string | undefined
  /** Operations that failed, by key (a run id or STORE_KEY), and when each may be tried again. */
  private readonly retryAt = new Map<string, number>()
  readonly ops: FsOps
  readonly maxLogBytes: number
  readonly yieldFn: YieldFn
  private readonly retryMs: number
  private readonly now: () => number
  readonly index = new RunIndex()
  readonly checkpoints = new CheckpointFiles(this)
  private readonly listeners = new Set<(c: RunChange) => void>()
  /** Compactions in progress, by run id (one at a time per log). */
  private readonly compacting = new Map<string, Promise<CompactResult | null>>()
  /** Whoever appends to a run's log (its recorder): told when a compaction replaced the file. */
  private readonly logWriters = new Map<string, () => void>()
  /** Resolves once every run folder found at startup is indexed. */
  readonly ready: Promise<void>

  constructor(
    readonly dir: string,
    options: RunStoreOptions = {},
  ) {
    this.ops = options.ops ?? nodeFs
    this.maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES
    this.retryMs = options.retryMs ?? 3_000
    this.now = options.now ?? Date.now
    this.yieldFn = options.yieldFn ?? nextTurn
    this.guard('open the data directory', () => this.ops.mkdirSync(join(dir, TRASH), { recursive: true }))
    this.ready = recoverRuns(this)
  }

  storage(): StorageStatusOut {
    return { dir: this.dir, writable: this.writable, ...(this.message === undefined ? {} : { message: this.message }) }
  }

  get isWritable(): boolean {
    return this.writable
  }

  onChange(listener: (c: RunChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A run's numbers changed in memory (a live run's metrics): listeners may want a new summary. */
  touched(runId: string): void {
    this.notify({ runId, trashed: false })
  }

  private notify(c: RunChange): void {
    for (const l of this.listeners) l(c)
  }

  /** Whether an operation with this key would be tried now (false while its retry is not due). */
  retryDue(key: string | null = STORE_KEY): boolean {
    return key === null || this.now() >= (this.retryAt.get(key) ?? -Infinity)
  }

  /**
   * Run a write; a filesystem failure marks the store unwritable and returns null. An operation
   * whose key failed before is skipped (null) until its backoff has passed; other keys are tried
   * as usual, and a null key (a user's action, a new run) always is.
   */
  guard<T>(what: string, fn: () => T, key: string | null = STORE_KEY): T | null {
    if (!this.retryDue(key)) return null
    try {
      const result = fn()
      this.succeeded(key)
      return result
    } catch (e) {
      if (!isFsError(e)) throw e
      this.failed(what, e, key)
      return null
    }
  }

  /** guard for work that takes several slices (a log compaction). */
  async guardAsync<T>(what: string, fn: () => Promise<T>, key: string | null = STORE_KEY): Promise<T | null> {
    if (!this.retryDue(key)) return null
    try {
      const result = await fn()
      this.succeeded(key)
      return result
    } catch (e) {
      if (!isFsError(e)) throw e
      this.failed(what, e, key)
      return null
    }
  }

  private succeeded(key: string | null): void {
    if (key !== null) this.retryAt.delete(key)
    if (this.writable) return
    this.writable = true
    this.message = undefined
    this.notify({ storage: true })
  }

  private failed(what: string, e: NodeJS.ErrnoException, key: string | null): void {
    if (key !== null) this.retryAt.set(key, this.now() + this.retryMs)
    this.writable = false
    this.message = `runs cannot be saved: could not ${what} in ${this.dir}: ${describeFsError(e, this.dir)}; training continues in memory, what was saved before is kept, and saving is retried`
    this.notify({ storage: true })
  }

  runDir(runId: string, trashed = false): string {
    return trashed ? join(this.dir, TRASH, runId) : join(this.dir, runId)
  }

  /** The run's folder (in the trash when `trashed`), or not_found. */
  locate(runId: string, trashed = false): string {
    const d = this.runDir(runId, trashed)
    if (!RunId.safeParse(runId).success || !existsSync(join(d, RUN_FILE))) {
      throw new HostError('not_found', `no run "${runId}"${trashed ? ' in the trash' : ''} in ${this.dir}`)
    }
    return d
  }

  read(runId: string, trashed = false): RunRecord {
    const file = join(this.locate(runId, trashed), RUN_FILE)
    const r = parseRecord(readFileSync(file, 'utf8'))
    if (typeof r === 'string') throw new HostError('internal', `${file}: ${r}`)
    return r
  }

  /**
   * Atomically replace run.json; false (and the store unwritable) when it could not be written.
   * `key`: the retry key (default the run's own, as its recorder writes; null for a user's edit).
   */
  write(rec: RunRecord, trashed = false, key: string | null = rec.runId): boolean {
    const file = join(this.runDir(rec.runId, trashed), RUN_FILE)
    const ok = this.guard('save run.json', () => writeFileAtomic(file, `${JSON.stringify(rec, null, 1)}\n`, this.ops), key) !== null
    if (ok) this.indexRun(rec.runId, trashed, rec)
    return ok
  }

  /** Make a run's folder and its run.json (always tried: a new run is worth a retry); null when it cannot be written. */
  create(rec: RunRecord): RunRecord | null {
    const ok = this.guard(
      'create a run folder',
      () => {
        this.ops.mkdirSync(join(this.runDir(rec.runId), 'checkpoints'), { recursive: true })
        writeFileAtomic(join(this.runDir(rec.runId), RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`, this.ops)
      },
      null,
    )
    if (ok === null) {
      // A folder without its run.json is not a run: leave nothing half made (the disk may be full).
      try {
        this.ops.rmSync(this.runDir(rec.runId), { recursive: true, force: true })
      } catch {
        // Start-up recovery removes an empty run folder too.
      }
      return null
    }
    this.indexRun(rec.runId, false, rec)
    return rec
  }

  /** Readable runs in the data directory (and the trash), newest first. */
  list(includeTrash: boolean): { rec: RunRecord; trashed: boolean }[] {
    return this.index.entries(includeTrash).flatMap((e) => (e.rec ? [{ rec: e.rec, trashed: e.trashed }] : []))
  }

  /** Into the trash (or back): a rename, so a run is never half moved. */
  move(runId: string, toTrash: boolean): void {
    const from = this.locate(runId, !toTrash)
    const to = this.runDir(runId, toTrash)
    if (existsSync(to)) {
      if (!toTrash)
        throw new HostError('invalid_payload', `run ${runId} is both in the trash and in ${this.dir}; it cannot be restored over itself`)
      this.guard('clear an old copy from the trash', () => this.ops.rmSync(to, { recursive: true, force: true }), null)
    }
    const what = toTrash ? 'move the run to the trash' : 'restore the run from the trash'
    const ok = this.guard(what, () => this.ops.renameSync(from, to), null)
    if (ok === null) throw new HostError('internal', this.message ?? 'the data directory cannot be written')
    const old = this.index.remove(runId, !toTrash)
    this.notify({ runId, trashed: !toTrash })
    this.indexRun(runId, toTrash, old?.rec ?? null)
  }

  /**
   * Compact a run's metrics log (log-compaction.ts) in slices; a compaction already running for it
   * is joined. The run's log writer is told when the new file replaces the old. Null when it was
   * aborted, skipped (its retry not due) or failed (the store says why).
   */
  compactLog(
    runId: string,
    targetBytes: number,
    options: { signal?: AbortSignal } = {},
    key: string | null = runId,
  ): Promise<CompactResult | null> {
    const running = this.compacting.get(runId)
    if (running) return running
    const path = join(this.runDir(runId), METRICS_FILE)
    const onSwap = () => this.logWriters.get(runId)?.()
    const run = () => compactLog(path, targetBytes, { ops: this.ops, yieldFn: this.yieldFn, onSwap, ...options })
    const done = this.guardAsync('compact a long metrics log', run, key)
    const tracked = done.finally(() => this.compacting.delete(runId))
    this.compacting.set(runId, tracked)
    return tracked
  }

  /** Resolves when no compaction of the run's log is in progress (before moving or reopening it). */
  async logIdle(runId: string): Promise<void> {
    await this.compacting.get(runId)?.catch(() => undefined)
  }

  /** The writer of a run's log (its recorder) reopens the file after a compaction; returns the unregister. */
  onLogSwap(runId: string, reopen: () => void): () => void {
    this.logWriters.set(runId, reopen)
    return () => {
      if (this.logWriters.get(runId) === reopen) this.logWriters.delete(runId)
    }
  }

  /** (Re)index one run from what is on disk (its run.json unless given) and tell listeners. */
  private indexRun(runId: string, trashed: boolean, rec: RunRecord | null): void {
    this.index.put(rec ? this.entryOf(runId, trashed, rec) : this.loadEntry(runId, trashed))
    this.notify({ runId, trashed })
  }

  /** The run's checkpoint files changed (checkpoint-files.ts): the index follows. */
  checkpointsChanged(runId: string): void {
    const e = this.index.get(runId, false)
    if (!e) return
    e.checkpoints = this.checkpoints.steps(runId)
    this.notify({ runId, trashed: false })
  }

  private entryOf(runId: string, trashed: boolean, rec: RunRecord): IndexEntry {
    return { runId, trashed, rec, createdAt: rec.createdAt, checkpoints: this.checkpoints.steps(runId, trashed) }
  }

  /** An index entry from disk; a run whose files cannot be read becomes a damaged entry saying why. */
  loadEntry(runId: string, trashed: boolean): IndexEntry {
    const d = this.runDir(runId, trashed)
    const damaged = (reason: string): IndexEntry => {
      let createdAt = new Date(0).toISOString()
      try {
        createdAt = statSync(d).mtime.toISOString()
      } catch {
        // The folder's time is only for sorting; the epoch will do.
      }
      return { runId, trashed, rec: null, damaged: reason, createdAt, checkpoints: this.checkpoints.steps(runId, trashed) }
    }
    try {
      const file = join(d, RUN_FILE)
      if (!existsSync(file)) return damaged(`${file} is missing`)
      const r = parseRecord(readFileSync(file, 'utf8'))
      return typeof r === 'string' ? damaged(`${file}: ${r}`) : this.entryOf(runId, trashed, r)
    } catch (e) {
      const why = isFsError(e) ? describeFsError(e, this.dir) : e instanceof Error ? e.message : String(e)
      return damaged(`${join(d, RUN_FILE)} could not be read: ${why}`)
    }
  }
}
