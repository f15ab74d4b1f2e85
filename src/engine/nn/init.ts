// Weight initialisers. Weights are stored [fanIn, fanOut] so a layer is x·W + b.
import { EngineError } from '../errors.js'
import type { Rng } from '../rng.js'

export const INITIALIZERS = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal', 'pytorch', 'zeros'] as const
export type Initializer = (typeof INITIALIZERS)[number]

/** Fill `out` (fanIn·fanOut weights) with the scheme's distribution. */
export function initWeights(scheme: Initializer, out: Float32Array | Float64Array, fanIn: number, fanOut: number, rng: Rng): void {
  switch (scheme) {
    case 'xavier-uniform': {
      const a = Math.sqrt(6 / (fanIn + fanOut))
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a)
      return
    }
    case 'xavier-normal': {
      const std = Math.sqrt(2 / (fanIn + fanOut))
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std)
      return
    }
    case 'he-uniform': {
      const a = Math.sqrt(6 / fanIn)
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a)
      return
    }
    case 'he-normal': {
      const std = Math.sqrt(2 / fanIn)
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std)
      return
    }
    case 'pytorch': {
      // nn.Linear's default: kaiming_uniform(a=√5), i.e. U(-1/√fanIn, 1/√fanIn).
      const a = 1 / Math.sqrt(fanIn)
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a)
      return
    }
    case 'zeros':
      out.fill(0)
      return
    default:
      throw new EngineError('init', 'argument', `unknown initialiser "${String(scheme)}"; expected one of ${INITIALIZERS.join(', ')}`)
  }
}

/** Biases start at zero, except PyTorch's default which draws them like the weights. */
export function initBias(scheme: Initializer, out: Float32Array | Float64Array, fanIn: number, rng: Rng): void {
  if (scheme !== 'pytorch') {
    out.fill(0)
    return
  }
  const a = 1 / Math.sqrt(fanIn)
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a)
}
