// The exported model: an MLP's architecture (from the run's spec) and its weights (from a
// safetensors checkpoint), checked against each other so every exporter can trust the shapes.
// A run that standardised its inputs (bundled and CSV tables) is exported with that step folded
// into the first layer, so every exported format takes the same raw columns the user's data has.
import { decodeSafetensors, type data, type SafeTensor } from '../../engine'
import type { SessionSpec } from '../../shared/protocol'
import type { z } from 'zod'
import { HostError } from '../errors'

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
}

export interface ExportModel {
  /** [in, hidden..., out] */
  sizes: number[]
  /** The input columns, raw (any standardisation is folded into layer 0). */
  features: string[]
  hiddenActivation: ActivationName
  layers: ExportLayer[]
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

/** Rebuild the model from a checkpoint; a shape that does not fit the spec is named. */
export function loadExportModel(spec: SessionSpecOut, checkpoint: Uint8Array, inputs: ModelInputs): ExportModel {
  const file = decodeSafetensors(checkpoint)
  const nLayers = spec.model.hidden.length + 1
  const extra = Object.keys(file.tensors).find((k) => /^layers\.\d+\./.test(k) && Number(k.split('.')[1]) >= nLayers)
  if (extra) throw new HostError('engine', `export: the checkpoint has ${extra} but the spec has ${nLayers} layers`)
  const last = file.tensors[`layers.${nLayers - 1}.bias`]
  if (!last || last.shape.length !== 1) {
    throw new HostError('engine', `export: the checkpoint has no layers.${nLayers - 1}.bias vector; the spec has ${nLayers} layers`)
  }
  const sizes = [inputs.features.length, ...spec.model.hidden, last.shape[0]]
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
    layers.push({
      inFeatures: fin,
      outFeatures: fout,
      weight: asF32(w),
      bias: asF32(b),
      activation: i < nLayers - 1 ? spec.model.activation : 'linear',
    })
  }
  if (inputs.standardization) layers[0] = foldStandardization(layers[0], inputs.standardization)
  return { sizes, features: [...inputs.features], hiddenActivation: spec.model.activation, layers, checkpointMetadata: file.metadata }
}

/** [in, out] row-major → [out, in] row-major (PyTorch's nn.Linear layout). */
export function transposeWeight(l: ExportLayer): Float32Array {
  const out = new Float32Array(l.weight.length)
  for (let i = 0; i < l.inFeatures; i++) {
    for (let o = 0; o < l.outFeatures; o++) out[o * l.inFeatures + i] = l.weight[i * l.outFeatures + o]
  }
  return out
}

/** The index of layer i's nn.Linear inside the generated nn.Sequential (Linear, act, Linear, ...). */
export const torchLinearIndex = (i: number): number => 2 * i
