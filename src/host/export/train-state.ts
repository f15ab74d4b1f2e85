// What `train.py --continue` needs beyond the weights, from the exported checkpoint: the optimiser
// state in torch.optim's own per-parameter keys and layout (optimizer.safetensors: Adam's m, v and
// t as exp_avg, exp_avg_sq and step; SGD's and RMSprop's buffers; weight matrices transposed as
// the weights are), and train_state.json: the step (the schedule's position), the sampler (row
// order, position in the epoch, generator words) and the dropout generator.
import { encodeSafetensors, type RngState, type SafeTensor } from '../../engine'
import type { CheckpointMeta } from '../runs/checkpoint'
import { HostError } from '../errors'
import { torchNames, type ExportModel, type SessionSpecOut } from './model'

/** The studio's optimiser buffer names → torch.optim's state keys. */
const TORCH_KEY: Record<string, string> = {
  m: 'exp_avg',
  v: 'exp_avg_sq',
  momentum_buffer: 'momentum_buffer',
  square_avg: 'square_avg',
  grad_avg: 'grad_avg',
}

export interface TrainStateJson {
  format: 1
  step: number
  epoch: number
  optimizer: SessionSpecOut['optimizer']['type']
  schedule: SessionSpecOut['train']['schedule']
  sampler: {
    order: number[]
    epoch: number
    stepInEpoch: number
    total: number
    rng: RngState
    batchSize: number
    stepsPerEpoch: number
  }
  dropoutRng: RngState | null
}

/** A studio parameter name (`layers.1.weight`, `norms.0.bias`) as the exported module names it, and whether it is a transposed matrix. */
function torchParam(model: ExportModel, name: string): { name: string; transpose: boolean } {
  const m = /^(layers|norms)\.(\d+)\.(\w+)$/.exec(name)
  const i = m ? Number(m[2]) : -1
  if (!m || i >= model.layers.length)
    throw new HostError('engine', `export: the checkpoint's optimiser state names no parameter of the model: ${name}`)
  const names = torchNames(model, i)
  if (m[1] === 'layers') return { name: `${names.linear}.${m[3]}`, transpose: m[3] === 'weight' }
  return { name: `${names.norm}.${m[3]}`, transpose: false }
}

function transposed(t: SafeTensor): Float32Array {
  const [rows, cols] = t.shape
  const out = new Float32Array(t.data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]
  return out
}

/** optimizer.safetensors: `<torch parameter>.<torch.optim state key>`, float32, the step counts as scalars. */
export function optimizerSafetensors(model: ExportModel, tensors: Record<string, SafeTensor>, meta: CheckpointMeta): Uint8Array {
  const out: Record<string, SafeTensor> = {}
  const named = new Set<string>()
  for (const [key, t] of Object.entries(tensors)) {
    if (!key.startsWith('optim.')) continue
    const dot = key.lastIndexOf('.')
    const param = key.slice('optim.'.length, dot)
    const stateKey = TORCH_KEY[key.slice(dot + 1)]
    if (!stateKey) throw new HostError('engine', `export: the checkpoint's optimiser buffer ${key} has no torch.optim counterpart`)
    const p = torchParam(model, param)
    const data = p.transpose ? transposed(t) : Float32Array.from(t.data)
    out[`${p.name}.${stateKey}`] = { dtype: 'F32', shape: p.transpose ? [t.shape[1], t.shape[0]] : [...t.shape], data }
    named.add(param)
  }
  // torch.optim keeps a step count per parameter: Adam's own (the studio's t), else the optimiser's.
  for (const param of named) {
    const t = meta.optimizer.scalars[`${param}.t`] ?? meta.optimizer.step
    out[`${torchParam(model, param).name}.step`] = { dtype: 'F32', shape: [], data: Float32Array.from([t]) }
  }
  return encodeSafetensors(out, { format: 'pt', step: String(meta.step) })
}

/** train_state.json for the checkpoint (`spec`: the run's spec with the checkpoint's live settings). */
export function trainStateJson(spec: SessionSpecOut, tensors: Record<string, SafeTensor>, meta: CheckpointMeta): TrainStateJson {
  const order = tensors['sampler.order']
  if (!order) throw new HostError('engine', 'export: the checkpoint has no sampler.order, so its batch order cannot be continued')
  const n = order.data.length
  const b = meta.live.batchSize
  // As the trainer's sampler: BatchNorm drops a last batch of one row (trainer.ts newSampler).
  const dropLast = (spec.model.blocks ?? []).some((k) => k.norm === 'batch') && n % b === 1
  return {
    format: 1,
    step: meta.step,
    epoch: meta.epoch,
    optimizer: spec.optimizer.type,
    schedule: spec.train.schedule,
    sampler: {
      order: Array.from(order.data),
      epoch: meta.sampler.epoch,
      stepInEpoch: meta.sampler.stepInEpoch,
      total: meta.sampler.total,
      rng: meta.sampler.rng,
      batchSize: b,
      stepsPerEpoch: dropLast ? Math.floor(n / b) : Math.ceil(n / b),
    },
    dropoutRng: meta.dropoutRng ?? null,
  }
}
