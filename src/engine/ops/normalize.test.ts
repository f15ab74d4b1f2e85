// The fused normalisations on every backend: one graph node each, the same values, statistics and
// gradients as the form composed from primitives at the lab's size (PyTorch's values for small
// cases are in ops.test.ts's golden cases, with the finite-difference checks), the forward's values
// used by the backward, and the errors.
import { expect, it } from 'vitest'
import type { Backend, DType } from '../backends/backend.js'
import { cpuBackend } from '../backends/cpu/index.js'
import { describeEachBackend, timeoutFor } from '../testing/backends.js'
import { mismatch } from '../testing/golden.js'
import { add, EngineError, mean, mul, pow, sub, tensor, type Tensor } from '../index.js'
import { normalize } from './normalize.js'
import type { NormOp } from '../backends/backend.js'

/** Deterministic values in about [lo, hi): no generator state shared with other suites. */
function values(n: number, seed: number, lo = -2, hi = 2): number[] {
  return Array.from({ length: n }, (_, i) => lo + (hi - lo) * (((Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1) + 1) * 0.5)
}

function make(shape: number[], seed: number, dtype: DType, lo?: number, hi?: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  return tensor(values(n, seed, lo, hi), { shape, dtype, requiresGrad: true })
}

/** The same normalisation from mean, sub, mul, pow and broadcasting add: what the fused op replaced. */
function composed(op: NormOp, x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const axis = op === 'batchNorm' ? 0 : -1
  const xc = sub(x, mean(x, axis, true))
  const variance = mean(mul(xc, xc), axis, true)
  return add(mul(mul(xc, pow(add(variance, eps), -0.5)), w), b)
}

const other = Object.create(cpuBackend, { name: { value: 'other' } }) as Backend

describeEachBackend('fused batchNorm and layerNorm', (be) => {
  const dtype = be.dtypes[be.dtypes.length - 1]
  const [atol, rtol] = dtype === 'float64' ? [1e-10, 1e-9] : [be.atol32 * 10, be.rtol32 * 10]

  for (const [op, shape] of [
    ['batchNorm', [128, 256]],
    ['layerNorm', [4, 32, 300]],
  ] as const) {
    it(
      `${op} ${JSON.stringify(shape)}: the composed form's output and gradients, one graph node (${dtype})`,
      async () => {
        const features = shape[shape.length - 1]
        const x = make([...shape], 1, dtype, 1, 3)
        const w = make([features], 2, dtype, 0.5, 1.5)
        const b = make([features], 3, dtype)
        const up = tensor(values(x.size, 4), { shape: [...shape], dtype })
        const fused = normalize(op, x, w, b, 1e-5)
        expect([fused.out._op, fused.out._prev]).toEqual([op, [x, w, b]])
        fused.out.backward(up)
        const got = [fused.out, x.grad!, w.grad!, b.grad!]
        const gotData = await Promise.all(got.map((t) => t.data()))
        for (const t of [x, w, b]) t.zeroGrad()
        const ref = composed(op, x, w, b, 1e-5)
        ref.backward(up)
        const want = [ref, x.grad!, w.grad!, b.grad!]
        for (const [i, name] of ['output', 'dx', 'dweight', 'dbias'].entries()) {
          expect(got[i].shape, name).toEqual(want[i].shape)
          expect(mismatch(gotData[i], await want[i].data(), atol, rtol), name).toBeNull()
        }
        // The statistics it returns: the mean and the biased variance, per feature or per row.
        const axis = op === 'batchNorm' ? 0 : -1
        const mu = mean(x, axis)
        const variance = mean(pow(sub(x, mean(x, axis, true)), 2), axis)
        expect(fused.mean.shape).toEqual(mu.shape)
        expect(mismatch(await fused.mean.data(), await mu.data(), atol, rtol), 'mean').toBeNull()
        expect(mismatch(await fused.variance.data(), await variance.data(), atol, rtol), 'variance').toBeNull()
      },
      timeoutFor(be, 10_000),
    )
  }

  it(`the backward uses the weight the forward saw, not one assigned after it (${dtype})`, async () => {
    const up = tensor(values(24, 7), { shape: [6, 4], dtype })
    const x = make([6, 4], 5, dtype)
    const w = make([4], 6, dtype, 0.5, 1.5)
    const y = normalize('batchNorm', x, w, null, 1e-5).out
    w.assign(mul(w.detach(), 3)) // as an optimiser step between forward and backward would
    y.backward(up)
    const x2 = make([6, 4], 5, dtype)
    const w2 = make([4], 6, dtype, 0.5, 1.5)
    normalize('batchNorm', x2, w2, null, 1e-5).out.backward(up)
    expect(mismatch(await x.grad!.data(), await x2.grad!.data(), 0, 0)).toBeNull()
    expect(mismatch(await w.grad!.data(), await w2.grad!.data(), 0, 0)).toBeNull()
  })

  it('refuses operands on another backend, in another dtype or of the wrong shape, naming the argument', () => {
    const x = tensor(values(6, 8), { shape: [3, 2], dtype })
    const thrown = (fn: () => unknown): [string, string] => {
      try {
        fn()
      } catch (e) {
        if (e instanceof EngineError) return [e.code, e.message]
        throw e
      }
      throw new Error('expected an EngineError')
    }
    const elsewhere = tensor([1, 1], { backend: other })
    expect(thrown(() => normalize('layerNorm', x, elsewhere, null, 1e-5))).toEqual([
      'backend',
      `layerNorm: weight lives on the other backend, the input on ${x.backend.name}`,
    ])
    expect(thrown(() => normalize('batchNorm', x, null, tensor([0, 0, 0], { dtype }), 1e-5))).toEqual([
      'shape',
      'batchNorm: bias has shape [3], expected [2] for an input of shape [3,2]',
    ])
    expect(thrown(() => normalize('batchNorm', tensor(values(8, 9), { shape: [2, 2, 2], dtype }), null, null, 1e-5))).toEqual([
      'shape',
      'batchNorm: input has shape [2,2,2], expected [batch, features]',
    ])
    if (be.dtypes.includes('float64')) {
      expect(
        thrown(() => normalize('layerNorm', x, tensor([1, 1], { dtype: dtype === 'float64' ? 'float32' : 'float64' }), null, 1e-5))[0],
      ).toBe('dtype')
    }
  })
})
