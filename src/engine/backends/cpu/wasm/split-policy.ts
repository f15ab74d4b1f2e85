// When a product is worth splitting with the helper thread, decided per shape from what it cost:
// the two-thread split pays on an idle second core and loses when that core is busy elsewhere
// (on the 2-core development machine a 256³ product ran at 18 GFLOP/s split against 42 on one
// thread), and which holds changes while the app runs. Each shape keeps an exponential moving
// average of its time per multiply-add both ways; the cheaper one runs, and the other is retried
// now and then so the averages follow the machine's load.

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

/** Every EXPLORE-th product of a shape runs the way that currently looks slower. */
const EXPLORE = 16
/** Weight of the newest measurement in the moving averages. */
const ALPHA = 0.3
/** Shapes remembered; past this the table starts over (a model has a handful of shapes). */
const MAX_SHAPES = 256

interface ShapeCost {
  /** Milliseconds per multiply-add on one thread and split, NaN until measured. */
  inline: number
  split: number
  calls: number
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
      s = { inline: NaN, split: NaN, calls: 0 }
      this.shapes.set(key, s)
    }
    s.calls++
    if (Number.isNaN(s.split)) return true
    if (Number.isNaN(s.inline)) return false
    const splitWins = s.split < s.inline
    return s.calls % EXPLORE === 0 ? !splitWins : splitWins
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
    const preferred = s.split < s.inline === split
    const next = Number.isNaN(prev) || !preferred ? x : prev + ALPHA * (x - prev)
    if (split) s.split = next
    else s.inline = next
  }

  /** The averages for one shape (the bench prints them), or undefined if it never ran. */
  costs(key: string): { inline: number; split: number } | undefined {
    const s = this.shapes.get(key)
    return s && { inline: s.inline, split: s.split }
  }
}
