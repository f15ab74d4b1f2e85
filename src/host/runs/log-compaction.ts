// Compacting a metrics log that grew past its limit: its history (rewinds applied) is written
// anew, decimated until it fits the target (history.ts: recent steps whole, older thinned, spikes
// kept). It runs in slices on the engine host's thread (a chunk of reading, thinning or writing,
// then a turn of the event loop), so training and requests go on meanwhile, and so do appends:
// the log is compacted up to the size it had when compaction began, the lines appended since are
// copied after it (a chunk per turn while there is more than a chunk), and the last piece of the
// copy, the flush and the rename run in one go, so no append lands between them. Crash-safe like
// every run file: a temporary file, flushed, renamed over the log, then the folder flushed; a
// crash or an abort before the rename leaves the old log whole (startup removes the temp file).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { dirname } from 'node:path'
import { appendAll, fsyncDir, nodeFs, tempPathFor, writeAll, type FsOps } from './atomic'
import { decimateSeries, seriesLength, seriesLines, type MetricsHistory, type Series } from './history'
import type { LineReadOptions } from './line-reader'
import { readMetricsLogAsync } from './metrics-log'
import { nextTurn, SLICE_BYTES, type YieldFn } from './slices'

export interface CompactOptions extends LineReadOptions {
  ops?: FsOps
  /** Between slices (default: one turn of the event loop). */
  yieldFn?: YieldFn
  /** Abort (checked after every slice): the temp file is removed and the log stays as it was. */
  signal?: AbortSignal
  /** Called right after the rename, before anything else can run: a writer reopens the new log here. */
  onSwap?: () => void
}

export interface CompactResult {
  /** The compacted history (without the lines carried over from during the compaction). */
  history: MetricsHistory
  /** The new log's size before the carried lines. */
  bytes: number
  /** Bytes appended while compacting, copied after the compacted history. */
  carried: number
}

const ALL: readonly Series[] = ['loss', 'evals', 'layers']

/** Bytes of one series as log lines, a chunk's worth of lines per slice. */
async function seriesBytes(h: MetricsHistory, s: Series, yieldFn: YieldFn, chunk: number): Promise<number> {
  let n = 0
  let since = 0
  for (const line of seriesLines(h, s)) {
    const b = Buffer.byteLength(line)
    n += b
    since += b
    if (since >= chunk) {
      since = 0
      await yieldFn()
    }
  }
  return n
}

/** Thin whichever series takes the most bytes until the whole fits (layer records are the biggest); the size written. */
async function fit(h: MetricsHistory, targetBytes: number, yieldFn: YieldFn, chunk: number, aborted: () => boolean): Promise<number> {
  const sizes = new Map<Series, number>()
  for (const s of ALL) sizes.set(s, await seriesBytes(h, s, yieldFn, chunk))
  const total = () => [...sizes.values()].reduce((a, b) => a + b, 0)
  while (total() > targetBytes && !aborted()) {
    const biggest = ALL.filter((s) => seriesLength(h, s) > 8).sort((a, b) => sizes.get(b)! - sizes.get(a)!)[0]
    if (!biggest) break
    decimateSeries(h, biggest, Math.floor(seriesLength(h, biggest) / 2))
    await yieldFn()
    sizes.set(biggest, await seriesBytes(h, biggest, yieldFn, chunk))
  }
  return total()
}

/**
 * Rewrite the log at `path` as its decimated history (at most `targetBytes`, plus whatever is
 * appended meanwhile). Null when aborted. Filesystem errors are thrown after the temp file is removed.
 */
export async function compactLog(path: string, targetBytes: number, options: CompactOptions = {}): Promise<CompactResult | null> {
  const ops = options.ops ?? nodeFs
  const yieldFn = options.yieldFn ?? nextTurn
  const chunk = options.chunkBytes ?? SLICE_BYTES
  const aborted = () => options.signal?.aborted === true
  const src = openSync(path, 'r')
  let tmp: string | null = null
  let out: number | null = null
  try {
    const upTo = fstatSync(src).size
    const budget = Math.max(64, Math.floor(targetBytes / 24))
    const { history: h } = await readMetricsLogAsync(path, { ...options, budget, yieldFn, endOffset: upTo })
    if (aborted()) return null
    const bytes = await fit(h, targetBytes, yieldFn, chunk, aborted)
    if (aborted()) return null

    tmp = tempPathFor(path)
    out = ops.openSync(tmp, 'w', 0o600)
    let pending: string[] = []
    let pendingBytes = 0
    for (const s of ALL) {
      for (const line of seriesLines(h, s)) {
        pending.push(line)
        pendingBytes += line.length
        if (pendingBytes < chunk) continue
        appendAll(out, pending.join(''), ops)
        pending = []
        pendingBytes = 0
        await yieldFn()
        if (aborted()) return null
      }
    }
    appendAll(out, pending.join(''), ops)
    // The bulk is flushed off the thread; the final flush below then only has the carried tail to write.
    await ops.fsync(out)
    if (aborted()) return null

    // Catch up with the appends made meanwhile, a chunk per turn, until what is left fits in one.
    let copied = upTo
    const buf = Buffer.alloc(chunk)
    const copy = (): number => {
      const n = readSync(src, buf, 0, chunk, copied)
      if (n > 0) writeAll(out!, buf.subarray(0, n), ops)
      copied += n
      return n
    }
    while (fstatSync(src).size - copied > chunk) {
      copy()
      await yieldFn()
      if (aborted()) return null
    }
    // The swap, in one piece: nothing can be appended between the last copy and the rename.
    while (copy() > 0);
    ops.fsyncSync(out)
    ops.closeSync(out)
    out = null
    ops.renameSync(tmp, path)
    tmp = null
    options.onSwap?.()
    fsyncDir(dirname(path), ops)
    return { history: { ...h, skippedLines: 0 }, bytes, carried: copied - upTo }
  } finally {
    closeSync(src)
    if (out !== null) quietly(() => ops.closeSync(out!))
    if (tmp !== null) quietly(() => ops.rmSync(tmp!, { force: true }))
  }
}

/** Cleanup after a failure or an abort: the original error (if any) is the one that matters. */
function quietly(fn: () => void): void {
  try {
    fn()
  } catch {
    // Nothing more to do: startup removes any temp file left behind.
  }
}
