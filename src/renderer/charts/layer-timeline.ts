// Per-layer statistics over time in a fixed number of columns: one column per sampled step until
// the timeline is full, then neighbouring columns merge (mean of each statistic, later step kept)
// and every column covers twice the steps. The heatmap strip, the per-layer line chart and the
// health strip's sparklines all read from here. Plain data: never make it reactive.

/** The statistics kept per row and column: LayerStats' numeric fields, then NormStats' own (NaN on a Linear layer's row). */
export const LAYER_STATS = [
  'gradNorm',
  'meanAbsGrad',
  'maxAbsGrad',
  'weightNorm',
  'updateRatio',
  'deadFraction',
  'saturatedFraction',
  'gammaGradNorm',
  'betaGradNorm',
  'meanGap',
  'varFactor',
] as const
export type LayerStatName = (typeof LAYER_STATS)[number]
export type LayerStatSample = { [K in LayerStatName]: number | null }
/** What a row brings: a Linear layer's row has no NormStats fields (they read as null). */
export type LayerStatInput = { [K in LayerStatName]?: number | null }

const STAT_COUNT = LAYER_STATS.length

export class LayerTimeline {
  readonly capacity: number
  private layerCount = 0
  private stepsAt: number[] = []
  /** Per column: layerCount × STAT_COUNT values, NaN where a statistic does not apply. */
  private columns: Float64Array[] = []
  private pending: { step: number; sum: Float64Array; count: Float64Array; samples: number } | null = null
  private span = 1
  private latestSample: LayerStatSample[] = []

  constructor(capacity = 256) {
    this.capacity = Math.max(2, Math.floor(capacity))
  }

  get layers(): number {
    return this.layerCount
  }

  /** Columns drawn right now (at most `capacity`). */
  get length(): number {
    return this.columns.length + (this.pending ? 1 : 0)
  }

  /** Sampled steps per column (a power of two). */
  get columnSpan(): number {
    return this.span
  }

  /** The newest sample as it arrived (not averaged), per layer. */
  get latest(): readonly LayerStatSample[] {
    return this.latestSample
  }

  clear(layerCount = this.layerCount): void {
    this.layerCount = layerCount
    this.stepsAt = []
    this.columns = []
    this.pending = null
    this.span = 1
    this.latestSample = []
  }

  push(step: number, stats: readonly LayerStatInput[]): void {
    if (stats.length !== this.layerCount) this.clear(stats.length)
    this.latestSample = stats.map((s) => Object.fromEntries(LAYER_STATS.map((k) => [k, s[k] ?? null])) as LayerStatSample)
    const p = (this.pending ??= {
      step,
      sum: new Float64Array(this.layerCount * STAT_COUNT),
      count: new Float64Array(this.layerCount * STAT_COUNT),
      samples: 0,
    })
    p.step = step
    p.samples++
    stats.forEach((s, layer) => {
      LAYER_STATS.forEach((name, k) => {
        const v = s[name]
        if (v === null || v === undefined || !Number.isFinite(v)) return
        p.sum[layer * STAT_COUNT + k]! += v
        p.count[layer * STAT_COUNT + k]! += 1
      })
    })
    if (p.samples >= this.span) this.closePending()
  }

  /** Step of column `col` (the last step it covers). */
  step(col: number): number {
    return col < this.columns.length ? this.stepsAt[col]! : (this.pending?.step ?? Number.NaN)
  }

  /** A statistic of one layer in one column; NaN where it does not apply or was never finite. */
  value(col: number, layer: number, stat: LayerStatName): number {
    const k = layer * STAT_COUNT + LAYER_STATS.indexOf(stat)
    if (col < this.columns.length) return this.columns[col]![k]!
    const p = this.pending
    return p && p.count[k]! > 0 ? p.sum[k]! / p.count[k]! : Number.NaN
  }

  /** One layer's statistic over time as chart points (non-finite and, if `positive`, ≤ 0 left out). */
  series(layer: number, stat: LayerStatName, positive = false): { x: number; y: number }[] {
    const out: { x: number; y: number }[] = []
    for (let c = 0; c < this.length; c++) {
      const y = this.value(c, layer, stat)
      if (Number.isFinite(y) && (!positive || y > 0)) out.push({ x: this.step(c), y })
    }
    return out
  }

  private closePending(): void {
    const p = this.pending!
    const col = new Float64Array(p.sum.length)
    for (let k = 0; k < col.length; k++) col[k] = p.count[k]! > 0 ? p.sum[k]! / p.count[k]! : Number.NaN
    this.columns.push(col)
    this.stepsAt.push(p.step)
    this.pending = null
    if (this.columns.length >= this.capacity) this.compact()
  }

  /** Merge neighbouring columns pairwise (mean of what is finite, later step) and double the span. */
  private compact(): void {
    const cols: Float64Array[] = []
    const steps: number[] = []
    for (let i = 0; i < this.columns.length; i += 2) {
      const a = this.columns[i]!
      const b = this.columns[i + 1]
      if (!b) {
        cols.push(a)
        steps.push(this.stepsAt[i]!)
        continue
      }
      const m = new Float64Array(a.length)
      for (let k = 0; k < a.length; k++) {
        const x = a[k]!
        const y = b[k]!
        m[k] = Number.isNaN(x) ? y : Number.isNaN(y) ? x : (x + y) / 2
      }
      cols.push(m)
      steps.push(this.stepsAt[i + 1]!)
    }
    this.columns = cols
    this.stepsAt = steps
    this.span *= 2
  }
}
