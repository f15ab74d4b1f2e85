// The blocked kernels against a naive float64 triple loop: odd sizes (edge tiles), depths past one
// K block, widths past one N block, every transpose combination and broadcast batch dims — on
// both float32 kernels (WebAssembly SIMD and TS); float64 always runs the TS one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DType, MatmulArgs, Shape } from '../backend.js'
import { cpuBackend, cpuMatmulKernel, setCpuMatmulKernel } from './index.js'

function naive(
  a: Float64Array,
  b: Float64Array,
  args: MatmulArgs,
  m: number,
  k: number,
  n: number,
  batch: number,
  aBatch: number,
  bBatch: number,
): Float64Array {
  const out = new Float64Array(batch * m * n)
  const { transA, transB } = args
  for (let t = 0; t < batch; t++) {
    const oa = (aBatch === 1 ? 0 : t) * m * k
    const ob = (bBatch === 1 ? 0 : t) * k * n
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) s += a[oa + (transA ? p * m + i : i * k + p)] * b[ob + (transB ? j * k + p : p * n + j)]
        out[t * m * n + i * n + j] = s
      }
    }
  }
  return out
}

function check(m: number, k: number, n: number, transA: boolean, transB: boolean, dtype: DType, aBatch = 0, bBatch = 0): void {
  let seed = m * 7919 + k * 104729 + n * 31 + (transA ? 1 : 0) + (transB ? 2 : 0)
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1
  const batch = Math.max(aBatch, bBatch, 1)
  const a64 = Float64Array.from({ length: Math.max(aBatch, 1) * m * k }, rand)
  const b64 = Float64Array.from({ length: Math.max(bBatch, 1) * k * n }, rand)
  const lift = (x: Float64Array): Float32Array | Float64Array => (dtype === 'float32' ? Float32Array.from(x) : x)
  const a = lift(a64)
  const b = lift(b64)
  const mat = (r: number, c: number, nb: number): Shape => (nb ? [nb, r, c] : [r, c])
  const args: MatmulArgs = {
    aShape: transA ? mat(k, m, aBatch) : mat(m, k, aBatch),
    bShape: transB ? mat(n, k, bBatch) : mat(k, n, bBatch),
    transA,
    transB,
    outShape: aBatch || bBatch ? [batch, m, n] : [m, n],
  }
  const got = cpuBackend.readSync(cpuBackend.matmul(cpuBackend.fromArray(a), cpuBackend.fromArray(b), args))
  const want = naive(Float64Array.from(a), Float64Array.from(b), args, m, k, n, batch, Math.max(aBatch, 1), Math.max(bBatch, 1))
  expect(got.length).toBe(want.length)
  const tol = dtype === 'float64' ? 1e-12 : 1e-5
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i])) * Math.sqrt(k)) {
      throw new Error(`[${m},${k}]·[${k},${n}] tA=${transA} tB=${transB} ${dtype}: element ${i} is ${got[i]}, want ${want[i]}`)
    }
  }
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 4099, 1],
  [17, 31, 13],
  [4, 4, 256],
  [5, 1000, 3],
  [67, 300, 129],
  [3, 5, 600],
  [1, 64, 97],
  [97, 64, 1],
  [130, 2, 33],
]

for (const kernel of ['wasm', 'ts'] as const) {
  describe(`cpu matmul, ${kernel} float32 kernel (blocked kernel vs naive float64)`, () => {
    const before = cpuMatmulKernel().choice
    beforeAll(() => {
      setCpuMatmulKernel(kernel)
    })
    afterAll(() => {
      setCpuMatmulKernel(before)
    })
    it('runs the chosen kernel', () => {
      expect(cpuMatmulKernel().kernel.startsWith(kernel)).toBe(true)
    })
    for (const dtype of ['float64', 'float32'] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          it(`${dtype} transA=${transA} transB=${transB}`, () => {
            for (const [m, k, n] of SHAPES) check(m, k, n, transA, transB, dtype)
          })
        }
      }
      it(`${dtype} batch dims broadcast`, () => {
        check(19, 37, 23, false, false, dtype, 3, 1)
        check(19, 37, 23, true, false, dtype, 1, 2)
        check(19, 37, 23, false, true, dtype, 2, 2)
        check(64, 70, 65, true, true, dtype, 2, 0)
      })
    }
  })
}
