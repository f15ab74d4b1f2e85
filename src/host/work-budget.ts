// How much work one uninterrupted piece of a training step or an evaluation may hold. The host
// runs every session in one thread, so a piece that runs for seconds makes every request and every
// other session wait that long: big steps are split into chunks of rows (gradient accumulation),
// evaluations into chunks of rows, and a slice runs chunks until its deadline. Chunk sizes come
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

/** Rows of a training step per chunk: forward plus backward (two products per layer) ≈ 3× the forward. */
export function stepChunkRows(sizes: readonly number[], chunkFlops: number): number {
  return Math.max(1, Math.floor(chunkFlops / (3 * forwardFlopsPerRow(sizes))))
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
