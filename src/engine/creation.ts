// Making tensors: from numbers, nested arrays or typed arrays, and filled or random ones, on the
// backend the call names (the default backend, setBackend's, when it names none).
import type { Backend, DType, TypedArray } from './backends/backend.js'
import { currentBackend } from './backends/registry.js'
import { EngineError, fmtShape } from './errors.js'
import { globalRng, Rng } from './rng.js'
import { sizeOf, validateShape } from './shape.js'
import { Tensor } from './tensor.js'
import './chained-ops.js' // a tensor made here has its methods (t.add(), t.backward()) whoever imports this

export type NestedArray = number | readonly NestedArray[]

export interface TensorOptions {
  shape?: readonly number[]
  dtype?: DType
  requiresGrad?: boolean
  /** NaN/Inf are rejected by default: in a training tool they are a bug to report, not data. */
  allowNonFinite?: boolean
  /** Where the tensor lives; ops then run there. Default: the default backend (setBackend). */
  backend?: Backend
}

export interface RandomOptions {
  dtype?: DType
  requiresGrad?: boolean
  /** A generator to draw from; defaults to a fresh Rng(seed) if seed is given, else the global one. */
  rng?: Rng
  seed?: number
  /** Where the tensor lives (default: the default backend). */
  backend?: Backend
}

function checkDtype(op: string, dtype: unknown): DType {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new EngineError(op, 'dtype', `dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`)
  }
  return dtype
}

/** The backend a creation call names, or the default one; anything else is named in the error. */
function placement(op: string, backend: Backend | undefined): Backend {
  if (backend === undefined) return currentBackend()
  if (typeof backend !== 'object' || backend === null || typeof backend.fromArray !== 'function') {
    throw new EngineError(
      op,
      'argument',
      `options.backend must be a Backend (backends.get('cpu'), a tensor's .backend), got ${backend === null ? 'null' : typeof backend}`,
    )
  }
  return backend
}

function allocArray(n: number, dtype: DType): TypedArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n)
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = []
  let v: NestedArray = values
  while (Array.isArray(v)) {
    shape.push(v.length)
    if (v.length === 0) break
    v = (v as readonly NestedArray[])[0]
  }
  return shape
}

function flatten(values: NestedArray, shape: number[], out: TypedArray): void {
  let k = 0
  const walk = (v: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number')
        throw new EngineError(
          'tensor',
          'argument',
          `values${path} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number (shape ${fmtShape(shape)})`,
        )
      out[k++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new EngineError(
        'tensor',
        'shape',
        `ragged nested array at values${path}: expected ${shape[depth]} elements, got ${Array.isArray(v) ? v.length : typeof v}`,
      )
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`)
  }
  walk(values, 0, '')
}

export function tensor(values: NestedArray | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  const dtype = checkDtype('tensor', options.dtype ?? 'float32')
  let shape: number[]
  let data: TypedArray
  if (typeof values === 'number') {
    shape = options.shape ? validateShape('tensor', options.shape) : []
    if (sizeOf(shape) !== 1) throw new EngineError('tensor', 'shape', `a single number cannot fill shape ${fmtShape(shape)}`)
    data = allocArray(1, dtype)
    data[0] = values
  } else if (ArrayBuffer.isView(values) || (options.shape && Array.isArray(values) && !values.some(Array.isArray))) {
    const flat = values as ArrayLike<number>
    shape = options.shape ? validateShape('tensor', options.shape) : [flat.length]
    if (sizeOf(shape) !== flat.length) {
      throw new EngineError('tensor', 'shape', `shape ${fmtShape(shape)} needs ${sizeOf(shape)} values, got ${flat.length}`)
    }
    data = allocArray(flat.length, dtype)
    for (let i = 0; i < flat.length; i++) {
      if (typeof flat[i] !== 'number') throw new EngineError('tensor', 'argument', `values[${i}] is ${typeof flat[i]}, expected a number`)
      data[i] = flat[i]
    }
  } else if (Array.isArray(values)) {
    shape = inferShape(values as NestedArray)
    data = allocArray(sizeOf(shape), dtype)
    flatten(values as NestedArray, shape, data)
    if (options.shape) {
      const want = validateShape('tensor', options.shape)
      if (sizeOf(want) !== data.length)
        throw new EngineError('tensor', 'shape', `shape ${fmtShape(want)} needs ${sizeOf(want)} values, got ${data.length}`)
      shape = want
    }
  } else {
    throw new EngineError(
      'tensor',
      'argument',
      `values must be a number, a (nested) array or a typed array, got ${values === null ? 'null' : typeof values}`,
    )
  }
  if (!options.allowNonFinite) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new EngineError(
          'tensor',
          'nan',
          `values contain ${data[i]} at flat index ${i} (shape ${fmtShape(shape)}); pass allowNonFinite to keep it`,
        )
      }
    }
  }
  const be = placement('tensor', options.backend)
  return new Tensor(be.fromArray(data), shape, be, options.requiresGrad ?? false)
}

export function full(shape: readonly number[], value: number, options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  const s = validateShape('full', shape)
  const dtype = checkDtype('full', options.dtype ?? 'float32')
  const be = placement('full', options.backend)
  return new Tensor(be.full(sizeOf(s), value, dtype), s, be, options.requiresGrad ?? false)
}

export function zeros(shape: readonly number[], options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  return full(shape, 0, options)
}

export function ones(shape: readonly number[], options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  return full(shape, 1, options)
}

function random(op: string, shape: readonly number[], options: RandomOptions, draw: (rng: Rng) => number): Tensor {
  const s = validateShape(op, shape)
  const dtype = checkDtype(op, options.dtype ?? 'float32')
  const rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng)
  const data = allocArray(sizeOf(s), dtype)
  for (let i = 0; i < data.length; i++) data[i] = draw(rng)
  const be = placement(op, options.backend)
  return new Tensor(be.fromArray(data), s, be, options.requiresGrad ?? false)
}

/** Normal(mean, std) samples. */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = options
  return random('randn', shape, options, (r) => r.normal(mean, std))
}

/** Uniform samples in [low, high). */
export function uniform(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const { low = 0, high = 1 } = options
  if (!(high >= low)) throw new EngineError('uniform', 'argument', `high (${high}) must be >= low (${low})`)
  return random('uniform', shape, options, (r) => r.uniform(low, high))
}
