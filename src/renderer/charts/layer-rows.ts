// The rows of the per-layer views (heatmap, line chart, health strip): one per Linear layer and one
// per norm layer's γ/β, in the order the input flows through them (a pre norm above its layer, a
// mid or post norm below it). The layout comes from the session's model, not from the samples, so
// a sample without norm rows (a run's history saved before they existed) leaves those rows empty
// instead of reshaping the timeline.
import type { EventPayload } from '../../shared/protocol'
import { NORM_LABELS, type NormName, type NormPosition } from '../../shared/model-blocks'
import type { LayerStatInput } from './layer-timeline'

type LayerSample = EventPayload<'train.metrics'>['layers'][number]
type NormKind = Exclude<NormName, 'none'>

/** A norm as the rows need it: the hidden layer whose block holds it, its kind and place. */
export interface NormSlot {
  layer: number
  kind: NormKind
  at: NormPosition
}

export interface StatRow {
  name: string
  /** A Linear layer's row, or a norm layer's γ/β. */
  kind: 'layer' | 'norm'
  /** The Linear layer (kind 'layer'), or the hidden layer whose block holds the norm. */
  layer: number
  norm?: NormKind
}

/** The label of a norm's row: `norm 1 (BN) γ/β` for hidden layer 1's BatchNorm. */
export function normRowName(layer: number, kind: NormKind): string {
  return `norm ${layer + 1} (${NORM_LABELS[kind].short}) γ/β`
}

/** The norms of a model's blocks (as the session spec gives them), by hidden layer. */
export function normSlots(blocks: readonly { norm: NormName; normAt: NormPosition }[] | null | undefined): NormSlot[] {
  return (blocks ?? []).flatMap((b, layer) => (b.norm === 'none' ? [] : [{ layer, kind: b.norm, at: b.normAt }]))
}

/** Rows for Linear layers named `layerNames` (input side first) and the norms in `norms`. */
export function statRows(layerNames: readonly string[], norms: readonly NormSlot[] = []): StatRow[] {
  const rows: StatRow[] = []
  const normRow = (n: NormSlot): StatRow => ({ name: normRowName(n.layer, n.kind), kind: 'norm', layer: n.layer, norm: n.kind })
  layerNames.forEach((name, layer) => {
    const own = norms.filter((n) => n.layer === layer)
    for (const n of own) if (n.at === 'pre') rows.push(normRow(n))
    rows.push({ name, kind: 'layer', layer })
    for (const n of own) if (n.at !== 'pre') rows.push(normRow(n))
  })
  return rows
}

/** Whether a sample fits the rows: its Linear layers and norm layers are the rows' ones. */
export function fits(rows: readonly StatRow[], sample: LayerSample): boolean {
  const layers = rows.filter((r) => r.kind === 'layer').length
  const norms = new Set(rows.filter((r) => r.kind === 'norm').map((r) => r.layer))
  return layers === sample.stats.length && (sample.norms ?? []).every((n) => norms.has(n.layer))
}

/** The rows a sample describes by itself (no names or places known: norms below their layer). */
export function rowsOfSample(sample: LayerSample): StatRow[] {
  const norms = (sample.norms ?? []).map((n): NormSlot => ({ layer: n.layer, kind: n.kind, at: 'mid' }))
  return statRows(
    sample.stats.map((_, i) => `layer ${i}`),
    norms,
  )
}

/** One sample as the rows' statistics; a norm row the sample does not cover is empty. */
export function rowStats(rows: readonly StatRow[], sample: LayerSample): LayerStatInput[] {
  return rows.map((r) => {
    if (r.kind === 'layer') return sample.stats[r.layer] ?? {}
    return sample.norms?.find((n) => n.layer === r.layer) ?? {}
  })
}
