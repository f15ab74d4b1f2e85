// The WebGPU backend's own contract: values where WGSL builtins are undefined or unstable, the
// 2-D dispatch grid, float32 only, empty batches, and reads that are explicit and async.
import { expect, it } from 'vitest'
import { describeWebGpu } from '../../testing/backends.js'
import { mismatch } from '../../testing/golden.js'
import { setBackend } from '../registry.js'
import { currentBackend } from '../registry.js'
import { EngineError, nn, ones, optim, softmaxCrossEntropy, tensor, zeros, full, type Tensor } from '../../index.js'
import type { WebGpuBackend } from './backend.js'

/** The same computation on the CPU backend, for reference values. */
async function onCpu(build: () => Tensor): Promise<Float32Array> {
  await setBackend('cpu')
  const values = (await build().data()) as Float32Array
  await setBackend('webgpu')
  return values
}

/** Equal NaN/±Inf positions, finite values within rtol. */
function sameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 2e-5, atol = 1e-30): string | null {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]
    const e = expected[i]
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) return `index ${i}: got ${a}, expected ${e}`
    } else if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) return `index ${i}: got ${a}, expected ${e}`
  }
  return actual.length === expected.length ? null : `length ${actual.length} vs ${expected.length}`
}

const BASES = [-3, -2, -0.5, 0, 0.5, 2, 3]
const EXPONENTS = [-3, -2, -1, 0, 0.5, 1, 2, 3, 1 / 3, -2.5]

describeWebGpu('the webgpu backend', () => {
  it('pow follows Math.pow for negative bases, integer exponents and zero (div is x·y⁻¹)', async () => {
    const build = () => tensor(BASES, { shape: [BASES.length, 1] }).pow(tensor(EXPONENTS, { shape: [1, EXPONENTS.length] }))
    const want = await onCpu(build)
    expect(want.some(Number.isNaN) && want.includes(Infinity)).toBe(true) // the grid reaches both
    expect(sameValues(await build().data(), want)).toBeNull()
    const q = tensor([1, -1, 2, -8, -3]).div(tensor([-4, -0.5, 0, 0, -3]))
    expect(Array.from(await q.data())).toEqual([-0.25, 2, Infinity, -Infinity, 1])
  })

  it('keeps transcendental functions finite where naive formulas overflow, and NaN where the CPU has NaN', async () => {
    const x = [-100, -20, -1e-3, 0, 1e-3, 20, 100]
    const fns: ((t: Tensor) => Tensor)[] = [
      (t) => t.tanh(),
      (t) => t.sigmoid(),
      (t) => t.gelu(),
      (t) => t.exp(),
      (t) => t.log(),
      (t) => t.relu(),
    ]
    for (const f of fns) {
      const build = () => f(tensor(x))
      expect(sameValues(await build().data(), await onCpu(build), 2e-5, 1e-6), String(f)).toBeNull()
    }
    const withNan = () => tensor([1, NaN, 3], { allowNonFinite: true })
    expect(Array.from(await withNan().max().data())).toEqual([NaN])
    expect(Array.from(await withNan().relu().data())).toEqual([1, 0, 3])
  })

  it('runs a map over 16,777,472 elements on a 2-D grid of workgroups (more than 65,535 × 256)', async () => {
    const n = 65536 * 256 + 256
    const values = new Float32Array(n)
    for (let i = 0; i < n; i++) values[i] = i % 1024
    const y = await tensor(values).mul(2).add(1).data()
    let bad = -1
    for (let i = 0; i < n && bad < 0; i++) if (y[i] !== 2 * (i % 1024) + 1) bad = i
    expect(bad).toBe(-1)
  }, 60_000)

  it('computes in float32 only and says so, naming the op', async () => {
    const cases: [() => unknown, RegExp][] = [
      [() => tensor([1, 2], { dtype: 'float64' }), /^tensor: float64 tensors are not supported on the webgpu backend/],
      [() => zeros([2], { dtype: 'float64' }), /^full: float64 .* use dtype 'float32', or setBackend\('cpu'\) for float64$/],
      [() => new nn.MLP([2, 3, 1], { dtype: 'float64' }), /^tensor: float64/],
    ]
    for (const [f, message] of cases) {
      let err: unknown
      try {
        f()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(EngineError)
      expect((err as EngineError).code).toBe('dtype')
      expect((err as EngineError).message).toMatch(message)
    }
  })

  it('rejects an empty batch with a clear error', async () => {
    const model = new nn.MLP([2, 4, 3], { seed: 1 })
    const logits = model.forward(zeros([0, 2]))
    expect(logits.shape).toEqual([0, 3])
    expect(() => softmaxCrossEntropy(logits, [])).toThrow(/softmaxCrossEntropy: empty batch: logits have 0 rows/)
    expect(Array.from(await zeros([0, 3]).sum(0).data())).toEqual([0, 0, 0])
  })

  it('reads only on request: values stay on the GPU, dataSync refuses, data() is a copy', async () => {
    const be = currentBackend() as WebGpuBackend
    const x = tensor([1, 2, 3])
    const before = be.counters()
    const y = x.mul(x).add(1).sum()
    const after = be.counters()
    expect(after.reads - before.reads).toBe(0)
    expect(after.dispatches - before.dispatches).toBe(3)
    expect(() => y.dataSync()).toThrow(/the webgpu backend reads asynchronously; use await t.data\(\)/)
    const d = await x.data()
    d[0] = 99
    expect(Array.from(await x.data())).toEqual([1, 2, 3])
    expect(await y.item()).toBe(17)
  })

  it('fills constants lazily and folds scalar math on them without kernels', async () => {
    const be = currentBackend() as WebGpuBackend
    const before = be.counters().dispatches
    const c = ones([2, 3])
      .mul(2)
      .add(full([3], 0.5))
      .sum(1)
    expect(be.counters().dispatches).toBe(before)
    expect(Array.from(await c.data())).toEqual([7.5, 7.5])
    const v = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(mismatch(await v.matmul(ones([3, 2])).data(), [6, 6, 15, 15], 0, 0)).toBeNull()
  })

  it('updates each parameter with one fused kernel (SGD with momentum, Adam, AdamW)', async () => {
    const be = currentBackend() as WebGpuBackend
    const model = new nn.MLP([3, 4, 2], { seed: 3 })
    for (const opt of [
      new optim.SGD(model.namedParameters(), { lr: 0.1, momentum: 0.9, nesterov: true }),
      new optim.Adam(model.namedParameters(), { lr: 0.01 }),
      new optim.AdamW(model.namedParameters(), { lr: 0.01 }),
    ]) {
      for (let step = 0; step < 2; step++) {
        opt.zeroGrad()
        model
          .forward(ones([2, 3]))
          .sum()
          .backward()
        const before = be.counters().dispatches
        opt.step()
        expect(be.counters().dispatches - before).toBe(4) // 2 weights + 2 biases
      }
    }
  })

  it('refuses to mix tensors of two backends', async () => {
    const g = tensor([1, 2])
    await setBackend('cpu')
    const c = tensor([1, 2])
    await setBackend('webgpu')
    expect(() => g.add(c)).toThrow(/add: b lives on the cpu backend, the other operand on webgpu/)
  })
})
