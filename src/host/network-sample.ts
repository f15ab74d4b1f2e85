// Which neurons and edges of a wide network the network view gets. A 16×1024 model has 17 columns
// of 1024 neurons and 15.7M weights: all of them are neither drawable nor cheap to pick from (a full
// sort per layer held the host for seconds), so a column wider than maxNeurons shows an evenly
// spread sample of its neurons, and each layer's edges are the strongest among the shown neurons'
// (maxNeurons² candidates at most), found with a linear-time selection rather than a sort.
/** Neurons per column the network view draws by default; wider columns are sampled (and say so). */
export const NETWORK_MAX_NEURONS = 64

/** k indices spread evenly over 0..width−1 (each at the middle of its share), ascending and distinct. */
export function spread(width: number, k: number): number[] {
  return Array.from({ length: Math.min(k, width) }, (_, j) => Math.floor(((j + 0.5) * width) / Math.min(k, width)))
}

/** Each column's shown neurons: all of them, or `max` spread evenly. */
export function shownNeurons(widths: readonly number[], max: number): number[][] {
  return widths.map((w) => (w <= max ? Array.from({ length: w }, (_, i) => i) : spread(w, max)))
}

/** NaN/Inf cannot cross JSON; they rank as 0. */
const size = (v: number): number => (Number.isFinite(v) ? Math.abs(v) : 0)

/**
 * The k strongest of `candidates` (indices into w) by |w|, ties broken by lower index, in the
 * candidates' order. Linear time on average (quickselect on the magnitudes).
 */
export function strongestOf(w: ArrayLike<number>, candidates: readonly number[], k: number): number[] {
  if (candidates.length <= k) return [...candidates]
  const abs = Float64Array.from(candidates, (c) => size(w[c]))
  const threshold = kthLargest(abs.slice(), k)
  const picked: number[] = []
  let ties = k - abs.reduce((n, v) => (v > threshold ? n + 1 : n), 0)
  for (let j = 0; j < candidates.length; j++) {
    if (abs[j] > threshold) picked.push(candidates[j])
    else if (abs[j] === threshold && ties > 0) {
      picked.push(candidates[j])
      ties--
    }
  }
  return picked
}

/** The k-th largest value of `a` (1-based), reordering `a` (Hoare's selection). */
function kthLargest(a: Float64Array, k: number): number {
  const target = a.length - k // its index in ascending order
  let lo = 0
  let hi = a.length - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i] < pivot) i++
      while (a[j] > pivot) j--
      if (i <= j) {
        const t = a[i]
        a[i] = a[j]
        a[j] = t
        i++
        j--
      }
    }
    if (target <= j) hi = j
    else if (target >= i) lo = i
    else return a[target]
  }
  return a[target]
}
