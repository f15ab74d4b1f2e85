// The readable export: architecture, the run's spec, and every weight as nested arrays in the
// engine's own layout (weight[i][o] for input i, output o; a layer is x·W + b). Numbers are the
// shortest decimals that read back as the same float32; each weight row is one line.
import type { ExportModel, SessionSpecOut } from './model'

export const JSON_EXPORT_FORMAT = 'backprop-studio.mlp'

export interface JsonExport {
  format: typeof JSON_EXPORT_FORMAT
  version: 1
  name: string
  architecture: { sizes: number[]; features: string[]; hiddenActivation: string; outputActivation: 'linear'; layout: string }
  spec: SessionSpecOut
  checkpoint: Record<string, string>
  layers: { activation: string; bias: number[]; weight: number[][] }[]
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
  const layers = model.layers.map((l) => {
    const weight = Array.from(
      { length: l.inFeatures },
      (_, i) => `      ${row(l.weight.subarray(i * l.outFeatures, (i + 1) * l.outFeatures))}`,
    )
    return `    {\n      "activation": ${JSON.stringify(l.activation)},\n      "bias": ${row(l.bias)},\n      "weight": [\n${weight.map((w) => `  ${w}`).join(',\n')}\n      ]\n    }`
  })
  const top = JSON.stringify(head, null, 2)
  return `${top.slice(0, -2)},\n  "layers": [\n${layers.join(',\n')}\n  ]\n}\n`
}
