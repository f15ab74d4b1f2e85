// The last N histogram samples of every layer (weights, gradients, biases), as the host binned
// them: the renderer never rebins, it only draws each sample over its own [lo, hi]. Bounded: the
// oldest sample goes when a layer holds `capacity`.
import type { RequestResult } from '../../shared/protocol'

export type HistogramsResult = RequestResult<'session.histograms'>
export type LayerHistograms = HistogramsResult['layers'][number]
export type Histogram = LayerHistograms['weights']
export type HistogramTensor = 'weights' | 'grads' | 'biases'

export interface HistogramSample {
  step: number
  weights: Histogram
  grads: Histogram | null
  biases: Histogram
}

export class HistogramHistory {
  readonly capacity: number
  private byLayer: HistogramSample[][] = []
  names: string[] = []

  constructor(capacity = 100) {
    this.capacity = Math.max(1, Math.floor(capacity))
  }

  clear(): void {
    this.byLayer = []
    this.names = []
  }

  /** Add one reply; a sample for the step already held last replaces it (a repeated poll while paused). */
  add(result: HistogramsResult): void {
    if (result.layers.length !== this.byLayer.length || result.layers.some((l, i) => l.name !== this.names[i])) {
      this.byLayer = result.layers.map(() => [])
      this.names = result.layers.map((l) => l.name)
    }
    result.layers.forEach((l, i) => {
      const samples = this.byLayer[i]!
      const sample = { step: result.step, weights: l.weights, grads: l.grads, biases: l.biases }
      if (samples.length && samples[samples.length - 1]!.step === result.step) samples[samples.length - 1] = sample
      else samples.push(sample)
      if (samples.length > this.capacity) samples.splice(0, samples.length - this.capacity)
    })
  }

  /** A layer's samples, oldest first. */
  samples(layer: number): readonly HistogramSample[] {
    return this.byLayer[layer] ?? []
  }

  get layerCount(): number {
    return this.byLayer.length
  }
}

/** The value extent covered by some histograms (each over its own [lo, hi]), or null when none. */
export function histogramExtent(hists: readonly (Histogram | null)[]): { lo: number; hi: number } | null {
  let lo = Infinity
  let hi = -Infinity
  for (const h of hists) {
    if (!h) continue
    lo = Math.min(lo, h.lo)
    hi = Math.max(hi, h.hi)
  }
  return lo < hi ? { lo, hi } : null
}
