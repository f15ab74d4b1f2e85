// A run's checkpoint files on disk, `<run>/checkpoints/step-<n>.{safetensors,json}`: listing,
// writing (the tensors first, then the JSON that makes the checkpoint count), sharing them with a
// branch (hard links where the disk has them), thinning, setting damaged ones aside, and reading one back, sized first from its
// safetensors header so a checkpoint too big for a session is refused before it is read whole.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { formatBytes } from '../budget'
import { HostError } from '../errors'
import { isFsError, linkOrCopyAtomic, writeFileAtomic } from './atomic'
import { CheckpointWrite } from './checkpoint-write'
import { isOptimizerTensor, parseCheckpointMeta, type Checkpoint } from './checkpoint'
import { CheckpointReader } from './checkpoint-read'
import { CHECKPOINT_DIR } from './run-record'
import { measureRun } from './run-size'
import type { RunStore } from './store'

const CKPT = /^step-(\d+)\.json$/
/** Sizes in messages: the budget's format from a mebibyte up, kibibytes below (tests use small budgets). */
const size = (n: number): string => (n >= 1 << 20 ? formatBytes(n) : `${Math.ceil(n / 1024)} KiB`)
/** A header longer than this is not read for sizing (the file's own size still counts). */
const MAX_SIZING_HEADER = 16 << 20

/**
 * The bytes a checkpoint's tensors take: the larger of the file's size and what its header
 * declares (the end of the last tensor), read from the first 8 + N bytes only.
 */
export function checkpointBytes(path: string): number {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const len = Buffer.alloc(8)
    if (size < 8 || readSync(fd, len, 0, 8, 0) < 8) return size
    const n = Number(len.readBigUInt64LE(0))
    if (n > MAX_SIZING_HEADER || 8 + n > size) return size
    const text = Buffer.alloc(n)
    readSync(fd, text, 0, n, 8)
    let end = 0
    try {
      for (const e of Object.values(JSON.parse(text.toString('utf8')) as Record<string, { data_offsets?: unknown }>)) {
        const off = e?.data_offsets
        if (Array.isArray(off) && typeof off[1] === 'number' && Number.isFinite(off[1])) end = Math.max(end, off[1])
      }
    } catch {
      // An unreadable header is reported by the full read; only the file's size is known here.
    }
    return Math.max(size, 8 + n + end)
  } finally {
    closeSync(fd)
  }
}

export class CheckpointFiles {
  constructor(private readonly store: RunStore) {}

  /** The run's checkpoints changed: its size is measured again, then the index and listeners follow. */
  private changed(runId: string): void {
    // (A background write that lands after the run went to the trash leaves the trash's figure be.)
    if (this.store.index.get(runId, false)) measureRun(this.store, runId)
    this.store.checkpointsChanged(runId)
  }

  steps(runId: string, trashed = false): number[] {
    let names: Set<string>
    try {
      names = new Set(readdirSync(join(this.store.runDir(runId, trashed), CHECKPOINT_DIR)))
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

  paths(runId: string, step: number, trashed = false): { tensors: string; meta: string } {
    const d = join(this.store.runDir(runId, trashed), CHECKPOINT_DIR)
    return { tensors: join(d, `step-${step}.safetensors`), meta: join(d, `step-${step}.json`) }
  }

  /** The tensors first, then the JSON that makes the checkpoint count (a lone .safetensors is ignored). */
  write(runId: string, step: number, bytes: Uint8Array, meta: object): boolean {
    const p = this.paths(runId, step)
    const ops = this.store.ops
    const ok =
      this.store.guard(
        `save the checkpoint at step ${step}`,
        () => {
          writeFileAtomic(p.tensors, bytes, ops)
          writeFileAtomic(p.meta, `${JSON.stringify(meta)}\n`, ops)
        },
        runId,
      ) !== null
    this.changed(runId)
    return ok
  }

  /** `write` beside the host's other work, for a big checkpoint (checkpoint-write.ts); `done` says whether it was saved. */
  writeInBackground(runId: string, step: number, parts: readonly Uint8Array[], meta: object): CheckpointWrite {
    const job = new CheckpointWrite(parts, this.paths(runId, step), meta, this.store.ops, (what, fn) =>
      this.store.guardAsync(what, fn, runId),
    )
    void job.done.then(() => this.changed(runId))
    return job
  }

  /** Copy checkpoints of one run into another (a branch starts with its parent's). */
  copy(from: string, to: string, steps: number[]): boolean {
    const ops = this.store.ops
    const ok =
      this.store.guard(
        'copy checkpoints into the branch',
        () => {
          for (const s of steps) {
            const a = this.paths(from, s)
            const b = this.paths(to, s)
            // Linked, not copied, where the disk allows: a big run's checkpoints are hundreds of MB each.
            linkOrCopyAtomic(a.tensors, b.tensors, ops)
            writeFileAtomic(b.meta, readFileSync(a.meta), ops)
          }
        },
        to,
      ) !== null
    this.changed(to)
    return ok
  }

  delete(runId: string, step: number): void {
    const p = this.paths(runId, step)
    const ops = this.store.ops
    // The JSON first: without it the checkpoint no longer counts, whatever happens next.
    this.store.guard(
      'delete an old checkpoint',
      () => {
        ops.rmSync(p.meta, { force: true })
        ops.rmSync(p.tensors, { force: true })
      },
      runId,
    )
    this.changed(runId)
  }

  /** Move a checkpoint that cannot be read out of the way (kept as damaged-step-<n>.*, not deleted). */
  setAside(runId: string, step: number): void {
    const p = this.paths(runId, step)
    const ops = this.store.ops
    const aside = (f: string) => f.replace(/step-(\d+)\.(json|safetensors)$/, 'damaged-step-$1.$2')
    this.store.guard(
      'set a damaged checkpoint aside',
      () => {
        ops.renameSync(p.meta, aside(p.meta))
        if (existsSync(p.tensors)) ops.renameSync(p.tensors, aside(p.tensors))
      },
      runId,
    )
    this.changed(runId)
  }

  /**
   * Read one checkpoint. With `maxBytes` (the host's budget per session), a checkpoint whose
   * tensors take more is refused with a 'limit' error before it is read: reading it whole would
   * take that much memory, and the session it restores could not be opened anyway.
   */
  read(runId: string, step: number, maxBytes = Infinity, options: { deferOptimizer?: boolean } = {}): Checkpoint {
    const p = this.paths(runId, step)
    const have = this.steps(runId)
    if (!have.includes(step)) {
      throw new HostError(
        'not_found',
        `run ${runId} has no checkpoint at step ${step} (it has ${have.length > 0 ? have.join(', ') : 'none'})`,
      )
    }
    const where = `run ${runId}, step ${step}`
    let bytes: number
    try {
      bytes = checkpointBytes(p.tensors)
    } catch (e) {
      if (!isFsError(e)) throw e
      throw new HostError('internal', `${where}: ${p.tensors} could not be read (${e.code})`)
    }
    if (bytes > maxBytes) {
      throw new HostError(
        'limit',
        `${where}: the checkpoint's tensors take ${size(bytes)} (${p.tensors}), ${size(bytes - maxBytes)} over this host's ` +
          `${size(maxBytes)} budget per session; it was not read. Open it on a host with more memory or raise the budget with --memory-budget`,
      )
    }
    const meta = parseCheckpointMeta(readFileSync(p.meta, 'utf8'), where, p.meta)
    // Each tensor is read straight into its own array; the optimiser's only when training continues.
    const reader = new CheckpointReader(p.tensors, this.store.ops, where)
    try {
      if (!options.deferOptimizer) return { meta, tensors: reader.read(() => true) }
      return { meta, tensors: reader.read((name) => !isOptimizerTensor(name)), later: reader.defer(isOptimizerTensor) }
    } catch (e) {
      reader.close()
      throw e
    } finally {
      if (!options.deferOptimizer) reader.close()
    }
  }
}
