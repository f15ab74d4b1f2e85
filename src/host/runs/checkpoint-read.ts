// Reading a checkpoint's tensors in parts: the safetensors header first, then only the tensors
// asked for, each read from the file straight into its own array (no whole-file buffer, no second
// copy). runs.open reads the weights and the sampler's order at once and leaves the optimiser's
// buffers (Adam's two moments: two thirds of a 16×1024 checkpoint's 190 MB) until training
// continues. The file stays open until then, so a later rename, move to the trash or retention's
// delete of that checkpoint cannot take them away (an open file outlives its name).
import { fstatSync } from 'node:fs'
import {
  parseSafetensorsHeader,
  safetensorsFill,
  safetensorsHeaderLength,
  safetensorsTarget,
  type SafeTensor,
  type SafetensorsEntry,
} from '../../engine'
import { HostError } from '../errors'
import type { FsOps } from './atomic'

/** One read call at most this long (a tensor larger than that is read in pieces). */
const MAX_READ = 64 << 20

/** Tensors of a checkpoint not read yet: `load` reads them (once) and closes the file; `release` just closes it. */
export interface DeferredTensors {
  readonly names: readonly string[]
  load(): Record<string, SafeTensor>
  release(): void
}

export class CheckpointReader {
  private fd: number | null
  private readonly dataStart: number
  readonly entries: readonly SafetensorsEntry[]

  /** Opens the file and reads its header; `where` names the checkpoint in errors. */
  constructor(
    private readonly path: string,
    private readonly ops: FsOps,
    private readonly where: string,
  ) {
    let fd: number
    try {
      fd = ops.openSync(path, 'r')
    } catch (e) {
      throw new HostError('internal', `${where}: ${path} could not be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
    }
    this.fd = fd
    try {
      const size = fstatSync(fd).size
      const first8 = this.bytesAt(0, Math.min(8, size))
      const head = this.bytesAt(0, 8 + safetensorsHeaderLength(first8, size))
      const header = parseSafetensorsHeader(head, size)
      this.dataStart = header.dataStart
      this.entries = header.entries
    } catch (e) {
      this.close()
      throw this.unreadable(e)
    }
  }

  /** The tensors whose names pass `pick`, each read into its own array. */
  read(pick: (name: string) => boolean): Record<string, SafeTensor> {
    const out: Record<string, SafeTensor> = {}
    try {
      for (const e of this.entries) {
        if (!pick(e.name)) continue
        const target = safetensorsTarget(e)
        this.fill(target.bytes, this.dataStart + e.begin)
        if (!target.direct) safetensorsFill(e, target.bytes, target.data)
        out[e.name] = { dtype: e.dtype, shape: [...e.shape], data: target.data }
      }
    } catch (e) {
      throw this.unreadable(e)
    }
    return out
  }

  /** The tensors whose names pass `pick`, read when asked (the file stays open until then). */
  defer(pick: (name: string) => boolean): DeferredTensors {
    const names = this.entries.filter((e) => pick(e.name)).map((e) => e.name)
    return {
      names,
      load: () => {
        const tensors = this.read(pick)
        this.close()
        return tensors
      },
      release: () => this.close(),
    }
  }

  close(): void {
    if (this.fd === null) return
    const fd = this.fd
    this.fd = null
    try {
      this.ops.closeSync(fd)
    } catch {
      // Only read from: nothing is lost if it does not close cleanly.
    }
  }

  private bytesAt(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length)
    this.fill(out, position)
    return out
  }

  /** Fill `into` from the file's byte `position` on; a file shorter than that is an error. */
  private fill(into: Uint8Array, position: number): void {
    if (this.fd === null) throw new Error(`${this.path} was closed before its tensors were read`)
    for (let done = 0; done < into.length;) {
      const n = this.ops.readSync(this.fd, into, done, Math.min(MAX_READ, into.length - done), position + done)
      if (n === 0)
        throw new Error(`${this.path} ends at byte ${position + done}, before the ${into.length} bytes expected there (truncated?)`)
      done += n
    }
  }

  private unreadable(e: unknown): HostError {
    if (e instanceof HostError) return e
    const why = e instanceof Error ? e.message : String(e)
    return new HostError('internal', `${this.where}: the checkpoint's tensors are unreadable (${why})`)
  }
}
