// Memory budgets: what a session will need, estimated from its spec and data before its model is
// built, against a per-session budget and a host-wide one shared by every open session (reserved
// on create, released on dispose), so one client's sessions cannot take the memory others need.
// Weights are ArrayBuffers outside the worker's heap: a worker restart cannot reclaim them, so a
// model too big must be refused before it exists. Defaults follow the machine's memory.
import { totalmem } from 'node:os'
import { HostError } from './errors'
import { blocksOf, normWidth, type BlockOptions } from '../shared/model-blocks'
import { OPTIMIZER_LABELS } from '../shared/model-rules'
import type { LossPlan, SessionSpecOut, SplitData } from './setup'
import { CHUNK_FLOPS, EVAL_CHUNK_ROWS, stepChunkRows, stepInPieces } from './work-budget'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
/** Bytes of one value: weights, activations and datasets are float32. */
const F = 4
export { EVAL_CHUNK_ROWS }

export interface MemoryBudgetOptions {
  /** Most bytes one session may need. Default: an eighth of the machine's memory. */
  perSession?: number
  /** Most bytes all open sessions together may need. Default: half of the machine's memory. */
  total?: number
}

/** The budgets a host gets from a machine with `memory` bytes. */
export function defaultBudget(memory = totalmem()): Required<MemoryBudgetOptions> {
  return { perSession: Math.max(256 * MiB, Math.floor(memory / 8)), total: Math.max(512 * MiB, Math.floor(memory / 2)) }
}

export interface SessionShape {
  /** Layer widths: inputs, hidden layers, outputs. */
  sizes: number[]
  optimizer: SessionSpecOut['optimizer']
  batchSize: number
  /** The dataset: rows and raw columns. */
  rows: number
  rawFeatures: number
  /** Trains on a WebGPU device (copies of weights, state and activations there). */
  device: boolean
  /** The host's work per chunk (work-budget.ts), which decides whether a CPU step is split. Default CHUNK_FLOPS. */
  chunkFlops?: number
  /** The hidden layers' blocks (absent: plain layers). */
  blocks?: readonly BlockOptions[] | null
}

/** Activation-sized buffers a norm adds to a step (its intermediates and their gradients), and dropout (the mask and the scaled output). */
const NORM_BUFFERS = 8
const DROPOUT_BUFFERS = 3

export interface MemoryEstimate {
  bytes: number
  params: number
  /** Bytes by part, for messages and tests. */
  parts: Record<'weights' | 'grads' | 'optimizer' | 'snapshot' | 'dataset' | 'device' | 'accumulation' | 'transient', number>
}

/** Optimiser buffers per parameter (Adam: m and v; momentum or RMSprop: one each). */
export function optimizerSlots(o: SessionSpecOut['optimizer']): number {
  switch (o.type) {
    case 'adam':
    case 'adamw':
      return 2
    case 'sgd':
      return o.momentum > 0 ? 1 : 0
    case 'rmsprop':
      return 1 + (o.momentum > 0 ? 1 : 0)
  }
}

/**
 * Bytes a session needs at its peak. Resident: weights, gradients, optimiser state, the NaN guard's
 * copy of the weights, the dataset (raw rows plus the split copies the model reads), and on WebGPU
 * the device's copies of those plus its activations. Transient, the largest of: a training step's
 * activations at the batch size (each layer's pre-activation and output and their gradients), an
 * evaluation chunk's forward pass, a checkpoint's serialised weights and optimiser state, and an
 * inspection's float64 copy of the model with its gradients (gradcheck). A CPU step in pieces
 * (training/gradients.ts) also holds, while the last step's gradients stay for readers, its own
 * gradients: one more gradient-sized buffer; split into chunks of rows, the running sums too: two
 * (its activations are only a chunk's, so counting the whole batch's stays an upper bound). An
 * inspection in pieces reads a frozen copy of the weights, kept for the next one (inspect-pieces.ts).
 */
export function estimateSession(s: SessionShape): MemoryEstimate {
  let params = 0
  let units = 0
  for (let i = 1; i < s.sizes.length; i++) {
    params += s.sizes[i - 1] * s.sizes[i] + s.sizes[i]
    units += s.sizes[i]
  }
  // Norms: γ and β trained (BatchNorm's running statistics, a few values, ride along), and the
  // step's extra activations, as units: a residual sum is one more, dropout and norms several.
  blocksOf(s.sizes.length - 2, s.blocks).forEach((b, i) => {
    const w = normWidth(s.sizes, i, b)
    if (b.norm !== 'none') {
      params += 2 * w
      units += (NORM_BUFFERS * w) / 4
    }
    if (b.dropout > 0) units += (DROPOUT_BUFFERS * s.sizes[i + 1]) / 4
    if (b.residual) units += s.sizes[i + 1] / 4
  })
  const slots = optimizerSlots(s.optimizer)
  const p = params * F
  const activations = (s.batchSize * units * 4 + s.batchSize * s.sizes[0]) * F
  const evaluation = Math.min(EVAL_CHUNK_ROWS, s.rows) * units * 2 * F
  const transient = Math.max(activations, evaluation, (1 + slots) * p, 4 * p)
  const parts = {
    weights: p,
    grads: p,
    optimizer: slots * p,
    snapshot: p,
    dataset: s.rows * (2 * s.rawFeatures + 2) * F,
    device: s.device ? (3 + slots) * p + activations : 0,
    accumulation: stepSplits(s) ? 2 * p : stepPieces(s) ? p : 0,
    frozen: p,
    transient,
  }
  return { bytes: Object.values(parts).reduce((a, b) => a + b, 0), params, parts }
}

/** Whether a training step at this shape runs in pieces (the rule of CpuDriver.inPieces; never on a device, with BatchNorm or dropout). */
export function stepPieces(s: SessionShape): boolean {
  const whole = s.blocks?.some((b) => b.norm === 'batch' || b.dropout > 0) ?? false
  return !s.device && !whole && stepInPieces(s.sizes, s.batchSize, s.chunkFlops ?? CHUNK_FLOPS)
}

/** Whether a training step at this shape runs as gradient-accumulated chunks (the rule of Trainer.stepChunkRows). */
export function stepSplits(s: SessionShape): boolean {
  return stepPieces(s) && stepChunkRows(s.sizes, s.chunkFlops ?? CHUNK_FLOPS) < s.batchSize
}

/** The estimate for a session built from `spec` over prepared data (before its model exists). */
export function sessionEstimate(spec: SessionSpecOut, device: boolean, d: SplitData, plan: LossPlan, chunkFlops?: number): MemoryEstimate {
  return estimateSession({
    sizes: [d.train.nFeatures, ...spec.model.hidden, plan.outputSize],
    optimizer: spec.optimizer,
    batchSize: spec.train.batchSize,
    rows: d.raw.n,
    rawFeatures: d.raw.nFeatures,
    device,
    chunkFlops,
    blocks: spec.model.blocks,
  })
}

/** "6.4 GiB", "512 MiB". */
export function formatBytes(n: number): string {
  return n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.max(1, Math.round(n / MiB))} MiB`
}

/** Per-session and host-wide budgets, with the open sessions' reservations. */
export class MemoryBudget {
  readonly perSession: number
  readonly total: number
  private readonly held = new Map<string, number>()

  constructor(options: MemoryBudgetOptions = {}) {
    const d = defaultBudget()
    this.perSession = options.perSession ?? d.perSession
    this.total = Math.max(options.total ?? d.total, this.perSession)
  }

  /** Bytes reserved by open sessions (all, or all but `except`). */
  used(except?: string): number {
    let n = 0
    for (const [k, v] of this.held) if (k !== except) n += v
    return n
  }

  /**
   * Reserve `need` for `key` (replacing what it held), or refuse with a 'limit' error saying how
   * much it needs, the budget, by how much it is over and what to change. `what` names the request.
   */
  reserve(key: string, need: MemoryEstimate, what: string, optimizer: SessionSpecOut['optimizer']['type']): void {
    const needs = `${what} needs about ${formatBytes(need.bytes)} (${need.params.toLocaleString('en-US')} parameters; ${OPTIMIZER_LABELS[optimizer]})`
    const fix = 'use fewer or narrower layers or a smaller batch'
    if (need.bytes > this.perSession) {
      throw new HostError(
        'limit',
        `${needs} — ${formatBytes(need.bytes - this.perSession)} over this host's ${formatBytes(this.perSession)} budget per session; ` +
          `${fix}, or raise it with --memory-budget`,
      )
    }
    const others = this.used(key)
    if (others + need.bytes > this.total) {
      throw new HostError(
        'limit',
        `${needs} — the other open sessions hold ${formatBytes(others)} of this host's ${formatBytes(this.total)} for all sessions, ` +
          `${formatBytes(others + need.bytes - this.total)} short; dispose a session, or ${fix}`,
      )
    }
    this.held.set(key, need.bytes)
  }

  release(key: string): void {
    this.held.delete(key)
  }
}
