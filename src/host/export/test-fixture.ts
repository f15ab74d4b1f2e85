// Test fixtures for the exporters: a run folder with a checkpoint of a small seeded MLP (plus
// optimiser tensors, which exports ignore) and the engine's own float32 forward to compare with.
// A spec with blocks gets norms with γ and β away from 1 and 0 and running statistics moved by a
// few training batches, and the forward is the eval-mode one, as exports evaluate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { z } from 'zod'
import { encodeSafetensors, nn, noGrad, Rng, tensor, type SafeTensor } from '../../engine'
import { SessionSpec } from '../../shared/protocol'
import { modelInputsOf } from '../data-source'
import type { FileStore } from '../datasets/store'
import type { ExportableRun } from './index'
import type { SessionSpecOut } from './model'

export type SpecInput = z.input<typeof SessionSpec>

type GeneratorInput = Extract<SpecInput['data'], { generator: string }>
export type GeneratorSpecOut = Extract<SessionSpecOut['data'], { generator: string }>

/** A run spec; `data` overrides the spiral3 generator's fields, or replaces it when it names another source. */
export function makeSpec(
  over: {
    model?: Partial<SpecInput['model']>
    data?: Partial<GeneratorInput> | Exclude<SpecInput['data'], GeneratorInput>
    optimizer?: SpecInput['optimizer']
  } = {},
): SessionSpecOut {
  const d = over.data
  return SessionSpec.parse({
    model: { hidden: [5, 4], activation: 'tanh', ...over.model },
    data: d && d.source !== undefined && d.source !== 'generator' ? d : { generator: 'spiral3', features: ['x1', 'x2', 'x1x2'], ...d },
    optimizer: over.optimizer ?? { type: 'adam', lr: 0.01 },
  })
}

/** The spec's generator data (the exporters' generator tests need its features). */
export function generatorOf(spec: SessionSpecOut): GeneratorSpecOut {
  const d = spec.data
  if (d.source !== undefined && d.source !== 'generator') throw new Error(`expected generator data, got ${d.source}`)
  return d
}

export interface Fixture {
  run: ExportableRun
  model: nn.MLP
  /** The engine's forward on `x`, row-major [rows, out]. */
  forward(x: number[][]): number[][]
}

const made: string[] = []

/** Remove every run folder this module made (call from afterAll). */
export function removeRuns(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

export function makeRun(
  spec: SessionSpecOut,
  outputSize: number,
  options: { name?: string; metrics?: string; seed?: number; files?: FileStore } = {},
): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'bps-export-'))
  made.push(dir)
  const nInputs = modelInputsOf(spec.data, options.files ?? null).features.length
  const model = new nn.MLP([nInputs, ...spec.model.hidden, outputSize], {
    activation: spec.model.activation,
    outputActivation: 'linear',
    init: 'pytorch',
    seed: options.seed ?? 7,
    blocks: spec.model.blocks,
    dropoutRng: new Rng(1),
  })
  if (spec.model.blocks) settleNorms(model, nInputs, options.seed ?? 7)
  model.eval()
  const tensors: Record<string, SafeTensor> = {}
  for (const [name, p] of model.namedParameters()) {
    tensors[name] = { dtype: 'F32', shape: [...p.shape], data: Float32Array.from(p.dataSync()) }
    tensors[`optim.${name}.m`] = { dtype: 'F32', shape: [...p.shape], data: new Float32Array(p.size).fill(0.5) }
  }
  for (const [name, b] of model.namedBuffers()) tensors[name] = { dtype: 'F32', shape: [...b.shape], data: Float32Array.from(b.dataSync()) }
  const checkpointPath = join(dir, 'step-100.safetensors')
  writeFileSync(checkpointPath, encodeSafetensors(tensors, { step: '100' }))
  const metricsPath = join(dir, 'metrics.ndjson')
  writeFileSync(metricsPath, options.metrics ?? '')
  const forward = (x: number[][]): number[][] =>
    noGrad(() => {
      const y = model.forward(tensor(x)).dataSync()
      return x.map((_, r) => Array.from(y.subarray(r * outputSize, (r + 1) * outputSize)))
    })
  return {
    run: { dir, name: options.name ?? 'spiral run', spec, files: options.files ?? null, checkpointPath, metricsPath },
    model,
    forward,
  }
}

/** γ and β drawn around 1 and 0, and four training batches through the model so BatchNorm's running statistics are its own. */
function settleNorms(model: nn.MLP, nInputs: number, seed: number): void {
  const r = new Rng(seed)
  for (const n of model.norms) {
    if (!n) continue
    n.weight.assign(tensor(Array.from({ length: n.features }, () => 1 + 0.3 * r.normal())))
    n.bias.assign(tensor(Array.from({ length: n.features }, () => 0.2 * r.normal())))
  }
  model.train()
  noGrad(() => {
    for (let k = 0; k < 4; k++)
      model.forward(tensor(Array.from({ length: 6 }, () => Array.from({ length: nInputs }, () => 2 * r.normal() + 0.5))))
  })
}

/** Fixed inputs, one row per sample, `cols` features wide. */
export function fixedInputs(rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => Math.sin(1.7 * r + 0.9 * c + 0.3) * (1 + r / 3)))
}
