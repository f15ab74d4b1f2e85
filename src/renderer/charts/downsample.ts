// A bounded series for live charts: samples are averaged into buckets, and when the series is
// full, neighbouring points merge and the bucket doubles, so a million steps still draw as at
// most `maxPoints` points at any time. Optional EMA smoothing (debiased, as TensorBoard does)
// tames noisy minibatch losses before bucketing. Plain data on purpose: never make it reactive.

export interface Point {
  x: number
  y: number
}

export interface SeriesOptions {
  maxPoints?: number
  /** EMA weight of the past in [0, 1); 0 means no smoothing. */
  smoothing?: number
}

export class DownsampledSeries {
  readonly maxPoints: number
  readonly smoothing: number
  private done: Point[] = []
  private bucket = 1
  private inBucket = 0
  private sumY = 0
  private finiteInBucket = 0
  private lastX = 0
  private ema = 0
  private emaWeight = 0
  private samples = 0

  constructor(options: SeriesOptions = {}) {
    this.maxPoints = Math.max(2, Math.floor(options.maxPoints ?? 1000))
    this.smoothing = options.smoothing ?? 0
  }

  /** Samples pushed since the last clear. */
  get sampleCount(): number {
    return this.samples
  }

  /** Samples per drawn point right now (a power of two). */
  get bucketSize(): number {
    return this.bucket
  }

  push(x: number, y: number): void {
    this.samples++
    this.inBucket++
    this.lastX = x
    // Non-finite values (a diverged loss) and non-positive ones on log scales are the caller's
    // to filter; here NaN/Infinity are skipped so one bad step does not erase a whole bucket.
    if (Number.isFinite(y)) {
      let value = y
      if (this.smoothing > 0) {
        this.ema = this.smoothing * this.ema + (1 - this.smoothing) * y
        this.emaWeight = this.smoothing * this.emaWeight + (1 - this.smoothing)
        value = this.ema / this.emaWeight
      }
      this.sumY += value
      this.finiteInBucket++
    }
    if (this.inBucket >= this.bucket) this.closeBucket()
  }

  /** The points to draw: closed buckets plus the partial one, as a fresh array. */
  points(): Point[] {
    const out = this.done.slice()
    if (this.finiteInBucket > 0) out.push({ x: this.lastX, y: this.sumY / this.finiteInBucket })
    return out
  }

  /** The most recent value drawn, or null. */
  last(): number | null {
    if (this.finiteInBucket > 0) return this.sumY / this.finiteInBucket
    return this.done.length ? this.done[this.done.length - 1]!.y : null
  }

  clear(): void {
    this.done = []
    this.bucket = 1
    this.samples = 0
    this.ema = 0
    this.emaWeight = 0
    this.resetBucket()
  }

  private closeBucket(): void {
    if (this.finiteInBucket > 0) this.done.push({ x: this.lastX, y: this.sumY / this.finiteInBucket })
    this.resetBucket()
    if (this.done.length >= this.maxPoints) this.compact()
  }

  private resetBucket(): void {
    this.inBucket = 0
    this.sumY = 0
    this.finiteInBucket = 0
  }

  /** Merge neighbours pairwise (x of the later one, mean of y) and double the bucket. */
  private compact(): void {
    const merged: Point[] = []
    for (let i = 0; i + 1 < this.done.length; i += 2) {
      const a = this.done[i]!
      const b = this.done[i + 1]!
      merged.push({ x: b.x, y: (a.y + b.y) / 2 })
    }
    if (this.done.length % 2 === 1) merged.push(this.done[this.done.length - 1]!)
    this.done = merged
    this.bucket *= 2
  }
}
