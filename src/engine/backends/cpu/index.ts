// The CPU backend: the reference implementation every other backend is tested against.
// Storage is a plain typed array; memory belongs to the garbage collector.
import type {
  ActivationGradOp,
  AdamStep,
  Backend,
  BinaryOp,
  SgdStep,
  DType,
  MatmulArgs,
  NormArgs,
  NormOp,
  ReduceOp,
  RunningStatsStep,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from '../backend.js'
import { sizeOf } from '../../shape.js'
import { binaryInto, expandInto, unaryInto } from './elementwise.js'
import { BINARY_2D, activationGradInto, softmaxCrossEntropyInto } from './strided.js'
import { argmaxOneHotInto, reduceInto } from './reduce.js'
import { matmulInto, transposeInto } from './matmul.js'
import { adamStep, sgdStep } from './optimizers.js'
import { NORM } from './norm.js'
import { runningStats } from './running-stats.js'

export class CpuStorage implements Storage {
  constructor(readonly data: TypedArray) {}
  get size(): number {
    return this.data.length
  }
  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32'
  }
}

function alloc(size: number, dtype: DType): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size)
}

function arr(s: Storage): TypedArray {
  return (s as CpuStorage).data
}

export class CpuBackend implements Backend {
  readonly name = 'cpu'

  fromArray(data: TypedArray): Storage {
    return new CpuStorage(data)
  }

  full(size: number, value: number, dtype: DType): Storage {
    const d = alloc(size, dtype)
    if (value !== 0) d.fill(value)
    return new CpuStorage(d)
  }

  read(s: Storage): Promise<TypedArray> {
    return Promise.resolve(arr(s).slice())
  }

  /** The live array, not a copy: callers inside the engine must not write to it. */
  readSync(s: Storage): TypedArray {
    return arr(s)
  }

  cast(s: Storage, dtype: DType): Storage {
    const out = alloc(s.size, dtype)
    out.set(arr(s))
    return new CpuStorage(out)
  }

  unary(op: UnaryOp, a: Storage, param = 0): Storage {
    const out = alloc(a.size, a.dtype)
    unaryInto(op, arr(a), out, param)
    return new CpuStorage(out)
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const out = alloc(sizeOf(outShape), a.dtype)
    binaryInto(op, arr(a), aShape, arr(b), bShape, out, outShape)
    return new CpuStorage(out)
  }

  addInto(dst: Storage, src: Storage): void {
    const d = arr(dst)
    BINARY_2D.add(d, arr(src), d, 1, d.length, 0, 1, 0, 1)
  }

  reduce(op: ReduceOp, a: Storage, shape: Shape, axis: number): Storage {
    const out = alloc(sizeOf(shape.filter((_, i) => i !== axis)), a.dtype)
    reduceInto(op, arr(a), shape, axis, out)
    return new CpuStorage(out)
  }

  argmaxOneHot(a: Storage, shape: Shape, axis: number): Storage {
    const out = alloc(a.size, a.dtype)
    argmaxOneHotInto(arr(a), shape, axis, out)
    return new CpuStorage(out)
  }

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    const out = alloc(sizeOf(args.outShape), a.dtype)
    matmulInto(arr(a), arr(b), out, args)
    return new CpuStorage(out)
  }

  transpose(a: Storage, shape: Shape): Storage {
    const out = alloc(a.size, a.dtype)
    transposeInto(arr(a), shape, out)
    return new CpuStorage(out)
  }

  expand(a: Storage, shape: Shape, outShape: Shape): Storage {
    const out = alloc(sizeOf(outShape), a.dtype)
    expandInto(arr(a), shape, out, outShape)
    return new CpuStorage(out)
  }

  norm(op: NormOp, x: Storage, weight: Storage | null, bias: Storage | null, a: NormArgs) {
    const groups = op === 'batchNorm' ? a.features : a.rows
    const r = { out: alloc(x.size, x.dtype), mean: alloc(groups, x.dtype), variance: alloc(groups, x.dtype) }
    NORM[op].forward(arr(x), weight && arr(weight), bias && arr(bias), a, r)
    return { out: new CpuStorage(r.out), mean: new CpuStorage(r.mean), variance: new CpuStorage(r.variance) }
  }

  normGrad(op: NormOp, dy: Storage, x: Storage, mean: Storage, variance: Storage, weight: Storage | null, a: NormArgs) {
    const r = { dx: alloc(x.size, x.dtype), dweight: alloc(a.features, x.dtype), dbias: alloc(a.features, x.dtype) }
    NORM[op].backward(arr(dy), arr(x), arr(mean), arr(variance), weight && arr(weight), a, r)
    return { dx: new CpuStorage(r.dx), dweight: new CpuStorage(r.dweight), dbias: new CpuStorage(r.dbias) }
  }

  runningStats(runningMean: Storage, runningVar: Storage, mean: Storage, variance: Storage, o: RunningStatsStep) {
    const r = runningStats(arr(runningMean), arr(runningVar), arr(mean), arr(variance), o)
    return { mean: new CpuStorage(r.mean), variance: new CpuStorage(r.variance) }
  }

  dispose(): void {}

  activationGrad(op: ActivationGradOp, g: Storage, yOrX: Storage): Storage {
    const out = alloc(g.size, g.dtype)
    activationGradInto(op, arr(g), arr(yOrX), out)
    return new CpuStorage(out)
  }

  softmaxCrossEntropy(logits: Storage, target: Storage, rows: number, classes: number): { loss: Storage; grad: Storage } {
    const grad = alloc(logits.size, logits.dtype)
    const loss = alloc(1, logits.dtype)
    loss[0] = softmaxCrossEntropyInto(arr(logits), arr(target), rows, classes, grad)
    return { loss: new CpuStorage(loss), grad: new CpuStorage(grad) }
  }

  readonly adamStepInPlace = true

  adamStep(p: Storage, g: Storage, m: Storage | null, v: Storage | null, o: AdamStep): { p: Storage; m: Storage; v: Storage } {
    const r = adamStep(arr(p), arr(g), m && arr(m), v && arr(v), o)
    return { p: new CpuStorage(r.p), m: m ?? new CpuStorage(r.m), v: v ?? new CpuStorage(r.v) }
  }

  sgdStep(p: Storage, g: Storage, buf: Storage | null, o: SgdStep): { p: Storage; buf: Storage | null } {
    const r = sgdStep(arr(p), arr(g), buf && arr(buf), o)
    return { p: new CpuStorage(r.p), buf: r.buf && new CpuStorage(r.buf) }
  }
}

export const cpuBackend = new CpuBackend()

export { cpuMatmulKernel, setCpuMatmulKernel, type CpuMatmulKernelChoice, type CpuMatmulKernelInfo } from './matmul.js'
