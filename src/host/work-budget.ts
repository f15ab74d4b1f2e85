// How much work one uninterrupted piece of a training step or an evaluation may hold. The host
// runs every session in one thread, so a piece that runs for seconds makes every request and every
// other session wait that long: big steps run in pieces (a layer of the forward, an op's rule of
// the backward; chunks of rows with gradient accumulation only when one layer's product on the
// whole batch is too big), evaluations in chunks of rows, and a slice runs pieces until its deadline. Chunk sizes come
// from the model's shape only (never from measured speed), so a run is the same on every machine.
import type { Tensor } from '../engine'

/**
 * Floating-point operations in one chunk: about 17 ms at the ~60 GFLOP/s a desktop CPU reaches on
 * big matrices, and still under 250 ms at 4 GFLOP/s (a loaded or slow machine).
 */
export const CHUNK_FLOPS = 1e9

/** Evaluation chunks never exceed this many rows, so a 100k-row test set needs no giant activation matrix. */
export const EVAL_CHUNK_ROWS = 4096

/** Multiply-adds of one row through a model with these layer widths (input first), counted as 2 FLOPs each. */
export function forwardFlopsPerRow(sizes: readonly number[]): number {
  let f = 0
  for (let i = 1; i < sizes.length; i++) f += 2 * sizes[i - 1] * sizes[i]
  return f
}

/** FLOPs of one training step on `rows` rows: forward plus backward (two products per layer) ≈ 3× the forward. */
export function stepFlops(sizes: readonly number[], rows: number): number {
  return 3 * forwardFlopsPerRow(sizes) * rows
}

/** Layer statistics read every weight and gradient in plain loops: a value read costs about this many FLOPs of a matrix product. */
const STATS_READ_FLOPS = 20
/** The share of the training work layer statistics may take... */
export const STATS_SHARE = 0.05
/** ...on a model of at least this many parameters (below it they are taken every batch, as the flushes come). */
export const STATS_FREE_PARAMS = 1_000_000

/**
 * Steps between layer statistics for a model of `params` parameters and these widths at batch
 * `rows`: 1 below STATS_FREE_PARAMS, else as many as keep their reads within STATS_SHARE of the
 * steps' work (the 16×1024 net at batch 32: every 5th step). From the shape only, so a run
 * samples the same steps on every machine.
 */
export function statsEvery(sizes: readonly number[], params: number, rows: number): number {
  if (params < STATS_FREE_PARAMS) return 1
  return Math.max(1, Math.ceil((2 * params * STATS_READ_FLOPS) / (STATS_SHARE * stepFlops(sizes, rows))))
}

/** Whether a CPU step of `rows` rows runs in pieces (a slice point after each layer and each backward rule): it is more than one piece of work. */
export function stepInPieces(sizes: readonly number[], rows: number, chunkFlops: number): boolean {
  return stepFlops(sizes, rows) > chunkFlops
}

/**
 * Rows of a training step per chunk. A step runs in pieces of one layer's product (forward) or one
 * op's rule (backward, up to two products of a layer's size), so a chunk is as many rows as keep
 * the widest layer's product within chunkFlops; a bigger batch accumulates gradients over chunks.
 */
export function stepChunkRows(sizes: readonly number[], chunkFlops: number): number {
  return Math.max(1, Math.floor(chunkFlops / pieceFlopsPerRow(sizes)))
}

/** Rows whose whole forward and backward fit one piece (an inspection's pass run at once). */
export function passRows(sizes: readonly number[], chunkFlops: number): number {
  return Math.max(1, Math.floor(chunkFlops / stepFlops(sizes, 1)))
}

/** The chunkFlops that makes step chunks of `rows` rows (tests force splits of small models with it). */
export function chunkFlopsForRows(sizes: readonly number[], rows: number): number {
  return rows * pieceFlopsPerRow(sizes)
}

/** FLOPs per row of the biggest piece of a step: the backward rule of the widest layer's product (two products). */
function pieceFlopsPerRow(sizes: readonly number[]): number {
  let widest = 0
  for (let i = 1; i < sizes.length; i++) widest = Math.max(widest, sizes[i - 1] * sizes[i])
  return 4 * widest
}

/**
 * One pass over one element (reading a tensor for its statistics, binning, copying) counted in
 * FLOPs of a big matrix product: such loops (a finiteness test, a division, a branch per element)
 * run at a hundred million elements a second or so where a blocked matmul does tens of GFLOP/s
 * (measured once, on the 16×1024 model's histograms against its forward chunks: ~2.5× the time
 * per 5M element passes as per 1e9 FLOPs), so a chunk of work holds about chunkFlops / 500 elements.
 */
export const ELEMENT_FLOPS = 500

/**
 * One float64 FLOP counted in float32 FLOPs: the CPU backend's float64 products have no SIMD kernel,
 * and on a few rows of a 1024-wide layer they run about 10× slower than float32 ones.
 */
export const FLOAT64_FLOP_COST = 8

/** Elements one piece of element-wise work (statistics over tensors) may visit. */
export function pieceElements(chunkFlops: number): number {
  return Math.max(1, Math.floor(chunkFlops / ELEMENT_FLOPS))
}

/**
 * The work of one node's backward rule (autograd's backwardInPieces): the two products of a
 * matmul's rule (dA = dC·Bᵀ, dB = Aᵀ·dC), plus one pass over the node's gradient and its operands
 * (reading them, writing their gradients of the same sizes), which dominates for a few rows.
 */
export function backwardFlops(node: Tensor): number {
  let elements = node.size
  for (const p of node._prev) elements += p.size
  let flops = elements * ELEMENT_FLOPS
  if (node._op === 'matmul') {
    const a = node._prev[0]!
    const k = node._meta?.transA ? a.shape.at(-2)! : a.shape.at(-1)!
    flops += 4 * node.size * k
  }
  return flops
}

/** Rows of an evaluation per chunk (forward only, no graph). */
export function evalChunkRows(sizes: readonly number[], chunkFlops: number): number {
  return Math.max(1, Math.min(EVAL_CHUNK_ROWS, Math.floor(chunkFlops / forwardFlopsPerRow(sizes))))
}

/**
 * Resumable work: a generator that yields between chunks and returns its result. The slice loop
 * steps it until a deadline; `drain` runs one to the end at once (tests, synchronous callers).
 */
export type Work<T> = Generator<void, T, void>

export function drain<T>(work: Work<T>): T {
  for (;;) {
    const r = work.next()
    if (r.done) return r.value
  }
}
