// The studio's histograms panel: per-layer histograms of weights, gradients and biases (and each
// norm's scale and shift), binned honestly, over an evenly spaced sample of a big tensor. Read-only
// for the session: the samples are taken from the live tensors at once, then binned in pieces.
import { tensorStats, type Tensor, type TypedArray } from '../engine'
import type { RequestResult } from '../shared/protocol'
import type { HistogramRange } from '../shared/protocol-studio'
import type { z } from 'zod'
import { HostError } from './errors'
import { view } from './metrics'
import type { TrainingSession } from './session'
import { drain, pieceElements, type Work } from './work-budget'

export type HistogramsResult = RequestResult<'session.histograms'>
export type Histogram = HistogramsResult['layers'][number]['weights']
type Range = z.output<typeof HistogramRange>

/**
 * A histogram bins at most this many elements of a tensor (an evenly spaced sample beyond it): a
 * 1024×1024 layer's weights and gradients binned whole held training ~0.5 s per request.
 */
export const HISTOGRAM_SAMPLE = 65_536
/**
 * The sample is made of runs of this many neighbouring elements (one 64-byte cache line of float32),
 * evenly spaced: every k-th element alone would read every cache line of the tensor, so sampling a
 * 16×1024 model's tensors cost as much memory traffic as reading them whole.
 */
export const SAMPLE_RUN = 16
/** Half-width of the range an all-zero tensor gets under 'auto'. */
const ZERO_HALF_WIDTH = 0.01

/** The smallest of 1, 2, 5 × 10^k that is ≥ x (x > 0): ranges that stay put as weights drift (at most the largest float64). */
export function niceCeil(x: number): number {
  const k = Math.floor(Math.log10(x))
  for (const f of [1, 2, 5, 10]) {
    const v = f * 10 ** k
    if (v >= x) return Math.min(v, Number.MAX_VALUE)
  }
  return Math.min(10 ** (k + 1), Number.MAX_VALUE)
}

/**
 * Honest binning of `values`: `bins` equal-width bins over [lo, hi] (hi itself in the last bin),
 * values outside counted as underflow/overflow, non-finite ones counted in nonFinite only and left
 * out of every statistic. 'auto' is symmetric around 0 up to max |x| rounded up by niceCeil; an
 * all-equal tensor (one element, a zeros init) gets a small range around its value instead.
 */
export function histogram(values: ArrayLike<number>, bins: number, range: Range): Histogram {
  // Moments and extremes of the finite values (the same statistics the graph view shows).
  const { mean, std, min, max, nonFinite } = tensorStats(values)
  const count = values.length - nonFinite
  let lo: number
  let hi: number
  if (range !== 'auto') ({ lo, hi } = range)
  else if (count === 0) [lo, hi] = [-1, 1]
  else if (min === max) {
    const half = min === 0 ? ZERO_HALF_WIDTH : niceCeil(Math.abs(min)) / 10
    ;[lo, hi] = [min - half, min + half]
  } else {
    const m = niceCeil(Math.max(Math.abs(min), Math.abs(max)))
    ;[lo, hi] = [-m, m]
  }
  const counts = new Array<number>(bins).fill(0)
  let underflow = 0
  let overflow = 0
  // Halved first: hi − lo of a range near ±1.8e308 overflows to Infinity, (hi/2 − lo/2) does not.
  const half = hi / 2 - lo / 2
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) continue
    if (v < lo) underflow++
    else if (v > hi) overflow++
    else counts[Math.min(bins - 1, Math.floor(((v / 2 - lo / 2) / half) * bins))]++
  }
  return {
    lo,
    hi,
    counts,
    underflow,
    overflow,
    count,
    nonFinite,
    min,
    max,
    mean,
    std,
  }
}

/**
 * Every layer's weights, last gradients (null before the first backward) and biases; then each
 * hidden layer's norm as `norms.{i}`: its scale γ as the weights (γ's gradient as the gradients)
 * and its shift β as the biases.
 */
export function histogramsOf(session: TrainingSession, bins: number, range: Range): HistogramsResult {
  return drain(histogramsWork(session, bins, range))
}

/** A tensor's values as a histogram will bin them (histogramSample), or null for a missing gradient. */
type Sample = ReturnType<typeof histogramSample> | null

/**
 * histogramsOf as resumable work: the samples of every tensor are taken at once (so all belong to
 * one step), then binned in pieces of at most pieceElements passes over values (work-budget.ts).
 */
export function* histogramsWork(session: TrainingSession, bins: number, range: Range): Work<HistogramsResult> {
  if (range !== 'auto' && !Number.isFinite(range.hi - range.lo)) {
    throw new HostError(
      'invalid_payload',
      `session.histograms: range [${range.lo}, ${range.hi}] is wider than a 64-bit float can hold (hi − lo overflows); use a narrower range`,
    )
  }
  const { model, stepCount, chunkFlops } = session.trainer
  const take = (t: Tensor | null): Sample => (t ? histogramSample(view(t)) : null)
  const parts: { name: string; weights: Sample; grads: Sample; biases: Sample }[] = model.layers.map((layer, i) => ({
    name: `layers.${i}`,
    weights: take(layer.weight),
    grads: take(layer.weight.grad),
    biases: take(layer.bias),
  }))
  model.norms.forEach((n, i) => {
    if (n) parts.push({ name: `norms.${i}`, weights: take(n.weight), grads: take(n.weight.grad), biases: take(n.bias) })
  })
  const budget = pieceElements(chunkFlops)
  // Taking the samples was one pass over each: it counts towards the first piece.
  let spent = parts.reduce((n, p) => n + [p.weights, p.grads, p.biases].reduce((m, s) => m + (s?.values.length ?? 0), 0), 0)
  const binned = (s: Sample): Histogram | null => {
    if (!s) return null
    spent += 3 * s.values.length // the statistics' two passes and the binning
    return s.from === null ? histogram(s.values, bins, range) : { ...histogram(s.values, bins, range), sampledFrom: s.from }
  }
  const layers: HistogramsResult['layers'] = []
  for (const p of parts) {
    if (spent > 0 && spent + 3 * [p.weights, p.grads, p.biases].reduce((n, s) => n + (s?.values.length ?? 0), 0) > budget) {
      yield
      spent = 0
    }
    const weights = binned(p.weights)!
    layers.push({ name: p.name, weights, grads: binned(p.grads), biases: binned(p.biases) ?? histogram([], bins, range) })
  }
  return { step: stepCount, layers }
}

/**
 * What a histogram bins: a copy of every value, or evenly spaced runs of SAMPLE_RUN neighbours
 * (HISTOGRAM_SAMPLE values at most), with `from` the full count when sampled.
 */
export function histogramSample(values: TypedArray, max = HISTOGRAM_SAMPLE): { values: TypedArray; from: number | null } {
  const n = values.length
  if (n <= max) return { values: values.slice(), from: null }
  const run = Math.min(SAMPLE_RUN, max)
  const runs = Math.floor(max / run)
  const sample = new Float64Array(runs * run)
  // Run r starts at ⌊r·n/runs⌋: n/runs > run (n > max), so runs never overlap or pass the end.
  for (let r = 0; r < runs; r++) sample.set(values.subarray(Math.floor((r * n) / runs), Math.floor((r * n) / runs) + run), r * run)
  return { values: sample, from: n }
}

/** The histogram of `values`, or of an evenly spaced sample of them (HISTOGRAM_SAMPLE at most), saying so. */
export function sampledHistogram(values: TypedArray, bins: number, range: Range, max = HISTOGRAM_SAMPLE): Histogram {
  const s = histogramSample(values, max)
  return s.from === null ? histogram(s.values, bins, range) : { ...histogram(s.values, bins, range), sampledFrom: s.from }
}
