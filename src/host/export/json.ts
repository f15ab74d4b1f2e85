// The readable export: architecture, the run's spec, and every weight as nested arrays in the
// engine's own layout (weight[i][o] for input i, output o; a layer is x·W + b). Numbers are the
// shortest decimals that read back as the same float32; each weight row is one line. A model with
// the lab's blocks has each hidden layer's `block` (norm with γ, β and running statistics,
// dropout, residual) and, when the input standardisation could not be folded, `inputScaling`.
import type { ExportLayer, ExportModel, SessionSpecOut } from './model'

export const JSON_EXPORT_FORMAT = 'backprop-studio.mlp'

export interface JsonExport {
  format: typeof JSON_EXPORT_FORMAT
  version: 1
  name: string
  architecture: {
    sizes: number[]
    features: string[]
    hiddenActivation: string
    outputActivation: 'linear'
    layout: string
    inputScaling?: { mean: number[]; std: number[] }
  }
  spec: SessionSpecOut
  checkpoint: Record<string, string>
  layers: { activation: string; bias: number[]; weight: number[][]; block?: JsonBlock }[]
}

export interface JsonBlock {
  norm: {
    kind: 'batch' | 'layer'
    at: string
    weight: number[]
    bias: number[]
    runningMean?: number[]
    runningVar?: number[]
    numBatchesTracked?: number
  } | null
  dropout: number
  residual: boolean
}

/** The shortest decimal that rounds back to this float32 (0.1f prints 0.1, not 0.10000000149). */
export function f32Text(v: number): string {
  if (!Number.isFinite(v)) return 'null' // JSON has no NaN/Infinity; a trained checkpoint has none
  for (let p = 1; p < 9; p++) {
    const s = String(Number(v.toPrecision(p)))
    if (Math.fround(Number(s)) === v) return s
  }
  return String(Number(v.toPrecision(9)))
}

const row = (values: ArrayLike<number>): string => `[${Array.from(values, f32Text).join(', ')}]`

export function jsonExport(model: ExportModel, spec: SessionSpecOut, name: string): string {
  const head: Omit<JsonExport, 'layers'> = {
    format: JSON_EXPORT_FORMAT,
    version: 1,
    name,
    architecture: {
      sizes: model.sizes,
      features: model.features,
      hiddenActivation: model.hiddenActivation,
      outputActivation: 'linear',
      layout: 'y = x·W + b with W as [in][out]; the last layer gives logits',
    },
    spec,
    checkpoint: model.checkpointMetadata,
  }
  if (model.inputScaling)
    head.architecture.inputScaling = { mean: Array.from(model.inputScaling.mean), std: Array.from(model.inputScaling.std) }
  const hidden = model.layers.length - 1
  const layers = model.layers.map((l, k) => {
    const weight = Array.from(
      { length: l.inFeatures },
      (_, i) => `      ${row(l.weight.subarray(i * l.outFeatures, (i + 1) * l.outFeatures))}`,
    )
    const block = model.blocks && k < hidden ? `      "block": ${blockText(l)},\n` : ''
    return `    {\n      "activation": ${JSON.stringify(l.activation)},\n${block}      "bias": ${row(l.bias)},\n      "weight": [\n${weight.map((w) => `  ${w}`).join(',\n')}\n      ]\n    }`
  })
  const top = JSON.stringify(head, null, 2)
  return `${top.slice(0, -2)},\n  "layers": [\n${layers.join(',\n')}\n  ]\n}\n`
}

/** A hidden layer's block on one line, its vectors as shortest float32 decimals. */
function blockText(l: ExportLayer): string {
  const n = l.norm
  const parts = [
    `"kind": ${JSON.stringify(n?.kind)}`,
    `"at": ${JSON.stringify(n?.at)}`,
    `"weight": ${n && row(n.weight)}`,
    `"bias": ${n && row(n.bias)}`,
  ]
  if (n?.runningMean && n.runningVar)
    parts.push(`"runningMean": ${row(n.runningMean)}`, `"runningVar": ${row(n.runningVar)}`, `"numBatchesTracked": ${n.numBatchesTracked}`)
  return `{ "norm": ${n ? `{ ${parts.join(', ')} }` : 'null'}, "dropout": ${JSON.stringify(l.dropout)}, "residual": ${l.residual} }`
}
