// Checkpoints: a safetensors file with the weights (`layers.0.weight`, `norms.0.weight`), the
// model's buffers (BatchNorm's `norms.0.running_mean`, `.running_var`, `.num_batches_tracked`), the
// optimiser buffers (`optim.layers.0.weight.m`) and the sampler's row order (`sampler.order`), next
// to a JSON file with everything scalar (step, epoch, RNG words of the sampler and of dropout,
// Adam's t, the live hyperparameters). Together
// they let a reopened run take exactly the steps the uninterrupted run would have taken.
import { z } from 'zod'
import { decodeSafetensors, safetensorsParts, type RngState, type SafeTensor, type Tensor } from '../../engine'
import { adopt } from '../adopt-tensor'
import type { DeferredTensors } from './checkpoint-read'
import { deferOptimizer, loadDeferredOptimizer, releaseDeferredOptimizer } from './deferred-optimizer'
import { HostError } from '../errors'
import type { SessionSpecOut } from '../setup'
import type { MonitorState } from '../train-guards'
import type { Trainer, TrainerState } from '../trainer'

export const CHECKPOINT_FORMAT = 1

export interface CheckpointMeta {
  format: number
  step: number
  epoch: number
  epochBase: number
  createdAt: string
  sampler: { epoch: number; stepInEpoch: number; total: number; rng: RngState }
  optimizer: { step: number; scalars: Record<string, number> }
  /** Settings changed while training (session.update) that the next steps depend on. */
  live: { optimizer: SessionSpecOut['optimizer']; batchSize: number; evalEvery: number; train?: SessionSpecOut['train'] }
  /** Early-stopping and alarm progress (absent in checkpoints written before it existed). */
  monitor?: MonitorState
  /** The dropout masks' generator (absent for a model without dropout). */
  dropoutRng?: RngState
}

export interface Checkpoint {
  meta: CheckpointMeta
  tensors: Record<string, SafeTensor>
  /** The optimiser's buffers when they are read later, as training continues (checkpoint-read.ts); else they are in `tensors`. */
  later?: DeferredTensors
}

const OPTIM = 'optim.'
const ORDER = 'sampler.order'

export { loadDeferredOptimizer } from './deferred-optimizer'

/** Whether a checkpoint tensor is optimiser state (read only when training continues from it). */
export const isOptimizerTensor = (name: string): boolean => name.startsWith(OPTIM)

/** A tensor as safetensors data: a view of its live values where the backend reads synchronously (no copy). */
function toSafe(t: Tensor): SafeTensor {
  const data = t.backend.readSync ? t.backend.readSync(t.storage) : t.dataSync()
  if (data instanceof Float64Array) return { dtype: 'F64', shape: [...t.shape], data }
  return { dtype: 'F32', shape: [...t.shape], data: data instanceof Float32Array ? data : Float32Array.from(data) }
}

/**
 * A checkpoint as the file's byte ranges and its JSON. The tensors' ranges are views of the live
 * weights and optimiser state: write them before anything changes them (recorder.ts).
 */
export interface CapturedCheckpoint {
  parts: Uint8Array[]
  byteLength: number
  meta: CheckpointMeta
}

export function captureCheckpoint(trainer: Trainer, spec: SessionSpecOut, now: Date): CapturedCheckpoint {
  loadDeferredOptimizer(trainer)
  // Views of the optimiser's buffers, like the weights' (toSafe): the session trains no further until the bytes are written.
  const st = trainer.captureState({ views: true })
  const tensors: Record<string, SafeTensor> = {}
  for (const [name, p] of trainer.namedState()) tensors[name] = toSafe(p)
  for (const [name, t] of Object.entries(st.optimizer.tensors)) tensors[OPTIM + name] = toSafe(t)
  tensors[ORDER] = { dtype: 'F64', shape: [st.sampler.order.length], data: Float64Array.from(st.sampler.order) }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    step: st.step,
    epoch: trainer.epoch,
    epochBase: st.epochBase,
    createdAt: now.toISOString(),
    sampler: { epoch: st.sampler.epoch, stepInEpoch: st.sampler.stepInEpoch, total: st.sampler.total, rng: st.sampler.rng },
    optimizer: { step: st.optimizer.step, scalars: st.optimizer.scalars },
    live: {
      optimizer: structuredClone(spec.optimizer),
      batchSize: spec.train.batchSize,
      evalEvery: spec.train.evalEvery,
      train: structuredClone(spec.train),
    },
    monitor: st.monitor,
  }
  if (st.dropoutRng) meta.dropoutRng = st.dropoutRng
  return { ...safetensorsParts(tensors, { format: 'backprop-studio-checkpoint', step: String(st.step) }), meta }
}

const count = z.number().int().min(0)
/** What a checkpoint's JSON must hold before anything reads it (extra fields are allowed). */
const CheckpointMetaSchema = z.looseObject({
  format: z.literal(CHECKPOINT_FORMAT),
  step: count,
  epoch: z.number(),
  epochBase: z.number(),
  createdAt: z.string(),
  sampler: z.looseObject({ epoch: z.number(), stepInEpoch: z.number(), total: z.number(), rng: z.looseObject({}) }),
  optimizer: z.looseObject({ step: z.number(), scalars: z.record(z.string(), z.number()) }),
  live: z.looseObject({
    optimizer: z.looseObject({ type: z.string() }),
    batchSize: count,
    evalEvery: count,
    train: z.looseObject({}).optional(),
  }),
  monitor: z.looseObject({}).optional(),
  dropoutRng: z.looseObject({}).optional(),
})

/** "the field optimizer.step is missing" / "the field step: expected number, got string". */
function describeMetaIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(top level)'
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message)
  return missing ? `the field "${path}" is missing` : `the field "${path}" is wrong: ${issue.message}`
}

/** `where` names the checkpoint; `metaFile` the JSON file that is read (errors name it). */
export function parseCheckpoint(bytes: Uint8Array, metaText: string, where: string, metaFile = 'the checkpoint description'): Checkpoint {
  const meta = parseCheckpointMeta(metaText, where, metaFile)
  let tensors: Record<string, SafeTensor>
  try {
    tensors = decodeSafetensors(bytes).tensors
  } catch (e) {
    throw new HostError('internal', `${where}: the checkpoint's tensors are unreadable (${e instanceof Error ? e.message : String(e)})`)
  }
  return { meta, tensors }
}

/** A checkpoint's JSON, checked. */
export function parseCheckpointMeta(metaText: string, where: string, metaFile = 'the checkpoint description'): CheckpointMeta {
  let raw: unknown
  try {
    raw = JSON.parse(metaText)
  } catch (e) {
    throw new HostError('internal', `${where}: ${metaFile} is not JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const fmt = (raw as { format?: unknown } | null)?.format
  if (typeof raw !== 'object' || raw === null || fmt !== CHECKPOINT_FORMAT) {
    throw new HostError(
      'internal',
      `${where}: ${metaFile} is not a checkpoint of format ${CHECKPOINT_FORMAT} (format ${JSON.stringify(fmt)})`,
    )
  }
  const parsed = CheckpointMetaSchema.safeParse(raw)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map(describeMetaIssue).join('; ')
    throw new HostError('internal', `${where}: ${metaFile} cannot be used: ${issues}`)
  }
  return parsed.data as unknown as CheckpointMeta
}

/** The weights of a checkpoint or an imported file: every tensor that is not optimiser or sampler state. */
export function weightsOf(tensors: Record<string, SafeTensor>): Record<string, SafeTensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith(OPTIM) && k !== ORDER))
}

/** The session spec a checkpoint continues with: the run's spec with the live settings it had. */
export function specAt(spec: SessionSpecOut, meta: CheckpointMeta): SessionSpecOut {
  const s = structuredClone(spec)
  s.optimizer = structuredClone(meta.live.optimizer)
  // Schedule, penalties, clipping, stops and alarms as they were (older checkpoints lack them).
  if (meta.live.train) s.train = structuredClone(meta.live.train)
  s.train.batchSize = meta.live.batchSize
  s.train.evalEvery = meta.live.evalEvery
  return s
}

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

/** Why these weights (parameters and buffers) do not fit the model, one line per tensor; empty when they all do. */
export function weightMismatches(trainer: Trainer, weights: Record<string, SafeTensor>): string[] {
  const out: string[] = []
  const params = [...trainer.model.namedParameters(), ...trainer.model.namedBuffers()]
  for (const [name, p] of params) {
    const w = weights[name]
    if (!w) out.push(`${name}: missing from the file (model needs ${fmt(p.shape)})`)
    else if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i]))
      out.push(`${name}: file has ${fmt(w.shape)}, model needs ${fmt(p.shape)}`)
  }
  const known = new Set(params.map(([n]) => n))
  for (const name of Object.keys(weights))
    if (!known.has(name)) out.push(`${name}: the model has no such parameter (it has ${[...known].join(', ')})`)
  return out
}

export function applyCheckpoint(trainer: Trainer, ck: Checkpoint, where: string): void {
  const weights = weightsOf(ck.tensors)
  const bad = weightMismatches(trainer, weights)
  if (bad.length > 0) throw new HostError('internal', `${where}: the checkpoint does not fit the run's model: ${bad.join('; ')}`)
  const be = trainer.model.layers[0].weight.backend
  const optimizerState = (tensors: Record<string, SafeTensor>): TrainerState['optimizer'] => {
    const optimTensors: Record<string, Tensor> = {}
    for (const [k, t] of Object.entries(tensors)) {
      if (k.startsWith(OPTIM))
        optimTensors[k.slice(OPTIM.length)] = adopt(t.data, {
          shape: t.shape,
          dtype: t.data instanceof Float64Array ? 'float64' : 'float32',
          backend: be,
        })
    }
    return { step: ck.meta.optimizer.step, tensors: optimTensors, scalars: ck.meta.optimizer.scalars }
  }
  const order = ck.tensors[ORDER]
  if (!order) throw new HostError('internal', `${where}: the checkpoint has no ${ORDER}`)
  const { meta } = ck
  const state: TrainerState = {
    step: meta.step,
    epochBase: meta.epochBase,
    sampler: { ...meta.sampler, order: Uint32Array.from(order.data) },
    optimizer: optimizerState(ck.later ? {} : ck.tensors),
    monitor: meta.monitor,
    dropoutRng: meta.dropoutRng,
  }
  try {
    const later = ck.later
    const deferred = later && {
      load: () => {
        try {
          return optimizerState(later.load())
        } catch (e) {
          throw new HostError('internal', `the optimiser state could not be read: ${e instanceof Error ? e.message : String(e)}`)
        }
      },
      release: () => later.release(),
    }
    trainer.restoreState(Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.data])), state)
    if (deferred) deferOptimizer(trainer, deferred)
    else releaseDeferredOptimizer(trainer)
  } catch (e) {
    throw new HostError('internal', `${where}: the checkpoint could not be loaded: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Which checkpoints to delete so at most `max` remain: never step 0 or the latest; otherwise the
 * one closest to its predecessor goes first, which leaves them spread over the whole run.
 */
export function checkpointsToThin(steps: number[], max: number): number[] {
  const keep = [...steps].sort((a, b) => a - b)
  const drop: number[] = []
  while (keep.length > max && keep.length > 2) {
    let best = 1
    for (let i = 2; i < keep.length - 1; i++) if (keep[i] - keep[i - 1] < keep[best] - keep[best - 1]) best = i
    drop.push(...keep.splice(best, 1))
  }
  return drop
}
