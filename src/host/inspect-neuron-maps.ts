// Every neuron's output over the 2-D input plane at once, for the network view's thumbnails (as
// TensorFlow Playground draws them): one forward pass over a coarse grid keeps every layer's
// activation, so a refresh costs one small batch whatever the number of neurons. Each map is
// quantised to bytes with its own min and max, and the reply is capped in cells: past the caps an
// evenly spread sample of each column's neurons is sent, and the reply says which.
import { noGrad, tensor } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { NEURON_MAPS_MAX_CELLS } from '../shared/protocol-inspect'
import { dataLabel } from './data-source'
import { HostError } from './errors'
import { forwardCost, withinBudget } from './inspect-model'
import { MAP_BUDGET, asLossReads, planeGrid } from './inspect-network'
import { view } from './metrics'
import { spread } from './network-sample'

export { spread }
import type { TrainingSession } from './session'

export type NeuronMapsResult = RequestResult<'session.neuronMaps'>

/**
 * How many maps each column gets: up to maxPerColumn (and its width), and no more than maxMaps in
 * all. When they do not all fit, every column is filled to the same level q (the largest that
 * fits), then the leftmost columns that want more get one each of what is left: no column is starved.
 */
export function mapCounts(widths: readonly number[], maxPerColumn: number, maxMaps: number): number[] {
  const want = widths.map((w) => Math.min(w, maxPerColumn))
  const sum = (q: number) => want.reduce((s, w) => s + Math.min(w, q), 0)
  if (sum(Infinity) <= maxMaps) return want
  let q = 0
  while (q < maxPerColumn && sum(q + 1) <= maxMaps) q++
  let left = maxMaps - sum(q)
  return want.map((w) => {
    const n = Math.min(w, q)
    if (left > 0 && w > q) {
      left--
      return n + 1
    }
    return n
  })
}

/**
 * The values of neuron `col` of a row-major [cells, width] matrix as bytes over its own range
 * (0 ↔ min, 255 ↔ max), written to `out` at `offset`. Non-finite values count as 0, as in the
 * other inspections (a diverged model's loss chart says why).
 */
export function quantise(m: ArrayLike<number>, cells: number, width: number, col: number, out: Uint8Array, offset: number) {
  let min = Infinity
  let max = -Infinity
  const at = (i: number) => {
    const v = m[i * width + col]!
    return Number.isFinite(v) ? v : 0
  }
  for (let i = 0; i < cells; i++) {
    const v = at(i)
    if (v < min) min = v
    if (v > max) max = v
  }
  const span = max - min
  for (let i = 0; i < cells; i++) out[offset + i] = span > 0 ? Math.round(((at(i) - min) / span) * 255) : 0
  return { min, max }
}

/**
 * The maps of the input features (each a formula of x1, x2), every hidden unit's activation output
 * and the output layer as the loss reads it (asLossReads), over a resolution × resolution grid of the
 * raw data's span (coarser when MAP_BUDGET needs it). Columns are sampled past maxPerColumn, and all
 * of them evenly past maxMaps or NEURON_MAPS_MAX_CELLS cells.
 */
export function neuronMapsOf(session: TrainingSession, resolution: number, maxPerColumn: number, maxMaps: number): NeuronMapsResult {
  const { trainer } = session
  const { data, model } = trainer
  if (!data.planar) {
    throw new HostError(
      'invalid_payload',
      `session.neuronMaps: neuron maps are drawn over the plane of 2 raw input columns, but "${dataLabel(session.spec.data)}" has ${data.raw.nFeatures}`,
    )
  }
  const r = Math.floor(Math.sqrt(withinBudget(MAP_BUDGET, forwardCost(model), resolution * resolution, 16)))
  const cells = r * r
  const { xRange, yRange, xy } = planeGrid(data.raw, r)
  const features = data.toModelInputs(xy, cells)
  const widths = [data.featureNames.length, ...model.layers.map((l) => l.outFeatures)]
  const counts = mapCounts(widths, maxPerColumn, Math.min(maxMaps, Math.floor(NEURON_MAPS_MAX_CELLS / cells)))
  const w = model.layers[0].weight
  const columns = noGrad(() => {
    const x = tensor(features, { shape: [cells, widths[0]!], dtype: w.dtype, backend: w.backend, allowNonFinite: true })
    const acts = model.forwardLayers(x).map((o) => o.activation)
    acts[acts.length - 1] = asLossReads(acts.at(-1)!, trainer.plan.name)
    const values = [features, ...acts.map(view)]
    return widths.map((width, c) => {
      const indices = spread(width, counts[c]!)
      const bytes = new Uint8Array(indices.length * cells)
      const ranges = indices.map((k, j) => quantise(values[c]!, cells, width, k, bytes, j * cells))
      const min = ranges.map((q) => q.min)
      const max = ranges.map((q) => q.max)
      return { width, indices, min, max, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') }
    })
  })
  const sampled = columns.some((c) => c.indices.length < c.width)
  return { sessionId: session.id, step: trainer.stepCount, resolution: r, xRange, yRange, columns, sampled }
}
