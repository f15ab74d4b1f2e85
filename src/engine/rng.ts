// Seedable pseudo-random numbers: every random thing in the engine (init, data, shuffling)
// draws from an Rng so that a seed reproduces a run exactly.
import { EngineError } from './errors.js'

/** Everything an Rng will draw next depends on: saved with a checkpoint so a resumed run draws the same. */
export interface RngState {
  s: [number, number, number, number]
  spare: number | null
}

/** xoshiro128** seeded through splitmix32: fast, 32-bit state words, good statistical quality. */
export class Rng {
  private s0 = 0
  private s1 = 0
  private s2 = 0
  private s3 = 0
  private spare: number | null = null

  constructor(seed = 0) {
    this.seed(seed)
  }

  seed(seed: number): void {
    let x = seed >>> 0
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s0 = next()
    this.s1 = next()
    this.s2 = next()
    this.s3 = next()
    this.spare = null
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare }
  }

  setState(state: RngState): void {
    const { s, spare } = state
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      !s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) ||
      s.every((w) => w === 0)
    ) {
      throw new EngineError('Rng.setState', 'argument', `state must be four 32-bit unsigned words, not all zero; got ${JSON.stringify(s)}`)
    }
    if (spare !== null && !Number.isFinite(spare))
      throw new EngineError('Rng.setState', 'argument', `spare must be a finite number or null, got ${spare}`)
    ;[this.s0, this.s1, this.s2, this.s3] = s
    this.spare = spare
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next()
  }

  /** Standard normal (Box–Muller, both halves used). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return mean + std * v
    }
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return mean + std * r * Math.cos(2 * Math.PI * v)
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = arr[i]
      arr[i] = arr[j]
      arr[j] = tmp
    }
    return arr
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** The engine-wide default generator; `manualSeed` resets it like torch.manual_seed. */
export const globalRng = new Rng(0)

export function manualSeed(seed: number): void {
  globalRng.seed(seed)
}
