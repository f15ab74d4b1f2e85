// Layers: Module (named parameters and buffers, train/eval mode) and Linear. A module's parameters
// live on the backend it was built on (`backend` option, else the default); `to` and `clone` make
// a copy elsewhere, so a host places each session's model without switching a global.
// Normalisation and dropout layers are in normalization.ts and dropout.ts, the MLP in mlp.ts.
import type { Backend, DType } from '../backends/backend.js'
import { tensor } from '../creation.js'
import { EngineError, fmtShape } from '../errors.js'
import { globalRng, type Rng } from '../rng.js'
import type { Tensor } from '../tensor.js'
import { add, matmul } from '../ops/index.js'
import { initBias, initWeights, INITIALIZERS, type Initializer } from './init.js'

export abstract class Module {
  /** Train mode (the default) or eval mode, PyTorch's `training`: BatchNorm1d and Dropout read it. */
  training = true

  abstract forward(x: Tensor): Tensor
  /** Parameters with dotted names (`layers.0.weight`), in a stable order. */
  abstract namedParameters(): [string, Tensor][]

  /**
   * State that is not trained but belongs in a checkpoint (BatchNorm1d's running statistics),
   * named as PyTorch's state_dict names it. Restore one in place with `buffer.assign(values)`.
   */
  namedBuffers(): [string, Tensor][] {
    return []
  }

  /** The modules inside this one, so train() and eval() reach every layer. */
  children(): readonly Module[] {
    return []
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p)
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b)
  }

  /** Train mode (`mode` true) or eval mode for this module and every module inside it, like PyTorch's. */
  train(mode = true): this {
    this.training = mode
    for (const c of this.children()) c.train(mode)
    return this
  }

  eval(): this {
    return this.train(false)
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0)
  }

  /**
   * The same module with copies of the parameters' and buffers' current values (no gradients), on
   * `backend` in `dtype`, in the same train/eval mode.
   */
  abstract clone(options?: CloneOptions): Module

  /** This module on `backend`: itself when every parameter and buffer is already there, else a clone there. */
  to(backend: Backend): this {
    const here = [...this.parameters(), ...this.buffers()].every((t) => t.backend === backend)
    return here ? this : (this.clone({ backend }) as this)
  }
}

export interface CloneOptions {
  /** Default: where the module's parameters are. */
  backend?: Backend
  /** Default: the parameters' dtype. */
  dtype?: DType
}

/** Where a module's parameters are and in which dtype, the defaults of its clone. */
export function placementOf(m: Module, options: CloneOptions): Required<CloneOptions> {
  const first = m.parameters()[0] ?? m.buffers()[0]
  return { backend: options.backend ?? first.backend, dtype: options.dtype ?? first.dtype }
}

export interface LinearOptions {
  bias?: boolean
  init?: Initializer
  dtype?: DType
  rng?: Rng
  /** Where the parameters live (default: the default backend). */
  backend?: Backend
  /** Start from copies of these values instead of drawing them (clone); nothing is drawn from the rng. */
  from?: { weight: Tensor; bias: Tensor | null }
}

export class Linear extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super()
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new EngineError('Linear', 'argument', `${name} must be a positive integer, got ${v}`)
    }
    const init = options.init ?? 'pytorch'
    if (!INITIALIZERS.includes(init))
      throw new EngineError('Linear', 'argument', `unknown initialiser "${String(init)}"; expected one of ${INITIALIZERS.join(', ')}`)
    const dtype = options.dtype ?? 'float32'
    const from = options.from
    if (from) {
      const want = [inFeatures, outFeatures]
      if (from.weight.shape.join() !== want.join() || (options.bias !== false) !== (from.bias !== null)) {
        throw new EngineError(
          'Linear',
          'shape',
          `from.weight has shape ${fmtShape(from.weight.shape)}${from.bias ? ' with a bias' : ''}, expected ${fmtShape(want)}${options.bias === false ? '' : ' with a bias'}`,
        )
      }
    }
    const rng = options.rng ?? globalRng
    const param = (values: Float32Array | Float64Array, shape: number[], label: string): Tensor => {
      const t = tensor(values, { shape, dtype, backend: options.backend, requiresGrad: true, allowNonFinite: true })
      t.label = label
      return t
    }
    const w = from ? null : dtype === 'float64' ? new Float64Array(inFeatures * outFeatures) : new Float32Array(inFeatures * outFeatures)
    if (w) initWeights(init, w, inFeatures, outFeatures, rng)
    this.weight = from ? copyParam(from.weight, options.backend, dtype) : param(w!, [inFeatures, outFeatures], 'weight')
    if (options.bias === false) {
      this.bias = null
    } else if (from) {
      this.bias = copyParam(from.bias!, options.backend, dtype)
    } else {
      const b = dtype === 'float64' ? new Float64Array(outFeatures) : new Float32Array(outFeatures)
      initBias(init, b, inFeatures, rng)
      this.bias = param(b, [outFeatures], 'bias')
    }
  }

  clone(options: CloneOptions = {}): Linear {
    const { backend, dtype } = placementOf(this, options)
    return new Linear(this.inFeatures, this.outFeatures, {
      bias: this.bias !== null,
      backend,
      dtype,
      from: { weight: this.weight, bias: this.bias },
    }).train(this.training)
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new EngineError('Linear', 'shape', `input has shape ${fmtShape(x.shape)}, expected [batch, ${this.inFeatures}]`)
    }
    const y = matmul(x, this.weight)
    return this.bias ? add(y, this.bias) : y
  }

  namedParameters(): [string, Tensor][] {
    return this.bias
      ? [
          ['weight', this.weight],
          ['bias', this.bias],
        ]
      : [['weight', this.weight]]
  }
}

/** A parameter's current values as a new leaf on `backend` (default: where it is) in `dtype`. */
export function copyParam(p: Tensor, backend: Backend | undefined, dtype: DType): Tensor {
  const t = p.copyTo(backend ?? p.backend, dtype)
  t.requiresGrad = true
  return t
}
