// The health strip's rows from the per-layer timeline: a Linear layer's row grades its update
// ratio and its gradient ratio to the next Linear layer; a norm layer's row (γ/β) grades its update
// ratio and, for BatchNorm, how far the batch statistics are from the running ones. A norm row has
// no neighbour ratio: γ and β scale and shift, they are not a link in the chain of products that
// makes a gradient vanish or explode with depth, so the ratio is taken between Linear layers only.
import { adjacentGradRatios, gradRatioLevel, updateRatioLevel, type HealthLevel } from './health'
import type { StatRow } from './layer-rows'
import type { LayerStatName, LayerTimeline } from './layer-timeline'

export const RUNNING_GAP_RULE =
  'BatchNorm: how far the batch statistics are from the running ones eval mode uses — the mean gap in running standard deviations (RMS over features) and the typical factor between batch and running variance. Amber above 0.5 σ or ×2, red above 2 σ or ×10: evaluation normalises differently from training.'

/** How far eval mode's normalisation is from training's (see RUNNING_GAP_RULE). */
export function runningGapLevel(meanGap: number | null, varFactor: number | null): HealthLevel {
  if (meanGap === null || varFactor === null || !Number.isFinite(meanGap) || !Number.isFinite(varFactor)) return 'none'
  if (meanGap > 2 || varFactor > 10) return 'bad'
  if (meanGap > 0.5 || varFactor > 2) return 'warn'
  return 'ok'
}

export interface HealthRow {
  name: string
  kind: StatRow['kind']
  /** A Linear layer's activation; a norm's kind (BatchNorm, LayerNorm). */
  detail: string
  gradNorm: number | null
  /** Norm rows: γ's and β's gradient norms apart. */
  gammaGrad: number | null
  betaGrad: number | null
  updateRatio: number | null
  updateLevel: HealthLevel
  dead: number | null
  saturated: number | null
  ratio: number | null
  ratioLevel: HealthLevel
  meanGap: number | null
  varFactor: number | null
  gapLevel: HealthLevel
  sparks: Record<'grad' | 'update' | 'dead' | 'saturated' | 'gap', number[]>
}

const NORM_NAMES = { batch: 'BatchNorm', layer: 'LayerNorm' } as const

/** The strip's rows for the timeline's latest sample; `activations` per Linear layer. */
export function healthRows(rows: readonly StatRow[], t: LayerTimeline, activations: readonly string[], sparkLength = 60): HealthRow[] {
  const latest = t.latest
  if (latest.length !== rows.length) return []
  const linear = rows.flatMap((r, i) => (r.kind === 'layer' ? [i] : []))
  const ratios = adjacentGradRatios(linear.map((i) => latest[i]!.gradNorm))
  const spark = (row: number, stat: LayerStatName) =>
    t
      .series(row, stat)
      .slice(-sparkLength)
      .map((p) => p.y)
  return rows.map((r, i) => {
    const s = latest[i]!
    const ratio = r.kind === 'layer' ? (ratios[linear.indexOf(i)] ?? null) : null
    return {
      name: r.name,
      kind: r.kind,
      detail: r.kind === 'layer' ? (activations[r.layer] ?? '') : NORM_NAMES[r.norm ?? 'batch'],
      gradNorm: s.gradNorm,
      gammaGrad: s.gammaGradNorm,
      betaGrad: s.betaGradNorm,
      updateRatio: s.updateRatio,
      updateLevel: updateRatioLevel(s.updateRatio),
      dead: s.deadFraction,
      saturated: s.saturatedFraction,
      ratio,
      ratioLevel: gradRatioLevel(ratio),
      meanGap: s.meanGap,
      varFactor: s.varFactor,
      gapLevel: runningGapLevel(s.meanGap, s.varFactor),
      sparks: {
        grad: spark(i, 'gradNorm'),
        update: spark(i, 'updateRatio'),
        dead: spark(i, 'deadFraction'),
        saturated: spark(i, 'saturatedFraction'),
        gap: spark(i, 'meanGap'),
      },
    }
  })
}
