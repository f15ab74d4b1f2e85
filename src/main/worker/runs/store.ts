// The run store: one folder per run in the data directory, `<dataDir>/<runId>/` holding run.json
// (name, tags, status, the spec, versions), metrics.ndjson and checkpoints/step-<n>.{safetensors,json}.
// Deleting moves a folder to `<dataDir>/.trash/` (undo: restore). Any filesystem failure marks
// the store unwritable with a message that says so; nothing already on disk is touched then.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { BackendInfo } from '../../../engine'
import { REQUESTS, type RequestResult } from '../../../shared/protocol'
import { RunId } from '../../../shared/protocol-runs'
import { HostError } from '../errors'
import type { SessionSpecOut } from '../setup'
import { isFsError, TMP_PREFIX, writeFileAtomic } from './atomic'
import { parseCheckpoint, type Checkpoint } from './checkpoint'
import { readMetricsLog, statsOf, type RunStats } from './metrics-log'

export type RunSummaryOut = RequestResult<'runs.rename'>
export type StorageStatusOut = RequestResult<'runs.list'>['storage']
export type RunStatus = RunSummaryOut['status']

declare const __APP_VERSION__: string | undefined
export const APP_VERSION = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : 'dev'
export const RUN_FORMAT = 1
export const TRASH = '.trash'

export interface RunRecord {
  format: number
  runId: string
  name: string
  tags: string[]
  createdAt: string
  updatedAt: string
  status: RunStatus
  spec: SessionSpecOut
  backend: BackendInfo
  appVersion: string
  /** Where a time-travel branch came from. */
  parent?: { runId: string; step: number }
  /** As of the last save (a live run's numbers are newer in memory). */
  stats: RunStats
}

export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.ndjson'
export const CHECKPOINT_DIR = 'checkpoints'

export function newRunId(now: Date): string {
  return `r${now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`
}

const CKPT = /^step-(\d+)\.json$/

export class RunStore {
  private writable = true
  private message: string | undefined

  constructor(readonly dir: string) {
    this.guard('open the data directory', () => {
      mkdirSync(join(dir, TRASH), { recursive: true })
      this.recover()
    })
  }

  storage(): StorageStatusOut {
    return this.message === undefined ? { dir: this.dir, writable: this.writable } : { dir: this.dir, writable: this.writable, message: this.message }
  }

  get isWritable(): boolean {
    return this.writable
  }

  /** Run a write; a filesystem failure marks the store unwritable and returns null. */
  guard<T>(what: string, fn: () => T): T | null {
    if (!this.writable) return null
    try {
      return fn()
    } catch (e) {
      if (!isFsError(e)) throw e
      this.writable = false
      this.message = `runs cannot be saved: could not ${what} in ${this.dir} (${e.code}: ${e.message}); training continues in memory and what was saved before is kept`
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
    const rec = parseRecord(readFileSync(file, 'utf8'))
    if (!rec) throw new HostError('internal', `${file} is not a run description this version can read`)
    return rec
  }

  /** Atomically replace run.json; false (and the store unwritable) when it could not be written. */
  write(rec: RunRecord, trashed = false): boolean {
    return this.guard('save run.json', () => writeFileAtomic(join(this.runDir(rec.runId, trashed), RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`)) !== null
  }

  /** Make a run's folder and its run.json; null when the store cannot be written. */
  create(rec: RunRecord): RunRecord | null {
    const ok = this.guard('create a run folder', () => {
      mkdirSync(join(this.runDir(rec.runId), CHECKPOINT_DIR), { recursive: true })
      writeFileAtomic(join(this.runDir(rec.runId), RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`)
    })
    return ok === null ? null : rec
  }

  /** Runs in the data directory (and the trash), newest first; unreadable folders are left out. */
  list(includeTrash: boolean): { rec: RunRecord; trashed: boolean }[] {
    const out: { rec: RunRecord; trashed: boolean }[] = []
    for (const trashed of includeTrash ? [false, true] : [false]) {
      for (const runId of this.runIds(trashed)) {
        try {
          out.push({ rec: this.read(runId, trashed), trashed })
        } catch {
          // A folder without a readable run.json (not a run, or made by a newer version): skip it.
        }
      }
    }
    return out.sort((a, b) => (a.rec.createdAt < b.rec.createdAt ? 1 : a.rec.createdAt > b.rec.createdAt ? -1 : 0))
  }

  private runIds(trashed: boolean): string[] {
    const d = trashed ? join(this.dir, TRASH) : this.dir
    if (!existsSync(d)) return []
    return readdirSync(d).filter((n) => RunId.safeParse(n).success)
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
    return this.guard(`save the checkpoint at step ${step}`, () => {
      writeFileAtomic(p.tensors, bytes)
      writeFileAtomic(p.meta, `${JSON.stringify(meta)}\n`)
    }) !== null
  }

  deleteCheckpoint(runId: string, step: number): void {
    const p = this.checkpointPaths(runId, step)
    // The JSON first: without it the checkpoint no longer counts, whatever happens next.
    this.guard('delete an old checkpoint', () => {
      rmSync(p.meta, { force: true })
      rmSync(p.tensors, { force: true })
    })
  }

  readCheckpoint(runId: string, step: number): Checkpoint {
    const p = this.checkpointPaths(runId, step)
    if (!this.checkpointSteps(runId).includes(step)) {
      const have = this.checkpointSteps(runId)
      throw new HostError('not_found', `run ${runId} has no checkpoint at step ${step} (it has ${have.length > 0 ? have.join(', ') : 'none'})`)
    }
    return parseCheckpoint(readFileSync(p.tensors), readFileSync(p.meta, 'utf8'), `run ${runId}, step ${step}`)
  }

  /** Into the trash (or back): a rename, so a run is never half moved. */
  move(runId: string, toTrash: boolean): void {
    const from = this.locate(runId, !toTrash)
    const to = this.runDir(runId, toTrash)
    if (existsSync(to)) {
      if (!toTrash) throw new HostError('invalid_payload', `run ${runId} is both in the trash and in ${this.dir}; it cannot be restored over itself`)
      this.guard('clear an old copy from the trash', () => rmSync(to, { recursive: true, force: true }))
    }
    const ok = this.guard(toTrash ? 'move the run to the trash' : 'restore the run from the trash', () => renameSync(from, to))
    if (ok === null) throw new HostError('internal', this.message ?? 'the data directory cannot be written')
  }

  /** At startup: a run still marked live belonged to a process that died; its stats come from its log. */
  private recover(): void {
    for (const runId of this.runIds(false)) {
      const d = this.runDir(runId)
      for (const sub of [d, join(d, CHECKPOINT_DIR)]) {
        if (!existsSync(sub)) continue
        for (const n of readdirSync(sub)) if (n.startsWith(TMP_PREFIX)) rmSync(join(sub, n), { force: true })
      }
      let rec: RunRecord
      try {
        rec = this.read(runId)
      } catch {
        continue
      }
      if (rec.status !== 'live') continue
      // Killed between making the folder and its first checkpoint: it never held anything to open.
      if (this.checkpointSteps(runId).length === 0 && !existsSync(join(d, METRICS_FILE))) {
        rmSync(d, { recursive: true, force: true })
        continue
      }
      rec.status = 'interrupted'
      rec.stats = statsOf(readMetricsLog(join(d, METRICS_FILE)))
      this.write(rec)
    }
  }
}

function parseRecord(text: string): RunRecord | null {
  let v: RunRecord
  try {
    v = JSON.parse(text) as RunRecord
  } catch {
    return null
  }
  if (v?.format !== RUN_FORMAT || !RunId.safeParse(v.runId).success || typeof v.name !== 'string' || !Array.isArray(v.tags)) return null
  const spec = REQUESTS['session.create'].payload.safeParse(v.spec)
  if (!spec.success) return null
  return { ...v, spec: spec.data }
}
