// session.importWeights: safetensors weights into a session's model. Our own checkpoints name
// weights `layers.<i>.weight` [in, out] and norms `norms.<i>.weight` (with BatchNorm's
// `norms.<i>.running_mean` etc.); a PyTorch state_dict of the exported nn.Sequential names them
// `net.<k>.weight` [out, in], so those are mapped (k-th Linear in order → layers.i) and transposed;
// the exported module of blocks names them `blocks.<i>.linear.weight`, `blocks.<i>.norm.<x>` and
// `out.weight`, mapped to layers.i, norms.i and the last layer. Nothing is loaded unless every
// tensor fits; each misfit is explained.
import { decodeSafetensors, type SafeTensor } from '../../engine'
import { HostError } from '../errors'
import type { TrainingSession } from '../session'
import { weightMismatches, weightsOf } from './checkpoint'

const TORCH = /^net\.(\d+)\.(weight|bias)$/
const TORCH_BLOCKS = /^(?:blocks\.(\d+)\.(linear|norm)\.(\w+)|out\.(weight|bias))$/

/** [rows, cols] → [cols, rows] (a PyTorch Linear weight in our orientation); other shapes as they are. */
function transposed(w: SafeTensor): SafeTensor {
  if (w.shape.length !== 2) return w
  const [rows, cols] = w.shape
  const data = new (w.data instanceof Float64Array ? Float64Array : Float32Array)(w.data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = w.data[r * cols + c]
  return { dtype: w.dtype, shape: [cols, rows], data }
}

/** The exported module of blocks in our names and orientation. */
function fromTorchBlocks(tensors: Record<string, SafeTensor>): Record<string, SafeTensor> {
  const parsed = Object.entries(tensors).map(([name, t]) => ({ m: TORCH_BLOCKS.exec(name)!, t }))
  const n = Math.max(-1, ...parsed.filter(({ m }) => m[1] !== undefined).map(({ m }) => Number(m[1]))) + 1
  const out: Record<string, SafeTensor> = {}
  for (const { m, t } of parsed) {
    if (m[4] !== undefined) out[`layers.${n}.${m[4]}`] = m[4] === 'weight' ? transposed(t) : t
    else if (m[2] === 'linear') out[`layers.${m[1]}.${m[3]}`] = m[3] === 'weight' ? transposed(t) : t
    else out[`norms.${m[1]}.${m[3]}`] = t
  }
  return out
}

/** PyTorch's layouts (the exported nn.Sequential or module of blocks) in our names and orientation; anything else is returned as it is. */
export function fromTorchLayout(tensors: Record<string, SafeTensor>): Record<string, SafeTensor> {
  const names = Object.keys(tensors)
  if (names.length > 0 && names.every((n) => TORCH_BLOCKS.test(n))) return fromTorchBlocks(tensors)
  if (names.length === 0 || !names.every((n) => TORCH.test(n))) return tensors
  const indices = [...new Set(names.map((n) => Number(TORCH.exec(n)![1])))].sort((a, b) => a - b)
  const out: Record<string, SafeTensor> = {}
  indices.forEach((k, i) => {
    const w = tensors[`net.${k}.weight`]
    const b = tensors[`net.${k}.bias`]
    if (w) out[`layers.${i}.weight`] = transposed(w)
    if (b) out[`layers.${i}.bias`] = b
  })
  return out
}

/** Standard base64 (padding optional, whitespace between lines allowed). Node's decoder drops anything else silently. */
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/

/** The tensors of a base64 safetensors file, or an invalid_payload error naming `what` and the fault. */
export function decodeBase64Safetensors(base64: string, what: string): Record<string, SafeTensor> {
  if (!BASE64.test(base64)) {
    const at = base64.search(/[^A-Za-z0-9+/=\s]/)
    const where = at >= 0 ? `: character ${at + 1} is ${JSON.stringify(base64[at])}` : ': "=" appears before the end'
    throw new HostError('invalid_payload', `${what}: safetensorsBase64 is not base64${where}`)
  }
  if (base64.trim() === '')
    throw new HostError('invalid_payload', `${what}: safetensorsBase64 is empty (a safetensors file is at least 8 bytes)`)
  try {
    return decodeSafetensors(new Uint8Array(Buffer.from(base64, 'base64'))).tensors
  } catch (e) {
    throw new HostError('invalid_payload', `${what}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

export function importWeights(session: TrainingSession, base64: string): { loaded: string[]; step: number } {
  return loadWeightsInto(
    session,
    weightsOf(fromTorchLayout(decodeBase64Safetensors(base64, 'session.importWeights'))),
    'session.importWeights',
  )
}

/** Load weights (our names and orientation) into the session's model if every tensor fits; else list each misfit. */
export function loadWeightsInto(
  session: TrainingSession,
  weights: Record<string, SafeTensor>,
  what: string,
): { loaded: string[]; step: number } {
  const bad = weightMismatches(session.trainer, weights)
  if (bad.length > 0)
    throw new HostError('invalid_payload', `${what}: the weights do not fit the model, nothing was loaded: ${bad.join('; ')}`)
  session.weightsChanging()
  session.trainer.loadWeights(Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.data])))
  // The run's checkpoint at this step now holds the imported weights.
  if (session.recorder) {
    session.recorder.lastCheckpoint = -1
    session.checkpoint()
  }
  return { loaded: Object.keys(weights).sort(), step: session.step }
}
