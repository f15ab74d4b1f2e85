// Mini-batching over a Dataset. Two ways in: `batches()` walks one epoch as a generator, and
// `BatchSampler` hands out batches one step at a time across epochs, which is how the training
// loop in the worker pulls them (one step per animation tick, pausable at any point).
//
// Buffer reuse: both reuse one set of preallocated arrays for every batch they produce, so a
// training step allocates nothing. A yielded batch's arrays are valid until the next batch is
// requested; copy them (`.slice()`) to keep them. A last partial batch is a `subarray` view of
// the same buffers, so `x.length === size * nFeatures` always holds.

import { EngineError } from '../errors.js'
import { globalRng, Rng, type RngState } from '../rng.js'
import type { Dataset } from './dataset.js'

export interface Batch {
  /** Row-major size × nFeatures. */
  x: Float32Array
  /** size targets / class indices. */
  y: Float32Array
  /** Rows in this batch (smaller than batchSize only for the last batch of an epoch). */
  size: number
  /** Which dataset rows were taken, in batch order. */
  indices: Uint32Array
}

export interface BatchOptions {
  /** Visit rows in a new random order each epoch. Default true. */
  shuffle?: boolean
  /** Source of the shuffles. Default: `new Rng(seed)` if a seed is given, else the engine's globalRng. */
  rng?: Rng
  seed?: number
  /** Skip the last batch of an epoch when it is smaller than batchSize. Default false. */
  dropLast?: boolean
}

/** Rejects batch sizes that cannot produce a batch, with the reason in the message. */
export function checkBatchSize(ds: Dataset, batchSize: number, dropLast: boolean, op: string): void {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1)
    throw new EngineError(op, 'argument', `batchSize must be a positive integer, got ${batchSize}`)
  if (ds.n < 1) throw new EngineError(op, 'data', `dataset "${ds.name}" is empty: no batches to make`)
  if (dropLast && batchSize > ds.n)
    throw new EngineError(
      op,
      'argument',
      `batchSize ${batchSize} is larger than dataset "${ds.name}" (n = ${ds.n}) with dropLast: every batch would be dropped`,
    )
}

/** Preallocated storage for batches of up to `cap` rows, and the copy into it. */
class BatchBuffers {
  private readonly xBuf: Float32Array
  private readonly yBuf: Float32Array
  private readonly iBuf: Uint32Array
  constructor(
    private readonly ds: Dataset,
    private readonly cap: number,
  ) {
    this.xBuf = new Float32Array(cap * ds.nFeatures)
    this.yBuf = new Float32Array(cap)
    this.iBuf = new Uint32Array(cap)
  }

  /** Gathers rows order[start .. start+size) into the buffers. */
  fill(order: Uint32Array, start: number, size: number): Batch {
    const { ds, xBuf, yBuf, iBuf } = this
    const f = ds.nFeatures
    for (let k = 0; k < size; k++) {
      const i = order[start + k]
      iBuf[k] = i
      yBuf[k] = ds.y[i]
      if (f === 2) {
        // The common 2-D case, without the subarray allocation.
        xBuf[2 * k] = ds.x[2 * i]
        xBuf[2 * k + 1] = ds.x[2 * i + 1]
      } else {
        xBuf.set(ds.x.subarray(i * f, i * f + f), k * f)
      }
    }
    const full = size === this.cap
    return {
      x: full ? xBuf : xBuf.subarray(0, size * f),
      y: full ? yBuf : yBuf.subarray(0, size),
      size,
      indices: full ? iBuf : iBuf.subarray(0, size),
    }
  }
}

function pickRng(opts: BatchOptions, op: string): Rng {
  if (opts.rng) return opts.rng
  if (opts.seed === undefined) return globalRng
  if (!Number.isSafeInteger(opts.seed)) throw new EngineError(op, 'argument', `seed must be an integer, got ${opts.seed}`)
  return new Rng(opts.seed)
}

function identity(n: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  return order
}

/**
 * One epoch of batches covering every row exactly once (or all but the last n mod batchSize rows
 * with dropLast). A batchSize above n gives one batch of all n rows. The arrays are reused between
 * yields (see the file comment).
 */
export function* batches(ds: Dataset, batchSize: number, opts: BatchOptions = {}): Generator<Batch, void, undefined> {
  const { shuffle = true, dropLast = false } = opts
  checkBatchSize(ds, batchSize, dropLast, 'batches')
  const order = identity(ds.n)
  if (shuffle) pickRng(opts, 'batches').shuffle(order)
  const buffers = new BatchBuffers(ds, Math.min(batchSize, ds.n))
  for (let start = 0; start < ds.n; start += batchSize) {
    const size = Math.min(batchSize, ds.n - start)
    if (size < batchSize && dropLast) return
    yield buffers.fill(order, start, size)
  }
}

/** Where a sampler is: enough to continue its exact batch sequence elsewhere (a resumed run). */
export interface SamplerState {
  epoch: number
  stepInEpoch: number
  total: number
  rng: RngState
  /** The current epoch's row order (the next shuffle permutes it in place). */
  order: Uint32Array
}

export interface SampledBatch extends Batch {
  /** 0-based epoch this batch belongs to. */
  epoch: number
  /** 0-based position of this batch within its epoch. */
  stepInEpoch: number
  /** True for the epoch's final batch: the caller's cue for per-epoch work (eval, logging). */
  lastInEpoch: boolean
}

/**
 * Endless step-by-step batches: `next()` returns the next batch, starting a new epoch (with a
 * fresh shuffle) after the last batch of the previous one. Returned arrays are reused.
 */
export class BatchSampler {
  readonly batchSize: number
  readonly stepsPerEpoch: number
  readonly shuffle: boolean
  readonly dropLast: boolean
  private readonly ds: Dataset
  private readonly seed: number | undefined
  private rng: Rng
  private readonly order: Uint32Array
  private readonly buffers: BatchBuffers
  private epochIndex = 0
  private stepIndex = 0
  private total = 0

  constructor(ds: Dataset, batchSize: number, opts: BatchOptions = {}) {
    const { shuffle = true, dropLast = false } = opts
    checkBatchSize(ds, batchSize, dropLast, 'BatchSampler')
    this.ds = ds
    this.batchSize = batchSize
    this.shuffle = shuffle
    this.dropLast = dropLast
    this.seed = opts.rng ? undefined : opts.seed
    this.rng = pickRng(opts, 'BatchSampler')
    this.stepsPerEpoch = dropLast ? Math.floor(ds.n / batchSize) : Math.ceil(ds.n / batchSize)
    this.order = identity(ds.n)
    this.buffers = new BatchBuffers(ds, Math.min(batchSize, ds.n))
  }

  /** Epochs completed so far, which is also the epoch the next batch comes from. */
  get epoch(): number {
    return this.epochIndex
  }

  /** Position of the next batch within its epoch. */
  get stepInEpoch(): number {
    return this.stepIndex
  }

  /** Batches handed out since construction or the last reset(). */
  get step(): number {
    return this.total
  }

  next(): SampledBatch {
    if (this.stepIndex === 0 && this.shuffle) this.rng.shuffle(this.order)
    const start = this.stepIndex * this.batchSize
    const size = Math.min(this.batchSize, this.ds.n - start)
    const batch = this.buffers.fill(this.order, start, size)
    const out: SampledBatch = {
      ...batch,
      epoch: this.epochIndex,
      stepInEpoch: this.stepIndex,
      lastInEpoch: this.stepIndex === this.stepsPerEpoch - 1,
    }
    this.total++
    if (++this.stepIndex === this.stepsPerEpoch) {
      this.stepIndex = 0
      this.epochIndex++
    }
    return out
  }

  getState(): SamplerState {
    return { epoch: this.epochIndex, stepInEpoch: this.stepIndex, total: this.total, rng: this.rng.getState(), order: this.order.slice() }
  }

  /** Continue from a saved state of a sampler over the same dataset with the same batch size. */
  setState(state: SamplerState): void {
    const op = 'BatchSampler.setState'
    if (state.order.length !== this.order.length)
      throw new EngineError(op, 'argument', `order has ${state.order.length} rows, the dataset has ${this.order.length}`)
    if (!Number.isInteger(state.stepInEpoch) || state.stepInEpoch < 0 || state.stepInEpoch >= this.stepsPerEpoch) {
      throw new EngineError(op, 'argument', `stepInEpoch ${state.stepInEpoch} is outside [0, ${this.stepsPerEpoch})`)
    }
    for (const k of ['epoch', 'total'] as const) {
      if (!Number.isInteger(state[k]) || state[k] < 0)
        throw new EngineError(op, 'argument', `${k} must be a non-negative integer, got ${state[k]}`)
    }
    const seen = new Uint8Array(this.order.length)
    for (const i of state.order) {
      if (i >= seen.length || seen[i]) throw new EngineError(op, 'argument', 'order is not a permutation of the dataset rows')
      seen[i] = 1
    }
    // A private generator, so restoring never moves a shared (global) one.
    const rng = new Rng(0)
    rng.setState(state.rng)
    this.rng = rng
    this.order.set(state.order)
    this.epochIndex = state.epoch
    this.stepIndex = state.stepInEpoch
    this.total = state.total
  }

  /**
   * Back to epoch 0, step 0. With a `seed` option the shuffle sequence restarts too, so a reset
   * sampler replays the same batches; with a shared rng it just continues that rng's stream.
   */
  reset(): void {
    this.epochIndex = 0
    this.stepIndex = 0
    this.total = 0
    if (this.seed !== undefined) this.rng = new Rng(this.seed)
    // Restore the identity order so the replay does not depend on the previous run's shuffles.
    for (let i = 0; i < this.order.length; i++) this.order[i] = i
  }
}
