// Reading a log line by line from a file descriptor in fixed-size chunks, so a log of any size
// is read in bounded memory (never as one string: V8 refuses strings past ~512 MiB, which once
// made the host crash-loop at startup). A line longer than `maxLineBytes` is skipped, not held.
import { closeSync, openSync, readSync } from 'node:fs'

export interface LineReadOptions {
  /** Bytes read per call. Default 1 MiB. */
  chunkBytes?: number
  /** A longer line is skipped (counted as unreadable). Default 64 MiB. */
  maxLineBytes?: number
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

export const DEFAULT_CHUNK_BYTES = 1 << 20
export const DEFAULT_MAX_LINE_BYTES = 64 << 20

/** Calls `onLine` for every complete line (without its newline); the torn tail is returned, not passed. */
export function forEachLine(path: string, onLine: (text: string) => void, options: LineReadOptions = {}): LineReadStats {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const stats: LineReadStats = { bytes: 0, maxBuffered: 0, longLines: 0, tail: '' }
  const buf = Buffer.alloc(chunkBytes)
  let carry: Buffer[] = []
  let carryLen = 0
  let skipping = false
  const fd = openSync(path, 'r')
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null)
      if (n === 0) break
      stats.bytes += n
      let start = 0
      for (let nl = buf.indexOf(0x0a, start); nl !== -1 && nl < n; nl = buf.indexOf(0x0a, start)) {
        if (skipping) skipping = false
        else if (carryLen === 0) onLine(buf.toString('utf8', start, nl))
        else if (carryLen + nl - start <= maxLine) onLine(Buffer.concat([...carry, buf.subarray(start, nl)]).toString('utf8'))
        else stats.longLines++
        carry = []
        carryLen = 0
        start = nl + 1
      }
      if (start < n && !skipping) {
        if (carryLen + n - start > maxLine) {
          // Too long to hold: drop what there is and everything up to the next newline.
          stats.longLines++
          skipping = true
          carry = []
          carryLen = 0
        } else {
          carry.push(Buffer.from(buf.subarray(start, n)))
          carryLen += n - start
        }
      }
      stats.maxBuffered = Math.max(stats.maxBuffered, chunkBytes + carryLen)
    }
  } finally {
    closeSync(fd)
  }
  // (A torn line too long to hold was counted in longLines already.)
  if (carryLen > 0) stats.tail = Buffer.concat(carry).toString('utf8')
  return stats
}
