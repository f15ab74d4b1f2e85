// When a product is worth splitting with the helper thread, decided per shape from what it cost:
// the two-thread split pays on an idle second core and loses when that core is busy elsewhere
// (on the 2-core development machine a 256³ product ran at 18 GFLOP/s split against 42 on one
// thread), and which holds changes while the app runs. Each shape keeps an exponential moving
// average of its time per multiply-add both ways; the cheaper one runs, and the other is retried
// now and then (less often while it keeps losing) so the choice follows the machine's load.

/** How a product is cut into chunks the two threads claim (see wasm-gemm-helper.ts). */
export interface ChunkPlan {
  /** 0: chunks of rows (each packs all of B); 1: chunks of columns (each packs all of A). */
  axis: 0 | 1
  size: number
  count: number
}

/** About 2M multiply-adds per chunk (~0.1 ms): enough chunks to balance, few enough to pack cheaply. */
const CHUNK_WORK = 2 ** 21
const MAX_CHUNKS = 8

/**
 * Chunks along the longer side of C, so what each chunk repacks is the smaller operand; null when
 * the product cannot be cut into two chunks of whole tiles.
 */
export function planChunks(m: number, n: number, k: number, tileRows: number, tileCols: number): ChunkPlan | null {
  const want = Math.max(2, Math.min(MAX_CHUNKS, Math.floor((m * n * k) / CHUNK_WORK)))
  const axis = m >= n ? 0 : 1
  const len = axis === 0 ? m : n
  const tile = axis === 0 ? tileRows : tileCols
  const size = Math.ceil(len / want / tile) * tile
  const count = Math.ceil(len / size)
  return count >= 2 ? { axis, size, count } : null
}

/**
 * The way that looks slower is retried after EXPLORE products of the shape; each retry that
 * confirms it doubles the wait (up to MAX_EXPLORE), so a steady loser costs under 1% of the time.
 */
const EXPLORE = 16
const MAX_EXPLORE = 256
/** Weight of the newest measurement in the moving averages. */
const ALPHA = 0.3
/** Shapes remembered; past this the table starts over (a model has a handful of shapes). */
const MAX_SHAPES = 256

interface ShapeCost {
  /** Milliseconds per multiply-add on one thread and split, NaN until measured. */
  inline: number
  split: number
  /** Products since the slower way last ran, and how many to wait before it runs again. */
  since: number
  wait: number
}

export class SplitPolicy {
  private readonly shapes = new Map<string, ShapeCost>()

  /** `always`: split every product that can be (tests of the split itself). */
  constructor(private readonly always = false) {}

  /** Whether to split this product (its shape and operand layout in `key`). */
  choose(key: string): boolean {
    if (this.always) return true
    let s = this.shapes.get(key)
    if (s === undefined) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear()
      s = { inline: NaN, split: NaN, since: 0, wait: EXPLORE }
      this.shapes.set(key, s)
    }
    if (Number.isNaN(s.split)) return true
    if (Number.isNaN(s.inline)) return false
    const splitWins = s.split < s.inline
    if (++s.since < s.wait) return splitWins
    s.since = 0
    return !splitWins
  }

  /**
   * What one product of `work` multiply-adds cost, `split` or not. The way now preferred is
   * averaged; a retry of the other way replaces its figure, so a change of load is taken up on the
   * first retry that shows it (and a lucky one is corrected by the very next products).
   */
  record(key: string, split: boolean, ms: number, work: number): void {
    const s = this.shapes.get(key)
    if (s === undefined) return
    const x = ms / work
    const prev = split ? s.split : s.inline
    const other = split ? s.inline : s.split
    if (Number.isNaN(prev) || Number.isNaN(other)) {
      if (split) s.split = x
      else s.inline = x
      return
    }
    const preferred = prev < other
    const next = preferred ? prev + ALPHA * (x - prev) : x
    if (split) s.split = next
    else s.inline = next
    // A retry that still loses waits twice as long for the next; a change of mind (by a retry, or
    // the preferred way turning slower) starts over.
    if (!preferred) s.wait = next < other ? EXPLORE : Math.min(2 * s.wait, MAX_EXPLORE)
    else if (next >= other) s.wait = EXPLORE
  }

  /** The averages for one shape (the bench prints them), or undefined if it never ran. */
  costs(key: string): { inline: number; split: number } | undefined {
    const s = this.shapes.get(key)
    return s && { inline: s.inline, split: s.split }
  }
}
