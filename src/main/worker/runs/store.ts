// The run store: one folder per run in the data directory, `<dataDir>/<runId>/` holding run.json
// (name, tags, status, the spec, versions), metrics.ndjson and checkpoints/step-<n>.{safetensors,json}.
// Deleting moves a folder to `<dataDir>/.trash/` (undo: restore). Every run.json is read once at
// startup into an index (run-index.ts) that the store's own writes keep current; listeners hear of
// each change. A run whose files cannot be read is listed as damaged, never stops startup. A
// filesystem failure marks the store unwritable with a message; later writes retry (at most once
// per `retryMs`, a new run always), and the first that succeeds clears it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { RunId } from '../../../shared/protocol-runs'
import { HostError } from '../errors'
import { describeFsError, isFsError, nodeFs, TMP_PREFIX, writeFileAtomic, type FsOps } from './atomic'
import { parseCheckpoint, type Checkpoint } from './checkpoint'
import { readMetricsLog, statsOf } from './metrics-log'
import { RunIndex, type IndexEntry } from './run-index'
import { CHECKPOINT_DIR, DEFAULT_MAX_LOG_BYTES, METRICS_FILE, parseRecord, RUN_FILE, TRASH, type RunRecord, type StorageStatusOut } from './run-record'

export * from './run-record'

export interface RunStoreOptions {
  /** The filesystem calls writes go through (tests inject failures). Default node:fs. */
  ops?: FsOps
  /** A run's metrics log is compacted when it grows past this. Default 64 MiB. */
  maxLogBytes?: number
  /** After a failure, writes are tried again at most this often (ms). Default 3,000. */
  retryMs?: number
  /** Clock for the retry backoff (ms). */
  now?: () => number
}

/** A change to one run (in the folder or the trash), or to the storage status. */
export type RunChange = { runId: string; trashed: boolean } | { storage: true }

const CKPT = /^step-(\d+)\.json$/

export class RunStore {
  private writable = true
  private message: string | undefined
  private retryAt = 0
  readonly ops: FsOps
  readonly maxLogBytes: number
  private readonly retryMs: number
  private readonly now: () => number
  readonly index = new RunIndex()
  private readonly listeners = new Set<(c: RunChange) => void>()

  constructor(
    readonly dir: string,
    options: RunStoreOptions = {},
  ) {
    this.ops = options.ops ?? nodeFs
    this.maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES
    this.retryMs = options.retryMs ?? 3_000
    this.now = options.now ?? Date.now
    this.guard('open the data directory', () => this.ops.mkdirSync(join(dir, TRASH), { recursive: true }))
    this.recover()
  }

  storage(): StorageStatusOut {
    return this.message === undefined ? { dir: this.dir, writable: this.writable } : { dir: this.dir, writable: this.writable, message: this.message }
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

  /** Whether a failed store would try a write now (always true while writable). */
  retryDue(): boolean {
    return this.writable || this.now() >= this.retryAt
  }

  /**
   * Run a write; a filesystem failure marks the store unwritable and returns null. While
   * unwritable, writes are skipped until the backoff has passed (`force`: try anyway).
   */
  guard<T>(what: string, fn: () => T, force = false): T | null {
    if (!this.writable && !force && !this.retryDue()) return null
    try {
      const result = fn()
      if (!this.writable) {
        this.writable = true
        this.message = undefined
        this.notify({ storage: true })
      }
      return result
    } catch (e) {
      if (!isFsError(e)) throw e
      this.writable = false
      this.retryAt = this.now() + this.retryMs
      this.message = `runs cannot be saved: could not ${what} in ${this.dir}: ${describeFsError(e, this.dir)}; training continues in memory, what was saved before is kept, and saving is retried`
      this.notify({ storage: true })
      return null
    }
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

  /** Atomically replace run.json; false (and the store unwritable) when it could not be written. */
  write(rec: RunRecord, trashed = false): boolean {
    const ok = this.guard('save run.json', () => writeFileAtomic(join(this.runDir(rec.runId, trashed), RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`, this.ops)) !== null
    if (ok) this.indexRun(rec.runId, trashed, rec)
    return ok
  }

  /** Make a run's folder and its run.json (always tried: a new run is worth a retry); null when it cannot be written. */
  create(rec: RunRecord): RunRecord | null {
    const ok = this.guard(
      'create a run folder',
      () => {
        this.ops.mkdirSync(join(this.runDir(rec.runId), CHECKPOINT_DIR), { recursive: true })
        writeFileAtomic(join(this.runDir(rec.runId), RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`, this.ops)
      },
      true,
    )
    if (ok === null) return null
    this.indexRun(rec.runId, false, rec)
    return rec
  }

  /** Readable runs in the data directory (and the trash), newest first. */
  list(includeTrash: boolean): { rec: RunRecord; trashed: boolean }[] {
    return this.index.entries(includeTrash).flatMap((e) => (e.rec ? [{ rec: e.rec, trashed: e.trashed }] : []))
  }

  private runIds(trashed: boolean): string[] {
    const d = trashed ? join(this.dir, TRASH) : this.dir
    try {
      return readdirSync(d).filter((n) => RunId.safeParse(n).success)
    } catch (e) {
      if (isFsError(e)) return []
      throw e
    }
  }

  checkpointSteps(runId: string, trashed = false): number[] {
    let names: Set<string>
    try {
      names = new Set(readdirSync(join(this.runDir(runId, trashed), CHECKPOINT_DIR)))
    } catch (e) {
      if (isFsError(e)) return [] // missing or unreadable: no checkpoint can be opened there
      throw e
    }
    return [...names]
      .map((n) => CKPT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null && names.has(`step-${m[1]}.safetensors`))
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
  }

  checkpointPaths(runId: string, step: number, trashed = false): { tensors: string; meta: string } {
    const d = join(this.runDir(runId, trashed), CHECKPOINT_DIR)
    return { tensors: join(d, `step-${step}.safetensors`), meta: join(d, `step-${step}.json`) }
  }

  /** The tensors first, then the JSON that makes the checkpoint count (a lone .safetensors is ignored). */
  writeCheckpoint(runId: string, step: number, bytes: Uint8Array, meta: object): boolean {
    const p = this.checkpointPaths(runId, step)
    const ok = this.guard(`save the checkpoint at step ${step}`, () => {
      writeFileAtomic(p.tensors, bytes, this.ops)
      writeFileAtomic(p.meta, `${JSON.stringify(meta)}\n`, this.ops)
    }) !== null
    this.indexCheckpoints(runId)
    return ok
  }

  /** Copy checkpoints of one run into another (a branch starts with its parent's). */
  copyCheckpoints(from: string, to: string, steps: number[]): boolean {
    const ok = this.guard('copy checkpoints into the branch', () => {
      for (const s of steps) {
        const a = this.checkpointPaths(from, s)
        const b = this.checkpointPaths(to, s)
        writeFileAtomic(b.tensors, readFileSync(a.tensors), this.ops)
        writeFileAtomic(b.meta, readFileSync(a.meta), this.ops)
      }
    }) !== null
    this.indexCheckpoints(to)
    return ok
  }

  deleteCheckpoint(runId: string, step: number): void {
    const p = this.checkpointPaths(runId, step)
    // The JSON first: without it the checkpoint no longer counts, whatever happens next.
    this.guard('delete an old checkpoint', () => {
      this.ops.rmSync(p.meta, { force: true })
      this.ops.rmSync(p.tensors, { force: true })
    })
    this.indexCheckpoints(runId)
  }

  /** Move a checkpoint that cannot be read out of the way (kept as damaged-step-<n>.*, not deleted). */
  setAsideCheckpoint(runId: string, step: number): void {
    const p = this.checkpointPaths(runId, step)
    const aside = (f: string) => f.replace(/step-(\d+)\.(json|safetensors)$/, 'damaged-step-$1.$2')
    this.guard('set a damaged checkpoint aside', () => {
      this.ops.renameSync(p.meta, aside(p.meta))
      if (existsSync(p.tensors)) this.ops.renameSync(p.tensors, aside(p.tensors))
    })
    this.indexCheckpoints(runId)
  }

  readCheckpoint(runId: string, step: number): Checkpoint {
    const p = this.checkpointPaths(runId, step)
    const have = this.checkpointSteps(runId)
    if (!have.includes(step)) {
      throw new HostError('not_found', `run ${runId} has no checkpoint at step ${step} (it has ${have.length > 0 ? have.join(', ') : 'none'})`)
    }
    return parseCheckpoint(readFileSync(p.tensors), readFileSync(p.meta, 'utf8'), `run ${runId}, step ${step}`, p.meta)
  }

  /** Into the trash (or back): a rename, so a run is never half moved. */
  move(runId: string, toTrash: boolean): void {
    const from = this.locate(runId, !toTrash)
    const to = this.runDir(runId, toTrash)
    if (existsSync(to)) {
      if (!toTrash) throw new HostError('invalid_payload', `run ${runId} is both in the trash and in ${this.dir}; it cannot be restored over itself`)
      this.guard('clear an old copy from the trash', () => this.ops.rmSync(to, { recursive: true, force: true }), true)
    }
    const ok = this.guard(toTrash ? 'move the run to the trash' : 'restore the run from the trash', () => this.ops.renameSync(from, to), true)
    if (ok === null) throw new HostError('internal', this.message ?? 'the data directory cannot be written')
    const old = this.index.remove(runId, !toTrash)
    this.notify({ runId, trashed: !toTrash })
    this.indexRun(runId, toTrash, old?.rec ?? null)
  }

  /** (Re)index one run from what is on disk (its run.json unless given) and tell listeners. */
  private indexRun(runId: string, trashed: boolean, rec: RunRecord | null): void {
    this.index.put(rec ? this.entryOf(runId, trashed, rec) : this.load(runId, trashed))
    this.notify({ runId, trashed })
  }

  private indexCheckpoints(runId: string): void {
    const e = this.index.get(runId, false)
    if (!e) return
    e.checkpoints = this.checkpointSteps(runId)
    this.notify({ runId, trashed: false })
  }

  private entryOf(runId: string, trashed: boolean, rec: RunRecord): IndexEntry {
    return { runId, trashed, rec, createdAt: rec.createdAt, checkpoints: this.checkpointSteps(runId, trashed) }
  }

  /** An index entry from disk; a run whose files cannot be read becomes a damaged entry saying why. */
  private load(runId: string, trashed: boolean): IndexEntry {
    const d = this.runDir(runId, trashed)
    const damaged = (reason: string): IndexEntry => {
      let createdAt = new Date(0).toISOString()
      try {
        createdAt = statSync(d).mtime.toISOString()
      } catch {
        // The folder's time is only for sorting; the epoch will do.
      }
      return { runId, trashed, rec: null, damaged: reason, createdAt, checkpoints: this.checkpointSteps(runId, trashed) }
    }
    try {
      const file = join(d, RUN_FILE)
      if (!existsSync(file)) return damaged(`${file} is missing`)
      const r = parseRecord(readFileSync(file, 'utf8'))
      return typeof r === 'string' ? damaged(`${file}: ${r}`) : this.entryOf(runId, trashed, r)
    } catch (e) {
      return damaged(`${join(d, RUN_FILE)} could not be read: ${isFsError(e) ? describeFsError(e, this.dir) : e instanceof Error ? e.message : String(e)}`)
    }
  }

  /**
   * At startup: index every run; a run still marked live belonged to a process that died (its
   * stats come from its log, read streaming). Each run is recovered on its own: whatever its
   * files hold, the others and the host start.
   */
  private recover(): void {
    for (const trashed of [false, true]) {
      for (const runId of this.runIds(trashed)) {
        try {
          this.recoverRun(runId, trashed)
        } catch (e) {
          const reason = `could not be recovered: ${isFsError(e) ? describeFsError(e, this.dir) : e instanceof Error ? e.message : String(e)}`
          this.index.put({ runId, trashed, rec: null, damaged: reason, createdAt: new Date(0).toISOString(), checkpoints: [] })
        }
      }
    }
  }

  private recoverRun(runId: string, trashed: boolean): void {
    const d = this.runDir(runId, trashed)
    for (const sub of [d, join(d, CHECKPOINT_DIR)]) {
      if (!existsSync(sub)) continue
      for (const n of readdirSync(sub)) if (n.startsWith(TMP_PREFIX)) this.guard('remove a temporary file', () => this.ops.rmSync(join(sub, n), { force: true }))
    }
    const entry = this.load(runId, trashed)
    const hasData = existsSync(join(d, METRICS_FILE)) || this.checkpointSteps(runId, trashed).length > 0
    // Killed between making the folder and its first checkpoint: it never held anything to open.
    if (!trashed && !hasData && (entry.rec?.status === 'live' || (!entry.rec && !existsSync(join(d, RUN_FILE))))) {
      if (this.guard('remove an empty run folder', () => this.ops.rmSync(d, { recursive: true, force: true })) !== null) return
    }
    if (!trashed && entry.rec?.status === 'live') {
      const rec: RunRecord = { ...entry.rec, status: 'interrupted', stats: statsOf(readMetricsLog(join(d, METRICS_FILE), { budget: 4096 })) }
      entry.rec = rec
      this.guard('mark an interrupted run', () => writeFileAtomic(join(d, RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`, this.ops))
    }
    this.index.put(entry)
  }
}

