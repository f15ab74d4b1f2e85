// Names and exact numbers for what the pointer is over in the network view (a neuron or an edge),
// and the header line "showing k of n edges" (and "k of n neurons" for wide layers).
import type { RequestResult } from '../../../../shared/protocol'
import { fmtNum } from '../../../composables/use-graph-format'
import { columnWidths, neuronIndex, type Hit } from './use-network-layout'

type NetworkSnapshot = RequestResult<'session.network'>

export function columnName(s: Pick<NetworkSnapshot, 'layers'>, column: number): string {
  if (column === 0) return 'input'
  return column === s.layers.length ? 'output' : `hidden ${column}`
}

/** `position`: where the neuron is drawn in its column (its index unless the column is a sample). */
export function neuronName(s: Pick<NetworkSnapshot, 'layers' | 'featureNames' | 'shown'>, column: number, position: number): string {
  const index = neuronIndex(s, column, position)
  if (column === 0) return s.featureNames[index] ?? `x${index + 1}`
  return `${columnName(s, column)} #${index}`
}

export interface TooltipContent {
  title: string
  rows: [label: string, value: string][]
}

export function describeHit(s: NetworkSnapshot, hit: Hit): TooltipContent | null {
  if (hit.kind === 'neuron') {
    const n = s.neurons[hit.column]
    if (!n) return null
    const rows: TooltipContent['rows'] = [
      ['mean activation', fmtNum(n.activation[hit.index] ?? NaN, 4)],
      ['mean ∂L/∂activation', fmtNum(n.gradActivation[hit.index] ?? NaN, 4)],
    ]
    const layer = s.layers[hit.column - 1]
    if (layer) rows.push(['bias', fmtNum(layer.bias[hit.index] ?? NaN, 4)], ['∂L/∂bias', fmtNum(layer.biasGrad[hit.index] ?? NaN, 4)])
    const act = layer ? ` · ${layer.activation}` : ''
    return { title: `${neuronName(s, hit.column, hit.index)}${act}`, rows }
  }
  const layer = s.layers[hit.layer]
  if (!layer) return null
  const k = hit.edge
  return {
    title: `w ${neuronName(s, hit.layer, layer.from[k]!)} → ${neuronName(s, hit.layer + 1, layer.to[k]!)}`,
    rows: [
      ['weight', fmtNum(layer.weight[k]!, 4)],
      ['∂L/∂w', fmtNum(layer.grad[k]!, 4)],
      ['last update Δw', fmtNum(layer.update[k]!, 4)],
    ],
  }
}

export function edgeCounts(s: NetworkSnapshot): { shown: number; total: number; sampled: boolean } {
  let shown = 0
  let total = 0
  for (const l of s.layers) {
    shown += l.from.length
    total += l.inFeatures * l.outFeatures
  }
  return { shown, total, sampled: s.layers.some((l) => l.sampled) }
}

/** When wide columns show a sample of their neurons: how many of the widest column's are drawn. */
export function neuronSample(s: Pick<NetworkSnapshot, 'layers' | 'shown'>): { shown: number; total: number } | null {
  if (!s.shown) return null
  const widths = columnWidths(s)
  let widest = 0
  for (let c = 1; c < widths.length; c++) if (widths[c]! > widths[widest]!) widest = c
  return { shown: s.shown[widest]?.length ?? 0, total: widths[widest] ?? 0 }
}
