// Every op against PyTorch (forward values and gradients, float64 and float32) and against
// central finite differences in float64. Runs on every backend in BACKENDS.
import { describe, expect, it } from 'vitest'
import { describeEachBackend } from '../testing/backends.js'
import { GOLDEN, GOLDEN_OPS, fromEncoded, mismatch } from '../testing/golden.js'
import { gradcheck } from '../gradcheck.js'
import { finiteDifferences } from '../testing/gradcheck-any.js'
import { setBackend } from '../backends/registry.js'
import type { DType } from '../backends/backend.js'

const ALL_OPS = Object.keys(GOLDEN_OPS)

describe('golden coverage', () => {
  it('has PyTorch values for every op the suite knows', () => {
    const covered = new Set(GOLDEN.ops.map((c) => c.op))
    expect(ALL_OPS.filter((op) => !covered.has(op))).toEqual([])
    expect(GOLDEN.ops.length).toBeGreaterThan(60)
  })
})

describeEachBackend('ops match PyTorch', (be) => {
  const tolerances: Record<DType, [number, number]> = { float64: [1e-10, 1e-9], float32: [be.atol32, be.rtol32] }
  for (const dtype of be.dtypes) {
    const [atol, rtol] = tolerances[dtype]
    for (const c of GOLDEN.ops) {
      it(`${c.name} (${dtype})`, async () => {
        const xs = c.inputs.map((e) => fromEncoded(e, dtype, true))
        const out = GOLDEN_OPS[c.op](xs, c)
        expect(out.shape).toEqual(c.out.shape)
        expect(mismatch(await out.data(), c.out.data, atol, rtol)).toBeNull()
        out.backward(fromEncoded(c.upstream, dtype))
        for (let i = 0; i < xs.length; i++) {
          const want = c.grads[i]
          if (!want) continue
          const g = xs[i].grad
          expect(g, `grad of input ${i}`).not.toBeNull()
          expect(g!.shape).toEqual(want.shape)
          expect(g!.dtype).toBe(dtype)
          expect(mismatch(await g!.data(), want.data, atol * 10, rtol * 10), `grad of input ${i}`).toBeNull()
        }
      })
    }
  }
})

describeEachBackend('gradients match central finite differences (float32)', () => {
  for (const c of GOLDEN.ops) {
    it(c.name, async () => {
      const r = await finiteDifferences((...ts) => GOLDEN_OPS[c.op](ts, c), c.inputs)
      expect(r.maxRelError, r.worst).toBeLessThan(2e-2)
    })
  }
})

describe('gradients match central finite differences (float64, CPU)', () => {
  for (const c of GOLDEN.ops) {
    it(c.name, async () => {
      await setBackend('cpu')
      const xs = c.inputs.map((e) => fromEncoded(e, 'float64'))
      const r = gradcheck((...ts) => GOLDEN_OPS[c.op](ts, c), xs)
      expect(r.maxRelError).toBeLessThan(1e-6)
    })
  }

  it('detects a wrong gradient (the check can fail)', () => {
    // A function whose "gradient" is deliberately wrong: x·stopgrad(x) has true gradient 2x,
    // autograd sees only x.
    const x = fromEncoded({ shape: [3], data: [0.5, -1.2, 2] }, 'float64')
    const r = gradcheck((t) => t.mul(t.detach()), [x])
    expect(r.maxRelError).toBeGreaterThan(0.1)
  })
})
