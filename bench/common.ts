// Shared by every column: the timing rule (warm up, size the batch of iterations by a time budget,
// median of repeats) and the seeded workloads, so each peer runs exactly the same thing.
import type { Block } from '../src/engine/nn/index.js'

/** Runs `n` iterations and returns once their results are really computed (synced). */
export type Runner = (n: number) => void | Promise<void>

export interface Timing {
  /** Median iterations per second over the repeats. */
  perSec: number
  iters: number
  repeats: number
  samples: number[]
}

export interface TimingOptions {
  /** Total time aimed at for the timed repeats; a slow iteration still runs once per repeat. */
  budgetMs?: number
  warmupMs?: number
  repeats?: number
}

export async function measure(run: Runner, o: TimingOptions = {}): Promise<Timing> {
  const budgetMs = o.budgetMs ?? 2000
  const warmupMs = o.warmupMs ?? 400
  let repeats = o.repeats ?? 5
  // Warm up (JIT, allocator, wasm instantiation) with growing batches; the last batch also
  // calibrates how many iterations fit in the budget. At least 3 iterations (batches of 1 and 2)
  // unless one takes over a second: the first steps of a big net fault in its gradients and
  // optimiser state (~300 MB for 16×1024 with Adam), and a warm-up of one such step left them in
  // the timed repeats (the first net of a round ran at ~60% of its speed).
  let n = 1
  let perIterMs: number
  for (let spent = 0; ; n *= 2) {
    const t0 = performance.now()
    await run(n)
    const dt = performance.now() - t0
    spent += dt
    perIterMs = dt / n
    if (spent >= warmupMs && (n >= 2 || perIterMs > 1000)) break
  }
  // One iteration longer than the whole budget (our big matmul): fewer repeats keep the bench
  // within minutes; the median of 3 is still robust to one outlier.
  if (perIterMs * repeats > 2 * budgetMs) repeats = 3
  const iters = Math.max(1, Math.round(budgetMs / repeats / perIterMs))
  const samples: number[] = []
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now()
    await run(iters)
    samples.push(iters / ((performance.now() - t0) / 1000))
  }
  return { perSec: median(samples), iters, repeats, samples }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** mulberry32: tiny and seedable; the torch column gets the same bytes through files. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface MlpSpec {
  name: string
  sizes: number[]
  activation: 'tanh' | 'relu'
  batch: number
  lr: number
  /** One per hidden layer, as nn.MLP takes them (absent: plain layers); only our and PyTorch's columns build them. */
  blocks?: Partial<Block>[]
  /** 'sgd' (plain, the default) or 'adam' (PyTorch's defaults but lr); only our and PyTorch's columns read it. */
  optimizer?: 'sgd' | 'adam'
}

export const MLPS: MlpSpec[] = [
  { name: '2-16-16-2 tanh, batch 32', sizes: [2, 16, 16, 2], activation: 'tanh', batch: 32, lr: 0.1 },
  { name: '784-256-128-10 relu, batch 128', sizes: [784, 256, 128, 10], activation: 'relu', batch: 128, lr: 0.1 },
]

/** The gradient-flow lab's model (issue #13) and the same sizes without its blocks, each run against PyTorch. */
export const LAB_MLPS: MlpSpec[] = [
  { name: '784-256×4-10 relu, batch 128', sizes: [784, 256, 256, 256, 256, 10], activation: 'relu', batch: 128, lr: 0.1 },
  {
    name: '784-256×4-10 relu + BatchNorm (mid) + residual 2-4, batch 128',
    sizes: [784, 256, 256, 256, 256, 10],
    activation: 'relu',
    batch: 128,
    lr: 0.1,
    blocks: [{ norm: 'batch' }, { norm: 'batch', residual: true }, { norm: 'batch', residual: true }, { norm: 'batch', residual: true }],
  },
]

/**
 * A wide, deep net at a small batch (issue #14): 16 hidden layers of 1024, Adam. Its step is 15
 * products with a 1024×1024 weight each way (x·W, g·Wᵀ, and xᵀ·g with a depth of 32) and Adam over
 * 15.8M parameters; run by ours and PyTorch only (bench/wide.ts).
 */
export const WIDE_MLPS: MlpSpec[] = [
  {
    name: '2-(1024×16)-2 relu, Adam, batch 32',
    sizes: [2, ...Array<number>(16).fill(1024), 2],
    activation: 'relu',
    batch: 32,
    lr: 1e-3,
    optimizer: 'adam',
  },
]

export const MATMUL_SIZES = [256, 512, 1024]

export interface Batch {
  x: Float32Array
  labels: Int32Array
}

/** One fixed batch per net, made once: inputs uniform in [-1, 1), labels uniform over classes. */
export function makeBatch(spec: MlpSpec, seed = 42): Batch {
  const r = rng(seed)
  const inF = spec.sizes[0]
  const classes = spec.sizes[spec.sizes.length - 1]
  const x = new Float32Array(spec.batch * inF)
  for (let i = 0; i < x.length; i++) x[i] = r() * 2 - 1
  const labels = new Int32Array(spec.batch)
  for (let i = 0; i < labels.length; i++) labels[i] = Math.floor(r() * classes)
  return { x, labels }
}

/** Seeded [n, n] matrix, uniform in [-1, 1): the values do not matter for speed, only finiteness. */
export function makeMatrix(n: number, seed: number): Float32Array {
  const r = rng(seed)
  const m = new Float32Array(n * n)
  for (let i = 0; i < m.length; i++) m[i] = r() * 2 - 1
  return m
}

/** One column's results; `loss` is the last training loss, a check that the step really trained. */
export interface ColumnResult {
  train: { steps: Timing; loss: number }[]
  matmul: Timing[]
}
