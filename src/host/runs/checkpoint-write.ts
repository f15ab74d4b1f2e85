// A big checkpoint written beside the host's other work. A 16×1024 model with Adam is ~190 MB of
// tensors: written in one go (copy, encode, write, fsync) it held the engine host's thread for
// seconds, so a Pause or any request behind it waited that long. Here the bytes go to the
// temporary file a piece at a time, one piece per turn of the event loop (a few milliseconds,
// however slow the disk), the flush runs off the thread, and then the rename and the JSON make
// the checkpoint count (as checkpoints.write does).
//
// The parts are views of the live tensors (no copy): the session trains no further until the bytes
// are written (session.ts `saving`), and anything that would change the weights first calls
// `finishNow`, which writes what is left at once.
import { dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fsyncDir, tempPathFor, writeFileAtomic, type FsOps } from './atomic'

/** At most this many bytes are written per turn of the event loop (a few milliseconds into the page cache)... */
export const PIECE_BYTES = 4 << 20
/** ...in writes of this size, and no more once WRITE_TURN_MS has passed: on a slow disk a 4 MiB write took 13 ms. */
export const WRITE_BYTES = 1 << 20
export const WRITE_TURN_MS = 4
/** Checkpoints up to this size are written at once (a few milliseconds); bigger ones beside the loop. */
export const BACKGROUND_BYTES = 16 << 20

/** Runs file work the store's way: an fs failure is recorded and gives null. */
export type GuardAsync = (what: string, fn: () => Promise<void>) => Promise<void | null>

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class CheckpointWrite {
  /** True once the checkpoint counts (its JSON written), false when the filesystem refused it. */
  readonly done: Promise<boolean>
  private part = 0
  private offset = 0
  private fd: number | null = null
  private readonly tmp: string
  /** A write finishNow could not make (the disk is full): the background run fails with it. */
  private error: unknown = null

  constructor(
    private readonly parts: readonly Uint8Array[],
    private readonly paths: { tensors: string; meta: string },
    private readonly meta: object,
    private readonly ops: FsOps,
    guard: GuardAsync,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tmp = tempPathFor(paths.tensors)
    // The file is opened now (the async function runs to its first await at once), so finishNow
    // always has somewhere to write.
    this.done = guard(`save the checkpoint to ${paths.tensors}`, () => this.run()).then(
      (r) => r !== null,
      (e: unknown) => {
        console.error(`checkpoint ${paths.tensors} could not be written:`, e)
        return false
      },
    )
  }

  /** Every byte is with the kernel: the tensors may change from here on. */
  get written(): boolean {
    return this.part >= this.parts.length
  }

  /** Write what is left now (the weights are about to change); the flush and rename follow as planned. */
  finishNow(): void {
    if (this.fd === null || this.error !== null) return
    try {
      while (!this.written) this.writePiece(Infinity)
    } catch (e) {
      this.error = e
    }
  }

  private async run(): Promise<void> {
    this.fd = this.ops.openSync(this.tmp, 'w', 0o600)
    try {
      while (!this.written) {
        this.writeTurn()
        if (!this.written) await nextTurn()
        if (this.error !== null) throw this.error
      }
      await this.ops.fsync(this.fd)
    } catch (e) {
      this.ops.closeSync(this.fd)
      this.fd = null
      this.ops.rmSync(this.tmp, { force: true })
      throw e
    }
    this.ops.closeSync(this.fd)
    this.fd = null
    try {
      this.ops.renameSync(this.tmp, this.paths.tensors)
    } catch (e) {
      this.ops.rmSync(this.tmp, { force: true })
      throw e
    }
    fsyncDir(dirname(this.paths.tensors), this.ops)
    writeFileAtomic(this.paths.meta, `${JSON.stringify(this.meta)}\n`, this.ops)
  }

  /** One turn's writes: WRITE_BYTES at a time, up to PIECE_BYTES or until WRITE_TURN_MS has passed. */
  private writeTurn(): void {
    const start = this.clock()
    let left = PIECE_BYTES
    while (left > 0 && !this.written) {
      this.writePiece(WRITE_BYTES)
      left -= WRITE_BYTES
      if (this.clock() - start >= WRITE_TURN_MS) return
    }
  }

  /** Up to `budget` bytes of the parts, in order. */
  private writePiece(budget: number): void {
    let left = budget
    while (left > 0 && !this.written) {
      const p = this.parts[this.part]
      const n = Math.min(left, p.length - this.offset)
      let done = 0
      while (done < n) done += this.ops.writeSync(this.fd!, p, this.offset + done, n - done)
      this.offset += n
      left -= n
      if (this.offset >= p.length) {
        this.part++
        this.offset = 0
      }
    }
  }
}
