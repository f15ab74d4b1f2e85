// The WebGPU backend: float32 tensors that stay in GPU buffers, kernels in WGSL batched into as few
// submits as possible, values read back only when asked. It receives a GPUDevice; whoever creates
// it (the Node worker via Dawn, a browser via navigator.gpu) is the host's business.
import type {
  AdamStep,
  Backend,
  BinaryOp,
  DType,
  MatmulArgs,
  NormArgs,
  NormOp,
  ReduceOp,
  RunningStatsStep,
  SgdStep,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from '../backend.js'
import { EngineError } from '../../errors.js'
import { GpuStorage, type PoolStats } from './pool.js'
import { GpuRuntime, type RuntimeOptions } from './runtime.js'
import * as ew from './elementwise.js'
import * as red from './reduce.js'
import { matmul } from './matmul.js'
import * as fused from './optimizers.js'
import * as norms from './norm.js'

export type WebGpuOptions = RuntimeOptions
export type { PoolStats }

function float32Only(op: string): EngineError {
  return new EngineError(
    op,
    'dtype',
    "float64 tensors are not supported on the webgpu backend (WGSL has no 64-bit floats); use dtype 'float32', or setBackend('cpu') for float64",
  )
}

function gpu(s: Storage): GpuStorage {
  if (!(s instanceof GpuStorage))
    throw new EngineError('webgpu', 'backend', 'a tensor from another backend was passed to the webgpu backend')
  return s
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu'
  readonly rt: GpuRuntime

  constructor(
    readonly device: GPUDevice,
    options: WebGpuOptions = {},
  ) {
    this.rt = new GpuRuntime(device, options)
  }

  get isLost(): boolean {
    return this.rt.isLost
  }

  fromArray(data: TypedArray): Storage {
    this.rt.check('tensor')
    if (data instanceof Float64Array) throw float32Only('tensor')
    const s = new GpuStorage(data.length, null)
    if (data.length === 0) return s
    const rec = this.rt.pool.acquire(data.byteLength, true)
    this.device.queue.writeBuffer(rec.buffer, 0, data.buffer, data.byteOffset, data.byteLength)
    this.rt.pool.adopt(s, rec)
    return s
  }

  full(size: number, value: number, dtype: DType): Storage {
    this.rt.check('full')
    if (dtype !== 'float32') throw float32Only('full')
    // Filled lazily: kernels take the value from their metadata until a buffer is needed.
    return new GpuStorage(size, null, Math.fround(value))
  }

  async read(s: Storage): Promise<TypedArray> {
    const g = gpu(s)
    this.rt.check('read')
    if (g.disposed) throw new EngineError('read', 'argument', 'the tensor was disposed')
    if (g.size === 0) return new Float32Array(0)
    if (g.constant !== null) return new Float32Array(g.size).fill(g.constant)
    return this.rt.read(g, g.rec!, g.size)
  }

  cast(s: Storage, dtype: DType): Storage {
    this.rt.check('cast')
    if (dtype !== 'float32') throw float32Only('cast')
    return gpu(s) // tensors are immutable, so the same storage serves
  }

  unary(op: UnaryOp, a: Storage, param = 0): Storage {
    this.rt.check(op)
    return ew.unary(this.rt, op, gpu(a), param)
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    this.rt.check(op)
    return ew.binary(this.rt, op, gpu(a), aShape, gpu(b), bShape, outShape)
  }

  reduce(op: ReduceOp, a: Storage, shape: Shape, axis: number): Storage {
    this.rt.check(op)
    return red.reduce(this.rt, op, gpu(a), shape, axis)
  }

  argmaxOneHot(a: Storage, shape: Shape, axis: number): Storage {
    this.rt.check('max')
    return red.argmaxOneHot(this.rt, gpu(a), shape, axis)
  }

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    this.rt.check('matmul')
    return matmul(this.rt, gpu(a), gpu(b), args)
  }

  transpose(a: Storage, shape: Shape): Storage {
    this.rt.check('transpose')
    return ew.transpose(this.rt, gpu(a), shape)
  }

  expand(a: Storage, shape: Shape, outShape: Shape): Storage {
    this.rt.check('expand')
    return ew.expand(this.rt, gpu(a), shape, outShape)
  }

  adamStep(p: Storage, g: Storage, m: Storage | null, v: Storage | null, o: AdamStep): { p: Storage; m: Storage; v: Storage } {
    this.rt.check('Adam.step')
    return fused.adamStep(this.rt, gpu(p), gpu(g), m && gpu(m), v && gpu(v), o)
  }

  sgdStep(p: Storage, g: Storage, buf: Storage | null, o: SgdStep): { p: Storage; buf: Storage | null } {
    this.rt.check('SGD.step')
    return fused.sgdStep(this.rt, gpu(p), gpu(g), buf && gpu(buf), o)
  }

  runningStats(runningMean: Storage, runningVar: Storage, mean: Storage, variance: Storage, o: RunningStatsStep) {
    this.rt.check('batchNorm')
    return norms.runningStats(this.rt, gpu(runningMean), gpu(runningVar), gpu(mean), gpu(variance), o)
  }

  norm(op: NormOp, x: Storage, weight: Storage | null, bias: Storage | null, a: NormArgs) {
    this.rt.check(op)
    return norms.norm(this.rt, op, gpu(x), weight && gpu(weight), bias && gpu(bias), a)
  }

  normGrad(op: NormOp, dy: Storage, x: Storage, mean: Storage, variance: Storage, weight: Storage | null, a: NormArgs) {
    this.rt.check(op)
    return norms.normGrad(this.rt, op, gpu(dy), gpu(x), gpu(mean), gpu(variance), weight && gpu(weight), a)
  }

  dispose(s: Storage): void {
    this.rt.pool.disposeStorage(gpu(s))
  }

  /** Buffers and bytes the pool holds: flat over a training run when nothing leaks. */
  memory(): PoolStats {
    return this.rt.pool.snapshot()
  }

  /** Kernels encoded, queue submits and read-backs since the backend was made. */
  counters(): { dispatches: number; submits: number; reads: number } {
    return { ...this.rt.counters }
  }

  /** Submit pending kernels and wait until the GPU has run them (timing, tests). */
  sync(): Promise<void> {
    return this.rt.sync()
  }
}
