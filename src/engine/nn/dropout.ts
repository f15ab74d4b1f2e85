// Dropout with PyTorch's semantics (inverted: kept values are scaled by 1/(1−p), so eval mode is
// the identity). The mask is drawn on the host from a seeded Rng, one draw per element in row-major
// order, and uploaded to the input's backend: the same seed gives the same mask on every backend,
// and restoring the Rng's state (getState/setState) makes a resumed run draw the same masks.
import type { Backend, DType } from '../backends/backend.js'
import { tensor } from '../creation.js'
import { EngineError, fmtShape } from '../errors.js'
import { globalRng, type Rng } from '../rng.js'
import { sameShape, sizeOf } from '../shape.js'
import { mul } from '../ops/index.js'
import type { Tensor } from '../tensor.js'
import { Module } from './module.js'

function checkP(op: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new EngineError(op, 'argument', `p must be a probability in [0, 1), got ${p}`)
}

/** A keep-mask of `shape`: 0 where rng.next() < p (dropped), else 1. Draws one number per element. */
export function dropoutMask(shape: readonly number[], p: number, rng: Rng, options: { backend?: Backend; dtype?: DType } = {}): Tensor {
  checkP('dropoutMask', p)
  const n = sizeOf(shape)
  const keep = options.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n)
  for (let i = 0; i < n; i++) keep[i] = rng.next() < p ? 0 : 1
  return tensor(keep, { shape, dtype: options.dtype, backend: options.backend })
}

/** x · mask / (1 − p) for a given 0/1 keep-mask: the backward pass is mul's rule, g · mask / (1 − p). */
export function dropout(x: Tensor, p: number, mask: Tensor): Tensor {
  checkP('dropout', p)
  if (!sameShape(mask.shape, x.shape)) {
    throw new EngineError('dropout', 'shape', `mask has shape ${fmtShape(mask.shape)}, the input ${fmtShape(x.shape)}`)
  }
  // The mask needs no gradient, so scaling it records nothing: one recorded mul per dropout.
  return mul(x, mul(mask, 1 / (1 - p)))
}

export interface DropoutOptions {
  /** The generator masks are drawn from (default: the engine's global one). Save its state to resume. */
  rng?: Rng
}

/** nn.Dropout(p): in train mode zeroes each element with probability p and scales the rest by 1/(1−p). */
export class Dropout extends Module {
  readonly rng: Rng

  constructor(
    readonly p = 0.5,
    options: DropoutOptions = {},
  ) {
    super()
    checkP('Dropout', p)
    this.rng = options.rng ?? globalRng
  }

  /** Eval mode, or p = 0, is the identity (no draws from the rng): the input itself comes back. */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x
    return dropout(x, this.p, dropoutMask(x.shape, this.p, this.rng, { backend: x.backend, dtype: x.dtype }))
  }

  namedParameters(): [string, Tensor][] {
    return []
  }

  /** A Dropout with the same p drawing from the same rng (it holds no tensors, so placement is moot). */
  clone(): Dropout {
    return new Dropout(this.p, { rng: this.rng }).train(this.training)
  }
}
