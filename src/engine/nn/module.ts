// Layers: Module (named parameters), Linear, and the MLP the studio trains.
import type { DType } from '../backends/backend.js'
import { currentBackend } from '../backends/registry.js'
import { EngineError, fmtShape } from '../errors.js'
import { globalRng, Rng } from '../rng.js'
import { Tensor } from '../tensor.js'
import { add, matmul } from '../ops/index.js'
import { ACTIVATIONS, activate, type Activation } from './activations.js'
import { initBias, initWeights, INITIALIZERS, type Initializer } from './init.js'

export abstract class Module {
  abstract forward(x: Tensor): Tensor
  /** Parameters with dotted names (`layers.0.weight`), in a stable order. */
  abstract namedParameters(): [string, Tensor][]

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p)
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0)
  }
}

export interface LinearOptions {
  bias?: boolean
  init?: Initializer
  dtype?: DType
  rng?: Rng
}

export class Linear extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super()
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new EngineError('Linear', 'argument', `${name} must be a positive integer, got ${v}`)
    }
    const init = options.init ?? 'pytorch'
    if (!INITIALIZERS.includes(init)) throw new EngineError('Linear', 'argument', `unknown initialiser "${String(init)}"; expected one of ${INITIALIZERS.join(', ')}`)
    const rng = options.rng ?? globalRng
    const f64 = options.dtype === 'float64'
    const w = f64 ? new Float64Array(inFeatures * outFeatures) : new Float32Array(inFeatures * outFeatures)
    initWeights(init, w, inFeatures, outFeatures, rng)
    const be = currentBackend()
    this.weight = new Tensor(be.fromArray(w), [inFeatures, outFeatures], be, true)
    this.weight.label = 'weight'
    if (options.bias === false) {
      this.bias = null
    } else {
      const b = f64 ? new Float64Array(outFeatures) : new Float32Array(outFeatures)
      initBias(init, b, inFeatures, rng)
      this.bias = new Tensor(be.fromArray(b), [outFeatures], be, true)
      this.bias.label = 'bias'
    }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new EngineError('Linear', 'shape', `input has shape ${fmtShape(x.shape)}, expected [batch, ${this.inFeatures}]`)
    }
    const y = matmul(x, this.weight)
    return this.bias ? add(y, this.bias) : y
  }

  namedParameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]]
  }
}

export interface MLPOptions {
  /** One activation for every hidden layer, or one per layer (hidden layers + output). */
  activation?: Activation | readonly Activation[]
  /** Activation after the last layer when `activation` is a single name; default linear (logits). */
  outputActivation?: Activation
  init?: Initializer
  dtype?: DType
  rng?: Rng
  seed?: number
}

/** A multilayer perceptron: sizes [in, hidden..., out]. */
export class MLP extends Module {
  readonly layers: Linear[]
  readonly activations: Activation[]

  constructor(readonly sizes: readonly number[], options: MLPOptions = {}) {
    super()
    if (!Array.isArray(sizes) || sizes.length < 2) {
      throw new EngineError('MLP', 'argument', `sizes must list at least an input and an output size, got ${JSON.stringify(sizes)}`)
    }
    sizes.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 1) throw new EngineError('MLP', 'argument', `sizes[${i}] must be a positive integer, got ${s}`)
    })
    const nLayers = sizes.length - 1
    const act = options.activation ?? 'relu'
    if (typeof act === 'string') {
      this.activations = [...Array<Activation>(nLayers - 1).fill(act), options.outputActivation ?? 'linear']
    } else {
      if (act.length !== nLayers) throw new EngineError('MLP', 'argument', `got ${act.length} activations for ${nLayers} layers; give one per layer (including the output)`)
      this.activations = [...act]
    }
    this.activations.forEach((a, i) => {
      if (!ACTIVATIONS.includes(a)) throw new EngineError('MLP', 'argument', `activation of layer ${i} is "${String(a)}"; expected one of ${ACTIVATIONS.join(', ')}`)
    })
    const rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng)
    this.layers = []
    for (let i = 0; i < nLayers; i++) {
      this.layers.push(new Linear(sizes[i], sizes[i + 1], { init: options.init, dtype: options.dtype, rng }))
    }
  }

  forward(x: Tensor): Tensor {
    let h = x
    for (let i = 0; i < this.layers.length; i++) h = activate(this.layers[i].forward(h), this.activations[i])
    return h
  }

  namedParameters(): [string, Tensor][] {
    return this.layers.flatMap((l, i) => l.namedParameters().map(([n, p]): [string, Tensor] => [`layers.${i}.${n}`, p]))
  }
}
