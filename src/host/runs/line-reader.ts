// Reading a log line by line from a file descriptor in fixed-size chunks, so a log of any size
// is read in bounded memory (never as one string: V8 refuses strings past ~512 MiB, which once
// made the host crash-loop at startup). A line longer than `maxLineBytes` is skipped, not held.
// The async reader yields to the event loop after every chunk (slices.ts), so a long log never
// holds the engine host's thread for more than one chunk's work.
import { closeSync, openSync, readSync } from 'node:fs'
import { nextTurn, SLICE_BYTES, type YieldFn } from './slices'

export interface LineReadOptions {
  /** Bytes read per call. Default 1 MiB. */
  chunkBytes?: number
  /** A longer line is skipped (counted as unreadable). Default 64 MiB. */
  maxLineBytes?: number
}

export interface AsyncLineReadOptions extends LineReadOptions {
  /** Called after each chunk (default: one turn of the event loop). */
  yieldFn?: YieldFn
  /** Stop at this byte offset (what the file held when a compaction began). Default: the end. */
  endOffset?: number
  /** Checked after each yield: when aborted, reading stops early (the stats say how far it got). */
  signal?: AbortSignal
}

export interface LineReadStats {
  bytes: number
  /** The most bytes held at once (the chunk plus an unfinished line): the reader's memory bound. */
  maxBuffered: number
  /** Lines skipped for being longer than maxLineBytes. */
  longLines: number
  /** Text after the last newline (a torn tail), '' when the file ends with a newline. */
  tail: string
}

export const DEFAULT_CHUNK_BYTES = SLICE_BYTES
export const DEFAULT_MAX_LINE_BYTES = 64 << 20

/** Splits chunks into lines, carrying an unfinished line over to the next chunk (bounded by maxLine). */
class LineSplitter {
  readonly stats: LineReadStats = { bytes: 0, maxBuffered: 0, longLines: 0, tail: '' }
  private carry: Buffer[] = []
  private carryLen = 0
  private skipping = false

  constructor(
    private readonly onLine: (text: string) => void,
    private readonly chunkBytes: number,
    private readonly maxLine: number,
  ) {}

  push(buf: Buffer, n: number): void {
    const stats = this.stats
    stats.bytes += n
    let start = 0
    for (let nl = buf.indexOf(0x0a, start); nl !== -1 && nl < n; nl = buf.indexOf(0x0a, start)) {
      if (this.skipping) this.skipping = false
      else if (this.carryLen === 0) this.onLine(buf.toString('utf8', start, nl))
      else if (this.carryLen + nl - start <= this.maxLine)
        this.onLine(Buffer.concat([...this.carry, buf.subarray(start, nl)]).toString('utf8'))
      else stats.longLines++
      this.carry = []
      this.carryLen = 0
      start = nl + 1
    }
    if (start < n && !this.skipping) {
      if (this.carryLen + n - start > this.maxLine) {
        // Too long to hold: drop what there is and everything up to the next newline.
        stats.longLines++
        this.skipping = true
        this.carry = []
        this.carryLen = 0
      } else {
        this.carry.push(Buffer.from(buf.subarray(start, n)))
        this.carryLen += n - start
      }
    }
    stats.maxBuffered = Math.max(stats.maxBuffered, this.chunkBytes + this.carryLen)
  }

  finish(): LineReadStats {
    // (A torn line too long to hold was counted in longLines already.)
    if (this.carryLen > 0) this.stats.tail = Buffer.concat(this.carry).toString('utf8')
    return this.stats
  }
}

/** Calls `onLine` for every complete line (without its newline); the torn tail is returned, not passed. */
export function forEachLine(path: string, onLine: (text: string) => void, options: LineReadOptions = {}): LineReadStats {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const lines = new LineSplitter(onLine, chunkBytes, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
  const buf = Buffer.alloc(chunkBytes)
  const fd = openSync(path, 'r')
  try {
    for (let n = readSync(fd, buf, 0, chunkBytes, null); n > 0; n = readSync(fd, buf, 0, chunkBytes, null)) lines.push(buf, n)
  } finally {
    closeSync(fd)
  }
  return lines.finish()
}

/** forEachLine in slices: one chunk, then a turn of the event loop. */
export async function forEachLineAsync(
  path: string,
  onLine: (text: string) => void,
  options: AsyncLineReadOptions = {},
): Promise<LineReadStats> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const yieldFn = options.yieldFn ?? nextTurn
  const end = options.endOffset ?? Infinity
  const lines = new LineSplitter(onLine, chunkBytes, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
  const buf = Buffer.alloc(chunkBytes)
  const fd = openSync(path, 'r')
  try {
    for (let pos = 0; pos < end;) {
      const n = readSync(fd, buf, 0, Math.min(chunkBytes, end - pos), pos)
      if (n === 0) break
      pos += n
      lines.push(buf, n)
      await yieldFn()
      if (options.signal?.aborted) break
    }
  } finally {
    closeSync(fd)
  }
  return lines.finish()
}
