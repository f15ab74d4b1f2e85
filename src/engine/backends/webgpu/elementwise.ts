// Elementwise kernels: one generator for every map over aligned operands — unary ops, binary ops
// with NumPy broadcasting, expand and transpose (strided copies) and fill. The ops themselves
// are WGSL expressions in two tables; `satisfies` turns a missing kernel into a compile error.
import type { BinaryOp, Shape, UnaryOp } from '../backend.js'
import { EngineError } from '../../errors.js'
import { broadcastStrides, sizeOf, stridesOf } from '../../shape.js'
import { BINARY, UNARY } from '../cpu/elementwise.js'
import { GpuStorage, type BufRec } from './pool.js'
import { f32bits, type GpuRuntime } from './runtime.js'
import { ENTRY, MATH, groupsFor, header } from './wgsl.js'

/** x is the operand, p the op's scalar parameter (leakyRelu's slope). */
export const UNARY_WGSL = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log_(x)',
  relu: 'select(0.0, x, x > 0.0)',
  // tanh(±15) is ±1 in float32; unclamped, some implementations compute inf/inf = NaN
  tanh: 'tanh(clamp(x, -15.0, 15.0))',
  sigmoid: 'sigmoid_(x)',
  gelu: '0.5 * x * (1.0 + erf_(x * 0.7071067811865476))',
  leakyRelu: 'select(p * x, x, x > 0.0)',
  sign: 'sign(x)',
  step: 'select(0.0, 1.0, x > 0.0)',
  leakyStep: 'select(p, 1.0, x > 0.0)',
  geluGrad: '0.5 * (1.0 + erf_(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x)',
} satisfies Record<UnaryOp, string>

export const BINARY_WGSL = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
} satisfies Record<BinaryOp, string>

/**
 * How a kernel reads an operand: v at the output index, s its single element, c a constant
 * from the metadata (no buffer), g through strides over the output's (coalesced) dims.
 */
type Mode = 'v' | 's' | 'c' | 'g'

export interface Operand {
  storage: GpuStorage
  /** Element strides over the output dims (0 where broadcast). */
  strides: readonly number[]
}

/** Drop size-1 dims and merge neighbours that are contiguous for every operand. */
export function coalesce(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = []
  const outStrides = strides.map(() => [] as number[])
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue
    const last = outShape.length - 1
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d]
      strides.forEach((s, j) => (outStrides[j][last] = s[d]))
    } else {
      outShape.push(shape[d])
      strides.forEach((s, j) => outStrides[j].push(s[d]))
    }
  }
  return { shape: outShape, strides: outStrides }
}

function sameStrides(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** The operand's buffer, filling one first if the storage is a not-yet-materialised constant. */
export function bufferOf(rt: GpuRuntime, s: GpuStorage, op: string): BufRec {
  if (s.disposed) throw new EngineError(op, 'argument', 'a tensor was used after its storage was disposed')
  if (s.rec) return s.rec
  if (s.constant === null || s.size === 0) throw new EngineError(op, 'backend', 'storage has no GPU buffer')
  const rec = rt.pool.acquire(s.size * 4)
  mapInto(rt, COPY, [{ storage: s, strides: [] }], [s.size], [rec], [])
  rt.pool.adopt(s, rec)
  return rec
}

/**
 * An elementwise kernel: operands named `vars`, f32 scalars `params`, optional WGSL statements
 * (`body`), then one expression per output. `name` keys the pipeline cache, so it must name
 * the code.
 */
export interface MapKernel {
  name: string
  vars: readonly string[]
  params?: readonly string[]
  body?: string
  outputs: readonly string[]
}

const COPY: MapKernel = { name: 'copy', vars: ['x'], outputs: ['x'] }

// Metadata: n, nd, (2 spare), params, one constant per operand, dims, strides per 'g' operand.
function source(k: MapKernel, modes: readonly Mode[]): string {
  const params = k.params ?? []
  const consts = 4 + params.length
  const dims = consts + modes.length
  const buffers = modes.flatMap((m, j) => (m === 'c' ? [] : [`in${j}`]))
  const outs = k.outputs.map((_, i) => `out${i}`)
  const g = modes.flatMap((m, j) => (m === 'g' ? [j] : []))
  const lines: string[] = [header(buffers, 'f32', undefined, outs), MATH, ENTRY, '  if (t >= md[0]) { return; }']
  if (g.length > 0) {
    lines.push('  let nd = md[1];', '  var rem = t;')
    for (const j of g) lines.push(`  var o${j} = 0u;`)
    lines.push(
      `  for (var d = nd; d > 0u; d = d - 1u) {`,
      '    let k = d - 1u;',
      `    let dim = md[${dims}u + k];`,
      '    let c = rem % dim;',
      '    rem = rem / dim;',
    )
    g.forEach((j, gi) => lines.push(`    o${j} = o${j} + c * md[${dims}u + nd * ${gi + 1}u + k];`))
    lines.push('  }')
  }
  params.forEach((p, i) => lines.push(`  let ${p} = bitcast<f32>(md[${4 + i}]);`))
  modes.forEach((m, j) => {
    const load = m === 'v' ? `in${j}[t]` : m === 's' ? `in${j}[0]` : m === 'c' ? `bitcast<f32>(md[${consts + j}])` : `in${j}[o${j}]`
    lines.push(`  let ${k.vars[j]} = ${load};`)
  })
  if (k.body) lines.push(k.body)
  k.outputs.forEach((e, i) => lines.push(`  out${i}[t] = ${e};`))
  lines.push('}')
  return `// ${k.name}\n${lines.join('\n')}\n`
}

/**
 * Run `kernel` over `outShape`: one new storage per output. The pipeline is specialised per
 * read mode of each operand (after coalescing dims), so contiguous and scalar operands and
 * constants cost no index math.
 */
export function map(
  rt: GpuRuntime,
  kernel: MapKernel,
  operands: readonly Operand[],
  outShape: Shape,
  params: readonly number[] = [],
): GpuStorage[] {
  const outs = kernel.outputs.map(() => rt.pool.storage(sizeOf(outShape)))
  if (outs[0].rec)
    mapInto(
      rt,
      kernel,
      operands,
      outShape,
      outs.map((o) => o.rec!),
      params,
    )
  return outs
}

function mapInto(
  rt: GpuRuntime,
  kernel: MapKernel,
  operands: readonly Operand[],
  outShape: Shape,
  outs: BufRec[],
  params: readonly number[],
): void {
  const n = sizeOf(outShape)
  const modes: Mode[] = operands.map((o) => (o.storage.constant !== null ? 'c' : o.storage.size === 1 ? 's' : 'g'))
  const strided = operands.flatMap((o, j) => (modes[j] === 'g' ? [j] : []))
  const dims = coalesce(
    outShape,
    strided.map((j) => operands[j].strides),
  )
  const contiguous = stridesOf(dims.shape)
  strided.forEach((j, k) => {
    if (sameStrides(dims.strides[k], contiguous)) modes[j] = 'v'
  })
  const g = strided.filter((j) => modes[j] === 'g')
  const nd = dims.shape.length
  const consts = 4 + params.length
  const meta = new Array<number>(consts + operands.length + nd * (1 + g.length)).fill(0)
  meta[0] = n
  meta[1] = nd
  params.forEach((p, i) => (meta[4 + i] = f32bits(p)))
  operands.forEach((o, j) => {
    if (modes[j] === 'c') meta[consts + j] = f32bits(o.storage.constant!)
  })
  const dimsAt = consts + operands.length
  dims.shape.forEach((d, k) => (meta[dimsAt + k] = d))
  g.forEach((j, gi) => dims.strides[strided.indexOf(j)].forEach((s, k) => (meta[dimsAt + nd * (gi + 1) + k] = s)))
  const inputs = operands.flatMap((o, j) => (modes[j] === 'c' ? [] : [bufferOf(rt, o.storage, kernel.name)]))
  const pipeline = rt.pipeline(`map:${kernel.name}:${modes.join('')}`, inputs.length, () => source(kernel, modes), outs.length)
  rt.dispatch(pipeline, inputs, outs, meta, groupsFor(n))
}

export const contiguousOver = (s: GpuStorage): Operand => ({ storage: s, strides: s.size === 0 ? [] : [1] })

function kernels<K extends string>(table: Record<K, string>, vars: string[], params?: string[]): Record<K, MapKernel> {
  const out = {} as Record<K, MapKernel>
  for (const op of Object.keys(table) as K[]) out[op] = { name: op, vars, params, outputs: [table[op]] }
  return out
}

const UNARY_KERNELS = kernels(UNARY_WGSL, ['x'], ['p'])
const BINARY_KERNELS = kernels(BINARY_WGSL, ['a', 'b'])

export function unary(rt: GpuRuntime, op: UnaryOp, a: GpuStorage, param: number): GpuStorage {
  if (a.constant !== null) return new GpuStorage(a.size, null, Math.fround(UNARY[op](a.constant, param)))
  return map(rt, UNARY_KERNELS[op], [contiguousOver(a)], [a.size], [param])[0]
}

export function binary(
  rt: GpuRuntime,
  op: BinaryOp,
  a: GpuStorage,
  aShape: Shape,
  b: GpuStorage,
  bShape: Shape,
  outShape: Shape,
): GpuStorage {
  if (a.constant !== null && b.constant !== null) {
    return new GpuStorage(sizeOf(outShape), null, Math.fround(BINARY[op](a.constant, b.constant)))
  }
  const operands = [
    { storage: a, strides: broadcastStrides(aShape, outShape) },
    { storage: b, strides: broadcastStrides(bShape, outShape) },
  ]
  return map(rt, BINARY_KERNELS[op], operands, outShape)[0]
}

export function expand(rt: GpuRuntime, a: GpuStorage, shape: Shape, outShape: Shape): GpuStorage {
  if (a.constant !== null) return new GpuStorage(sizeOf(outShape), null, a.constant)
  return map(rt, COPY, [{ storage: a, strides: broadcastStrides(shape, outShape) }], outShape)[0]
}

/** Swap the last two axes: a copy that reads the input through swapped strides. */
export function transpose(rt: GpuRuntime, a: GpuStorage, shape: Shape): GpuStorage {
  if (a.constant !== null) return new GpuStorage(a.size, null, a.constant)
  const r = shape.length
  const outShape = [...shape.slice(0, -2), shape[r - 1], shape[r - 2]]
  const strides = stridesOf(shape)
  ;[strides[r - 2], strides[r - 1]] = [strides[r - 1], strides[r - 2]]
  return map(rt, COPY, [{ storage: a, strides }], outShape)[0]
}
