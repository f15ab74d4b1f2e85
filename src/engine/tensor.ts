// Tensor: shape, dtype, a backend storage handle, and its place in the autograd graph
// (_prev: the inputs it was computed from, _op and _backward: the op and its local rule).
import type { Backend, DType, Shape, Storage, TypedArray } from './backends/backend.js'
import { EngineError, fmtShape } from './errors.js'
import { sizeOf, sameShape } from './shape.js'
import { backward as runBackward, type BackwardOptions } from './autograd.js'
import * as ops from './ops/index.js'

export type TensorLike = Tensor | number
/** A primitive's local backward rule: the upstream gradient in, one gradient per input out. */
export type BackwardFn = (g: Tensor, out: Tensor) => readonly (Tensor | null)[]

/** Flags an op records on its output so a graph view can state its backward rule exactly. */
export interface OpMeta {
  readonly transA?: boolean
  readonly transB?: boolean
}

const NO_INPUTS: readonly Tensor[] = []
let nextId = 1

export class Tensor {
  readonly id = nextId++
  readonly shape: readonly number[]
  readonly backend: Backend
  storage: Storage
  requiresGrad: boolean
  grad: Tensor | null = null
  label = ''
  _prev: readonly Tensor[] = NO_INPUTS
  _op = ''
  _backward: BackwardFn | null = null
  _retainGrad = false
  /** What an op recorded about how it read its inputs, for inspection (matmul's transposes). */
  _meta: OpMeta | null = null

  constructor(storage: Storage, shape: Shape, backend: Backend, requiresGrad = false) {
    this.storage = storage
    this.shape = shape
    this.backend = backend
    this.requiresGrad = requiresGrad
  }

  get dtype(): DType {
    return this.storage.dtype
  }
  get size(): number {
    return this.storage.size
  }
  get ndim(): number {
    return this.shape.length
  }
  /** A leaf is a tensor the user made (not the output of a recorded op). */
  get isLeaf(): boolean {
    return this._backward === null
  }

  /** Values as a flat typed array (a copy). The one explicit, async way to read a tensor. */
  data(): Promise<TypedArray> {
    return this.backend.read(this.storage)
  }

  /** Synchronous read, CPU backend only (tests, data loading). Returns a copy. */
  dataSync(): TypedArray {
    const read = this.backend.readSync
    if (!read) throw new EngineError('dataSync', 'backend', `the ${this.backend.name} backend reads asynchronously; use await t.data()`)
    return read.call(this.backend, this.storage).slice()
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new EngineError('item', 'shape', `only a one-element tensor has an item; this one has shape ${fmtShape(this.shape)}`)
    return (await this.data())[0]
  }

  backward(grad?: Tensor, options?: BackwardOptions): void {
    runBackward(this, grad, options)
  }

  zeroGrad(): void {
    this.grad = null
  }

  /** Keep this intermediate tensor's gradient after backward (leaves always keep theirs). */
  retainGrad(): this {
    this._retainGrad = true
    return this
  }

  /** Same values, cut from the graph. Shares storage. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.backend, false)
  }

  /**
   * Replace this tensor's values in place (optimiser updates); shape and dtype must match.
   * The old storage is not disposed here: a detached view or a graph may still read it, so its
   * memory goes back when the last reference is collected.
   */
  assign(value: Tensor): void {
    if (!sameShape(value.shape, this.shape) || value.dtype !== this.dtype || value.backend !== this.backend) {
      throw new EngineError('assign', 'shape', `value has shape ${fmtShape(value.shape)} ${value.dtype} on ${value.backend.name}, expected ${fmtShape(this.shape)} ${this.dtype} on ${this.backend.name}`)
    }
    this.storage = value.storage
  }

  add(b: TensorLike): Tensor { return ops.add(this, b) }
  sub(b: TensorLike): Tensor { return ops.sub(this, b) }
  mul(b: TensorLike): Tensor { return ops.mul(this, b) }
  div(b: TensorLike): Tensor { return ops.div(this, b) }
  pow(b: TensorLike): Tensor { return ops.pow(this, b) }
  neg(): Tensor { return ops.neg(this) }
  exp(): Tensor { return ops.exp(this) }
  log(): Tensor { return ops.log(this) }
  sqrt(): Tensor { return ops.sqrt(this) }
  abs(): Tensor { return ops.abs(this) }
  relu(): Tensor { return ops.relu(this) }
  leakyRelu(alpha = 0.01): Tensor { return ops.leakyRelu(this, alpha) }
  tanh(): Tensor { return ops.tanh(this) }
  sigmoid(): Tensor { return ops.sigmoid(this) }
  gelu(): Tensor { return ops.gelu(this) }
  matmul(b: Tensor): Tensor { return ops.matmul(this, b) }
  transpose(): Tensor { return ops.transpose(this) }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape) }
  expand(shape: readonly number[]): Tensor { return ops.expand(this, shape) }
  sum(axis?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims) }
  mean(axis?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims) }
  max(axis?: number | readonly number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims) }
  softmax(axis = -1): Tensor { return ops.softmax(this, axis) }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis) }

  toString(): string {
    const grad = this.requiresGrad ? ', requiresGrad' : ''
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name}${this._op ? `, op=${this._op}` : ''}${grad})`
  }
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor
}

export function checkSize(op: string, shape: Shape, n: number): void {
  if (sizeOf(shape) !== n) throw new EngineError(op, 'shape', `shape ${fmtShape(shape)} needs ${sizeOf(shape)} values, got ${n}`)
}
