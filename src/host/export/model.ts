// The exported model: an MLP's architecture (from the run's spec) and its weights (from a
// safetensors checkpoint), checked against each other so every exporter can trust the shapes;
// with the lab's blocks, each hidden layer's norm (γ, β and BatchNorm's running statistics),
// dropout and residual connection. A run that standardised its inputs (bundled and CSV tables) is
// exported with that step folded into the first layer, so every exported format takes the same raw
// columns the user's data has; when the first layer's block reads the standardised inputs
// themselves (a pre-norm or a residual), the standardisation is kept as a first step instead.
// A regression run that trained on a standardised target has that scaling folded into the output
// layer (W·σ, b·σ + μ), so every exported model predicts in the target's own units.
import { decodeSafetensors, type data, type SafeTensor } from '../../engine'
import { blocksOf, normWidth, type BlockOptions } from '../../shared/model-blocks'
import type { SessionSpec } from '../../shared/protocol'
import type { z } from 'zod'
import { HostError } from '../errors'
import type { TargetScaling } from '../target-scaling'

export type SessionSpecOut = z.output<typeof SessionSpec>
export type ActivationName = SessionSpecOut['model']['activation']

export interface ExportLayer {
  inFeatures: number
  outFeatures: number
  /** Row-major [in, out], as the engine stores it (a layer is x·W + b). */
  weight: Float32Array
  bias: Float32Array
  /** The activation after this layer; the output layer is linear. */
  activation: ActivationName
  /** A hidden layer's norm (null: none, and always for the output layer). */
  norm: ExportNorm | null
  /** Dropout probability on the activation's output (0: none); identity at inference. */
  dropout: number
  /** The layer's input is added to its output (after dropout, before a post norm). */
  residual: boolean
}

export interface ExportNorm {
  kind: 'batch' | 'layer'
  /** Where it sits (shared/model-blocks.ts): before the layer, between it and its activation, after. */
  at: BlockOptions['normAt']
  features: number
  /** γ and β. */
  weight: Float32Array
  bias: Float32Array
  /** BatchNorm's running statistics (eval mode normalises with them) and the batches it counted. */
  runningMean: Float32Array | null
  runningVar: Float32Array | null
  numBatchesTracked: number | null
}

export interface ExportModel {
  /** [in, hidden..., out] */
  sizes: number[]
  /** The input columns, raw (any standardisation is folded into layer 0). */
  features: string[]
  hiddenActivation: ActivationName
  layers: ExportLayer[]
  /** Some hidden layer has a norm, dropout or a residual (PyTorch gets a module of blocks, not an nn.Sequential). */
  blocks: boolean
  /** The inputs' standardisation when it could not be folded into layer 0: applied first, (x − mean) / std. */
  inputScaling: { mean: Float32Array; std: Float32Array } | null
  /** The target's standardisation when it is not folded into the output layer (the PyTorch package): output·std + mean. */
  outputScaling: TargetScaling | null
  /** The checkpoint's own metadata (step etc.), passed through. */
  checkpointMetadata: Record<string, string>
}

function asF32(t: SafeTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)
}

/** The model's inputs (data-source.ts modelInputsOf): column names and the standardisation applied, if any. */
export interface ModelInputs {
  features: string[]
  standardization: data.Standardization | null
  /** Regression trained on a standardised target (absent: none). */
  targetScaling?: TargetScaling | null
}

/**
 * Layer 0 applied to standardised inputs, z = (x − mean) / std, as one layer on raw x:
 * W'[i,o] = W[i,o] / std[i], b'[o] = b[o] − Σᵢ mean[i]·W[i,o] / std[i] (in float64, then float32).
 */
export function foldStandardization(l: ExportLayer, st: data.Standardization): ExportLayer {
  const weight = new Float32Array(l.weight.length)
  const bias = new Float64Array(l.bias)
  for (let i = 0; i < l.inFeatures; i++) {
    for (let o = 0; o < l.outFeatures; o++) {
      const w = l.weight[i * l.outFeatures + o] / st.std[i]
      weight[i * l.outFeatures + o] = w
      bias[o] -= st.mean[i] * w
    }
  }
  return { ...l, weight, bias: Float32Array.from(bias) }
}

/**
 * The output layer's outputs z mapped back to the target's units, μ + σ·z, as one layer:
 * W'[i,o] = σ·W[i,o], b'[o] = σ·b[o] + μ (in float64, then float32).
 */
export function foldTargetScaling(l: ExportLayer, s: TargetScaling): ExportLayer {
  return {
    ...l,
    weight: Float32Array.from(l.weight, (w) => w * s.std),
    bias: Float32Array.from(l.bias, (b) => b * s.std + s.mean),
  }
}

/**
 * Rebuild the model from a checkpoint; a shape that does not fit the spec is named. `fold: false`
 * keeps a standardisation as the module's first step even where it could be folded into layer 0,
 * and the target's as its last, so layers 0 and n are the studio's own parameters (the PyTorch
 * export's optimiser state continues them).
 */
export function loadExportModel(
  spec: SessionSpecOut,
  checkpoint: Uint8Array,
  inputs: ModelInputs,
  options: { fold?: boolean } = {},
): ExportModel {
  const file = decodeSafetensors(checkpoint)
  const nLayers = spec.model.hidden.length + 1
  const extra = Object.keys(file.tensors).find((k) => /^layers\.\d+\./.test(k) && Number(k.split('.')[1]) >= nLayers)
  if (extra) throw new HostError('engine', `export: the checkpoint has ${extra} but the spec has ${nLayers} layers`)
  const last = file.tensors[`layers.${nLayers - 1}.bias`]
  if (!last || last.shape.length !== 1) {
    throw new HostError('engine', `export: the checkpoint has no layers.${nLayers - 1}.bias vector; the spec has ${nLayers} layers`)
  }
  const sizes = [inputs.features.length, ...spec.model.hidden, last.shape[0]]
  const blocks = blocksOf(nLayers - 1, spec.model.blocks)
  const layers: ExportLayer[] = []
  for (let i = 0; i < nLayers; i++) {
    const [fin, fout] = [sizes[i], sizes[i + 1]]
    const w = file.tensors[`layers.${i}.weight`]
    const b = file.tensors[`layers.${i}.bias`]
    const shape = (t: SafeTensor | undefined): string => (t ? `[${t.shape.join(',')}]` : 'missing')
    if (!w || w.shape.length !== 2 || w.shape[0] !== fin || w.shape[1] !== fout) {
      throw new HostError('engine', `export: layers.${i}.weight is ${shape(w)}, the spec needs [${fin},${fout}]`)
    }
    if (!b || b.shape.length !== 1 || b.shape[0] !== fout) {
      throw new HostError('engine', `export: layers.${i}.bias is ${shape(b)}, the spec needs [${fout}]`)
    }
    const hidden = i < nLayers - 1
    const block = hidden ? blocks[i] : null
    layers.push({
      inFeatures: fin,
      outFeatures: fout,
      weight: asF32(w),
      bias: asF32(b),
      activation: hidden ? (spec.model.activations?.[i] ?? spec.model.activation) : 'linear',
      norm: block && block.norm !== 'none' ? readNorm(file.tensors, i, block, normWidth(sizes, i, block)) : null,
      dropout: block?.dropout ?? 0,
      residual: block?.residual ?? false,
    })
  }
  const st = inputs.standardization
  // A pre-norm or a residual on layer 0 reads the standardised inputs themselves: no folding then.
  const first = blocks[0]
  const keep =
    st !== null &&
    (options.fold === false || (first !== undefined && ((first.norm !== 'none' && first.normAt === 'pre') || first.residual)))
  if (st && !keep) layers[0] = foldStandardization(layers[0], st)
  const ts = inputs.targetScaling ?? null
  if (ts && options.fold !== false) layers[nLayers - 1] = foldTargetScaling(layers[nLayers - 1], ts)
  return {
    sizes,
    features: [...inputs.features],
    hiddenActivation: spec.model.activation,
    layers,
    blocks: layers.some((l) => l.norm !== null || l.dropout > 0 || l.residual),
    inputScaling: st && keep ? { mean: Float32Array.from(st.mean), std: Float32Array.from(st.std) } : null,
    outputScaling: ts && options.fold === false ? { ...ts } : null,
    checkpointMetadata: file.metadata,
  }
}

/** Hidden layer i's norm from the checkpoint (`norms.{i}.*`), its shapes checked. */
function readNorm(tensors: Record<string, SafeTensor>, i: number, block: BlockOptions, width: number): ExportNorm {
  const vec = (name: string): Float32Array => {
    const t = tensors[`norms.${i}.${name}`]
    if (!t || t.shape.length !== 1 || t.shape[0] !== width) {
      throw new HostError(
        'engine',
        `export: norms.${i}.${name} is ${t ? `[${t.shape.join(',')}]` : 'missing'}, the spec's ${block.norm} norm needs [${width}]`,
      )
    }
    return asF32(t)
  }
  const batch = block.norm === 'batch'
  const count = tensors[`norms.${i}.num_batches_tracked`]
  if (batch && (!count || count.data.length !== 1))
    throw new HostError('engine', `export: norms.${i}.num_batches_tracked is missing from the checkpoint`)
  return {
    kind: batch ? 'batch' : 'layer',
    at: block.normAt,
    features: width,
    weight: vec('weight'),
    bias: vec('bias'),
    runningMean: batch ? vec('running_mean') : null,
    runningVar: batch ? vec('running_var') : null,
    numBatchesTracked: batch ? Math.round(count!.data[0]) : null,
  }
}

/** [in, out] row-major → [out, in] row-major (PyTorch's nn.Linear layout). */
export function transposeWeight(l: ExportLayer): Float32Array {
  const out = new Float32Array(l.weight.length)
  for (let i = 0; i < l.inFeatures; i++) {
    for (let o = 0; o < l.outFeatures; o++) out[o * l.inFeatures + i] = l.weight[i * l.outFeatures + o]
  }
  return out
}

/** The index of layer i's nn.Linear inside the generated nn.Sequential (Linear, act, Linear, ...) of a plain model. */
export const torchLinearIndex = (i: number): number => 2 * i

/**
 * Where layer i's tensors are in the exported PyTorch module's state_dict: the nn.Sequential's
 * `net.{2i}` for a plain model; `blocks.{i}.linear` (its norm: `blocks.{i}.norm`) and `out` for the
 * last layer when the model has blocks.
 */
export function torchNames(model: ExportModel, i: number): { linear: string; norm: string } {
  if (!model.blocks) return { linear: `net.${torchLinearIndex(i)}`, norm: '' }
  return i === model.layers.length - 1 ? { linear: 'out', norm: '' } : { linear: `blocks.${i}.linear`, norm: `blocks.${i}.norm` }
}
