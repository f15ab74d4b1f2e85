// Tensor: shape, dtype, a backend storage handle, and its place in the autograd graph
// (_prev: the inputs it was computed from, _op and _backward: the op and its local rule).
// It imports no op: the chained methods (t.add(), t.backward()) are attached by chained-ops.ts,
// so ops and autograd can import this module without a cycle.
import type { Backend, DType, Shape, Storage, TypedArray } from './backends/backend.js'
import { EngineError, fmtShape } from './errors.js'
import { sizeOf, sameShape } from './shape.js'

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
    if (this.size !== 1)
      throw new EngineError('item', 'shape', `only a one-element tensor has an item; this one has shape ${fmtShape(this.shape)}`)
    return (await this.data())[0]
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
      throw new EngineError(
        'assign',
        'shape',
        `value has shape ${fmtShape(value.shape)} ${value.dtype} on ${value.backend.name}, expected ${fmtShape(this.shape)} ${this.dtype} on ${this.backend.name}`,
      )
    }
    this.storage = value.storage
  }

  /**
   * This tensor on `backend` (in `dtype`): itself when it is already there, else a copy (see copyTo).
   * Moving is how operands of one op get onto one backend; ops never move data implicitly.
   */
  to(backend: Backend, dtype: DType = this.dtype): Tensor {
    return backend === this.backend && dtype === this.dtype ? this : this.copyTo(backend, dtype)
  }

  /**
   * A copy on `backend` in `dtype`, cut from the graph (gradients do not flow back through a move);
   * it keeps the label, and a leaf keeps requiresGrad so a moved parameter still trains. Leaving a
   * backend that reads only asynchronously (webgpu) takes an await: read with t.data() instead.
   */
  copyTo(backend: Backend, dtype: DType = this.dtype): Tensor {
    let storage: Storage
    if (backend === this.backend) {
      storage = backend.cast(this.storage, dtype)
    } else {
      const read = this.backend.readSync
      if (!read) {
        throw new EngineError(
          'to',
          'backend',
          `a tensor ${fmtShape(this.shape)} on ${this.backend.name} cannot move to ${backend.name} synchronously (${this.backend.name} reads asynchronously); read it with await t.data() and make it with tensor(values, { backend })`,
        )
      }
      const values = read.call(this.backend, this.storage)
      storage = backend.fromArray(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values))
    }
    const t = new Tensor(storage, this.shape, backend, this.isLeaf && this.requiresGrad)
    t.label = this.label
    return t
  }

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
