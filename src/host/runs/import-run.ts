// runs.import: a PyTorch state dict as a new run. The MLP is read off the tensors' names and
// shapes (our layers.<i>.weight [in, out] and norms.<i>.*, or the exported nn.Sequential / module
// of blocks, which fromTorchLayout maps); data, optimiser and training settings come from `base`
// (the studio's setup). Every problem is listed at once; nothing is created unless all fit.
import type { SafeTensor } from '../../engine'
import { LIMITS, REQUESTS, type ParsedPayload, type RequestResult } from '../../shared/protocol'
import { HostError } from '../errors'
import type { SessionSpecOut } from '../setup'
import { weightsOf } from './checkpoint'
import { decodeBase64Safetensors, fromTorchLayout, loadWeightsInto } from './import-weights'
import { startRun, type RunsHost } from './runs-host'

const LAYER = /^layers\.(\d+)\.(weight|bias)$/
const NORM = /^norms\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$/

export interface InferredModel {
  /** Hidden widths, input features and output size, as the weights say. */
  hidden: number[]
  inputs: number
  outputs: number
  /** Per hidden layer: the norm its tensors show ('batch' has running statistics). */
  norms: ('none' | 'batch' | 'layer')[]
}

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`

/** The MLP these tensors (in our names) describe, or every reason they describe none. */
export function inferModel(tensors: Record<string, SafeTensor>): InferredModel {
  const problems: string[] = []
  const weights = new Map<number, SafeTensor>()
  const normKinds = new Map<number, Set<string>>()
  for (const [name, t] of Object.entries(tensors)) {
    const l = LAYER.exec(name)
    const n = NORM.exec(name)
    if (l?.[2] === 'weight') weights.set(Number(l[1]), t)
    else if (n) normKinds.set(Number(n[1]), (normKinds.get(Number(n[1])) ?? new Set()).add(n[2]))
    else if (!l)
      problems.push(
        `${name}: not a tensor of an MLP (expected layers.<i>.weight/bias, norms.<i>.*, net.<k>.weight/bias or blocks.<i>.linear.*/out.*)`,
      )
  }
  const n = weights.size
  if (n === 0) problems.push('no layer weights found (layers.<i>.weight, net.<k>.weight or blocks.<i>.linear.weight)')
  const shapes: [number, number][] = []
  for (let i = 0; i < n; i++) {
    const w = weights.get(i)
    if (!w) problems.push(`layers.${i}.weight: missing (the layers found are ${[...weights.keys()].sort((a, b) => a - b).join(', ')})`)
    else if (w.shape.length !== 2) problems.push(`layers.${i}.weight: has shape ${fmt(w.shape)}; a linear layer's weight is 2-D`)
    else shapes.push([w.shape[0], w.shape[1]])
    const b = tensors[`layers.${i}.bias`]
    if (w && b && w.shape.length === 2 && (b.shape.length !== 1 || b.shape[0] !== w.shape[1]))
      problems.push(`layers.${i}.bias: has shape ${fmt(b.shape)}; layers.${i}.weight ${fmt(w.shape)} needs [${w.shape[1]}]`)
  }
  for (let i = 1; i < shapes.length; i++)
    if (shapes[i][0] !== shapes[i - 1][1])
      problems.push(`layers.${i}.weight: takes ${shapes[i][0]} inputs but layers.${i - 1} gives ${shapes[i - 1][1]} outputs`)
  const hidden = shapes.slice(0, -1).map((s) => s[1])
  if (hidden.length > LIMITS.maxHiddenLayers) problems.push(`${hidden.length} hidden layers; the studio allows ${LIMITS.maxHiddenLayers}`)
  hidden.forEach((w, i) => {
    if (w > LIMITS.maxWidth) problems.push(`layers.${i}: ${w} units; the studio allows ${LIMITS.maxWidth} per layer`)
  })
  for (const i of normKinds.keys())
    if (i >= hidden.length) problems.push(`norms.${i}: there is no hidden layer ${i} to normalise (${hidden.length} hidden layers)`)
  if (problems.length > 0)
    throw new HostError('invalid_payload', `runs.import: the file is not an MLP the studio can build: ${problems.join('; ')}`)
  const norms = hidden.map((_, i) => {
    const kinds = normKinds.get(i)
    return kinds === undefined ? 'none' : kinds.has('running_mean') ? 'batch' : 'layer'
  })
  return { hidden, inputs: shapes[0][0], outputs: shapes.at(-1)![1], norms }
}

/** The base setup with the imported architecture (norms where the base has none sit mid-block). */
function specFor(
  base: SessionSpecOut,
  model: InferredModel,
  activation: SessionSpecOut['model']['activation'] | undefined,
): SessionSpecOut {
  const blocks = model.norms.some((n) => n !== 'none')
    ? model.norms.map((norm, i) => ({ ...(base.model.blocks?.[i] ?? { normAt: 'mid', dropout: 0, residual: false }), norm }))
    : undefined
  const { activations: _dropped, blocks: _old, ...rest } = base.model
  return REQUESTS['session.create'].payload.parse({
    ...base,
    model: { ...rest, hidden: model.hidden, activation: activation ?? base.model.activation, ...(blocks ? { blocks } : {}) },
  })
}

/**
 * A bare nn.Sequential's state dict (`0.weight`, `2.bias`) named as the exported module's
 * (`net.0.weight`), and DDP's `module.` prefix dropped, so both read like an export.
 */
export function asExportNames(tensors: Record<string, SafeTensor>): Record<string, SafeTensor> {
  const names = Object.keys(tensors)
  const strip = names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.'.length : 0
  const out = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n.slice(strip), t]))
  if (!Object.keys(out).every((n) => /^\d+\.(weight|bias)$/.test(n))) return out
  return Object.fromEntries(Object.entries(out).map(([n, t]) => [`net.${n}`, t]))
}

export async function importRun(host: RunsHost, p: ParsedPayload<'runs.import'>): Promise<RequestResult<'runs.import'>> {
  const tensors = weightsOf(fromTorchLayout(asExportNames(decodeBase64Safetensors(p.safetensorsBase64, 'runs.import'))))
  const model = inferModel(tensors)
  const spec = specFor(p.base, model, p.activation)
  const session = await host.registry.create(spec, spec.backend)
  try {
    const info = session.info()
    const misfit: string[] = []
    if (info.inputFeatures !== model.inputs)
      misfit.push(`layers.0.weight takes ${model.inputs} inputs but the data gives ${info.inputFeatures} (${info.featureNames.join(', ')})`)
    if (info.outputSize !== model.outputs)
      misfit.push(`layers.${model.hidden.length}.weight gives ${model.outputs} outputs but the data's task needs ${info.outputSize}`)
    if (misfit.length > 0)
      throw new HostError(
        'invalid_payload',
        `runs.import: the weights do not fit the chosen data, nothing was imported: ${misfit.join('; ')}`,
      )
    const { loaded } = await session.reading(() => loadWeightsInto(session, tensors, 'runs.import'))
    const recorder = startRun(host, session, p.name === undefined ? {} : { name: p.name })
    if (recorder) session.checkpoint()
    return { sessionId: session.id, runId: recorder?.runId ?? null, hidden: model.hidden, loaded }
  } catch (e) {
    host.registry.dispose(session.id)
    throw e
  }
}
