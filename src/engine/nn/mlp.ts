// The MLP the studio trains: Linear layers with an activation each, and per hidden layer an
// optional block of extras — a norm (BatchNorm1d or LayerNorm) before the layer (pre), between the
// layer and its activation (mid) or after the activation (post), dropout on the activation's
// output, and a residual connection adding the layer's input to its output:
//   pre   x + act(W·norm(x))      mid   x + act(norm(W·x))      post  norm(x + act(W·x))
// (without the residual, drop the `x +`; dropout applies to act(…) before the sum). A residual
// needs equal input and output widths: a mismatch is refused, never bridged by a hidden projection.
import type { Backend, DType } from '../backends/backend.js'
import { EngineError } from '../errors.js'
import { add } from '../ops/index.js'
import { globalRng, Rng } from '../rng.js'
import type { Tensor } from '../tensor.js'
import { ACTIVATIONS, activate, type Activation } from './activations.js'
import { Dropout } from './dropout.js'
import type { Initializer } from './init.js'
import { Linear, Module, placementOf, type CloneOptions } from './module.js'
import { BatchNorm1d, LayerNorm } from './normalization.js'

export const NORM_KINDS = ['none', 'batch', 'layer'] as const
export type NormKind = (typeof NORM_KINDS)[number]
export const NORM_PLACES = ['pre', 'mid', 'post'] as const
export type NormPlace = (typeof NORM_PLACES)[number]

/** A hidden layer's extras; every field defaults to "none" (a plain layer). */
export interface Block {
  norm: NormKind
  /** Where the norm sits (see the file comment); default mid. */
  normAt: NormPlace
  /** Probability of zeroing each unit of the activation's output in train mode; 0: no dropout. */
  dropout: number
  residual: boolean
}

const PLAIN: Readonly<Block> = Object.freeze({ norm: 'none', normAt: 'mid', dropout: 0, residual: false })

export type Norm = BatchNorm1d | LayerNorm

/** One layer's outputs in a forward pass: its activation's output, and what the next layer reads. */
export interface LayerOutput {
  /** act(…): before dropout, the residual sum and a post norm (dead and saturated units are read here). */
  activation: Tensor
  /** The layer's output, the next layer's input (the logits for the last layer). */
  output: Tensor
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
  /** Where the parameters live (default: the default backend). */
  backend?: Backend
  /** Start from copies of these layers' values instead of drawing them (clone); sizes must match. */
  from?: readonly Linear[]
  /**
   * These layers themselves, not copies (the MLP takes them over): a copy assembled layer by
   * layer, e.g. the host's inspection copy of a big model, allocated in pieces. Sizes must match;
   * their dtype and backend are the model's.
   */
  layers?: readonly Linear[]
  /** One per hidden layer (absent, or fields left out: plain layers). */
  blocks?: readonly Partial<Block>[]
  /** Start the norms from copies of these (clone): parameters and running statistics. */
  fromNorms?: readonly (Norm | null)[]
  /** The generator every dropout layer draws its masks from (default: `rng`, after the weights are drawn). */
  dropoutRng?: Rng
}

/** A multilayer perceptron: sizes [in, hidden..., out], with optional blocks on the hidden layers. */
export class MLP extends Module {
  /** The Linear layers, output layer last. */
  readonly layers: Linear[]
  readonly activations: Activation[]
  /** Per hidden layer, filled in. */
  readonly blocks: Block[]
  /** Per hidden layer: its norm, or null. */
  readonly norms: (Norm | null)[]
  /** Per hidden layer: its dropout, or null. */
  readonly dropouts: (Dropout | null)[]
  /** Per hidden layer: whether its input is added to its output. */
  readonly residual: boolean[]
  /** What the dropout layers draw from (save its state with a checkpoint); null without dropout. */
  readonly dropoutRng: Rng | null

  constructor(
    readonly sizes: readonly number[],
    options: MLPOptions = {},
  ) {
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
      if (act.length !== nLayers)
        throw new EngineError(
          'MLP',
          'argument',
          `got ${act.length} activations for ${nLayers} layers; give one per layer (including the output)`,
        )
      this.activations = [...act]
    }
    this.activations.forEach((a, i) => {
      if (!ACTIVATIONS.includes(a))
        throw new EngineError('MLP', 'argument', `activation of layer ${i} is "${String(a)}"; expected one of ${ACTIVATIONS.join(', ')}`)
    })
    for (const key of ['from', 'layers'] as const) {
      const given = options[key]
      if (given && given.length !== nLayers)
        throw new EngineError('MLP', 'argument', `${key} has ${given.length} layers, sizes ${JSON.stringify(sizes)} make ${nLayers}`)
    }
    if (options.from && options.layers) throw new EngineError('MLP', 'argument', 'give from (copied) or layers (taken over), not both')
    options.layers?.forEach((l, i) => {
      if (l.inFeatures !== sizes[i] || l.outFeatures !== sizes[i + 1])
        throw new EngineError('MLP', 'shape', `layers[${i}] is ${l.inFeatures}→${l.outFeatures}, sizes make it ${sizes[i]}→${sizes[i + 1]}`)
      const w = options.layers![0].weight
      if (l.weight.dtype !== w.dtype || l.weight.backend !== w.backend)
        throw new EngineError(
          'MLP',
          'argument',
          `layers[${i}] is ${l.weight.dtype} on ${l.weight.backend.name}, layers[0] ${w.dtype} on ${w.backend.name}`,
        )
    })
    this.blocks = checkBlocks(sizes, options.blocks)
    const rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng)
    const { init, dtype, backend, from } = options
    this.layers = []
    for (let i = 0; i < nLayers; i++) {
      this.layers.push(options.layers?.[i] ?? new Linear(sizes[i], sizes[i + 1], { init, dtype, rng, backend, from: from?.[i] }))
    }
    const placed = { dtype: this.layers[0].weight.dtype, backend: this.layers[0].weight.backend }
    this.norms = this.blocks.map((b, i) => makeNorm(b, normWidth(sizes, i, b), options.fromNorms?.[i], placed, i))
    const drops = this.blocks.some((b) => b.dropout > 0)
    this.dropoutRng = drops ? (options.dropoutRng ?? rng) : null
    this.dropouts = this.blocks.map((b) => (b.dropout > 0 ? new Dropout(b.dropout, { rng: this.dropoutRng! }) : null))
    this.residual = this.blocks.map((b) => b.residual)
  }

  clone(options: CloneOptions = {}): MLP {
    const { backend, dtype } = placementOf(this, options)
    // The private Rng is never drawn from (`from` gives every value): the global one stays untouched.
    // The dropouts keep drawing from this model's generator, so a device copy and its mirror share it.
    return new MLP(this.sizes, {
      activation: this.activations,
      backend,
      dtype,
      from: this.layers,
      rng: new Rng(0),
      blocks: this.blocks,
      fromNorms: this.norms,
      dropoutRng: this.dropoutRng ?? undefined,
    }).train(this.training)
  }

  /** Layer i (0-based) on its input x: its activation's output and its own output (the block's, for a hidden layer). */
  forwardLayer(i: number, x: Tensor): LayerOutput {
    const last = i === this.layers.length - 1
    if (last) {
      const out = activate(this.layers[i].forward(x), this.activations[i])
      return { activation: out, output: out }
    }
    const { normAt } = this.blocks[i]
    const norm = this.norms[i]
    let h = norm && normAt === 'pre' ? norm.forward(x) : x
    h = this.layers[i].forward(h)
    if (norm && normAt === 'mid') h = norm.forward(h)
    const a = activate(h, this.activations[i])
    h = this.dropouts[i]?.forward(a) ?? a
    if (this.residual[i]) h = add(x, h)
    if (norm && normAt === 'post') h = norm.forward(h)
    return { activation: a, output: h }
  }

  /** Layers from..to-1 starting from `x`, the input of layer `from`: each one's outputs, in order. */
  forwardLayers(x: Tensor, from = 0, to = this.layers.length): LayerOutput[] {
    const outs: LayerOutput[] = []
    let h = x
    for (let i = from; i < to; i++) {
      const o = this.forwardLayer(i, h)
      outs.push(o)
      h = o.output
    }
    return outs
  }

  forward(x: Tensor): Tensor {
    let h = x
    for (let i = 0; i < this.layers.length; i++) h = this.forwardLayer(i, h).output
    return h
  }

  override children(): readonly Module[] {
    const extras: Module[] = []
    for (const m of [...this.norms, ...this.dropouts]) if (m) extras.push(m)
    return [...this.layers, ...extras]
  }

  /** `layers.{i}.weight/bias` for every Linear, then `norms.{i}.weight/bias` for each hidden layer's norm. */
  namedParameters(): [string, Tensor][] {
    const linear = this.layers.flatMap((l, i) => l.namedParameters().map(([n, p]): [string, Tensor] => [`layers.${i}.${n}`, p]))
    return [...linear, ...this.normEntries((n) => n.namedParameters())]
  }

  /** BatchNorm1d's running statistics: `norms.{i}.running_mean`, `.running_var`, `.num_batches_tracked`. */
  override namedBuffers(): [string, Tensor][] {
    return this.normEntries((n) => n.namedBuffers())
  }

  private normEntries(of: (n: Norm) => [string, Tensor][]): [string, Tensor][] {
    return this.norms.flatMap((n, i) => (n ? of(n).map(([k, t]): [string, Tensor] => [`norms.${i}.${k}`, t]) : []))
  }
}

/** The width hidden layer i's norm normalises: its input (pre) or its output (mid, post). */
export function normWidth(sizes: readonly number[], i: number, b: Block): number {
  return b.normAt === 'pre' ? sizes[i] : sizes[i + 1]
}

function checkBlocks(sizes: readonly number[], blocks: readonly Partial<Block>[] | undefined): Block[] {
  const hidden = sizes.length - 2
  if (blocks && blocks.length !== hidden) {
    throw new EngineError('MLP', 'argument', `got ${blocks.length} blocks for ${hidden} hidden layers; give one per hidden layer`)
  }
  return Array.from({ length: hidden }, (_, i) => {
    const b: Block = { ...PLAIN, ...(blocks?.[i] ?? {}) }
    const at = `blocks[${i}]`
    if (!NORM_KINDS.includes(b.norm))
      throw new EngineError('MLP', 'argument', `${at}.norm is "${String(b.norm)}"; expected one of ${NORM_KINDS.join(', ')}`)
    if (!NORM_PLACES.includes(b.normAt))
      throw new EngineError('MLP', 'argument', `${at}.normAt is "${String(b.normAt)}"; expected one of ${NORM_PLACES.join(', ')}`)
    if (typeof b.dropout !== 'number' || !(b.dropout >= 0 && b.dropout < 1))
      throw new EngineError('MLP', 'argument', `${at}.dropout must be a probability in [0, 1), got ${b.dropout}`)
    if (b.residual && sizes[i] !== sizes[i + 1]) {
      throw new EngineError(
        'MLP',
        'shape',
        `${at}.residual adds hidden layer ${i + 1}'s input (width ${sizes[i]}) to its output (width ${sizes[i + 1]}); a residual connection needs equal widths`,
      )
    }
    return b
  })
}

function makeNorm(
  b: Block,
  width: number,
  from: Norm | null | undefined,
  placed: { dtype: DType; backend: Backend },
  i: number,
): Norm | null {
  if (b.norm === 'none') return null
  if (from) {
    const kind = from instanceof BatchNorm1d ? 'batch' : 'layer'
    if (kind !== b.norm || from.features !== width) {
      throw new EngineError(
        'MLP',
        'argument',
        `fromNorms[${i}] is a ${kind} norm of width ${from.features}; blocks[${i}] needs a ${b.norm} norm of width ${width}`,
      )
    }
    return from.clone(placed)
  }
  return b.norm === 'batch' ? new BatchNorm1d(width, placed) : new LayerNorm(width, placed)
}
