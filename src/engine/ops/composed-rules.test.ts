// The composed (non-fused) activation backward rules and optimiser updates, on the CPU. The CPU
// backend has fused kernels for both (activationGrad, adamStep, sgdStep), so every other CPU test
// takes the fused path and the composed formulas in ops/ and optim/ — the reference the kernels
// claim to follow, and what a backend without the kernels runs — are reached only by the WebGPU
// suites. Here the CPU backend is wrapped without its optional kernels (no engine hook needed:
// ops and optimisers look the kernels up on the tensor's backend), and the composed paths are
// checked against PyTorch's goldens, central finite differences and the fused kernels.
import { describe, expect, it } from 'vitest'
import type { Backend, DType } from '../backends/backend.js'
import { cpuBackend } from '../backends/cpu/index.js'
import { gradcheck } from '../gradcheck.js'
import { optim } from '../index.js'
import { Tensor } from '../tensor.js'
import { GOLDEN, GOLDEN_OPS, mismatch, type Encoded } from '../testing/golden.js'

/** Counts what a backend is asked to do, to prove which path a rule took. */
interface Counted {
  be: Backend
  calls: Map<string, number>
}

const OPTIONAL_KERNELS = ['activationGrad', 'adamStep', 'sgdStep', 'softmaxCrossEntropy'] as const

function counted(withKernels: boolean): Counted {
  const calls = new Map<string, number>()
  const count = (k: string): void => void calls.set(k, (calls.get(k) ?? 0) + 1)
  const props: PropertyDescriptorMap = {
    binary: { value: (...args: Parameters<Backend['binary']>) => (count(`binary.${args[0]}`), cpuBackend.binary(...args)) },
  }
  for (const k of OPTIONAL_KERNELS) {
    const fused = cpuBackend[k] as ((...a: unknown[]) => unknown) | undefined
    props[k] = { value: withKernels && fused ? (...a: unknown[]) => (count(k), fused.apply(cpuBackend, a)) : undefined }
  }
  return { be: Object.create(cpuBackend, props) as Backend, calls }
}

function on(be: Backend, e: Encoded, dtype: DType, requiresGrad = false): Tensor {
  const data = dtype === 'float64' ? Float64Array.from(e.data) : Float32Array.from(e.data)
  return new Tensor(be.fromArray(data), e.shape, be, requiresGrad)
}

const ACTIVATIONS = ['relu', 'tanh', 'sigmoid'] as const // the ones with a fused backward kernel
const cases = GOLDEN.ops.filter((c) => (ACTIVATIONS as readonly string[]).includes(c.op))
const TOL: Record<DType, [number, number]> = { float64: [1e-10, 1e-9], float32: [1e-5, 1e-4] }

/** Forward + backward of one golden case on `be`; returns the input gradient. */
async function inputGrad(be: Backend, c: (typeof cases)[number], dtype: DType): Promise<Float64Array> {
  const x = on(be, c.inputs[0], dtype, true)
  const out = GOLDEN_OPS[c.op]([x], c)
  out.backward(on(be, c.upstream, dtype))
  return Float64Array.from(await x.grad!.data())
}

describe('composed activation backward rules (CPU without fused kernels)', () => {
  it('covers every activation that has a fused kernel', () => {
    expect(cases.map((c) => c.op).sort()).toEqual([...ACTIVATIONS].sort())
  })

  for (const c of cases) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${c.name}: the composed rule matches PyTorch (${dtype}) and is the path taken`, async () => {
        const composed = counted(false)
        const grad = await inputGrad(composed.be, c, dtype)
        const [atol, rtol] = TOL[dtype]
        expect(mismatch(grad, c.grads[0]!.data, atol * 10, rtol * 10)).toBeNull()
        expect(composed.calls.get('activationGrad')).toBeUndefined()
        expect(composed.calls.get('binary.mul')).toBeGreaterThan(0) // g · f'(·), composed

        const fused = counted(true)
        const fusedGrad = await inputGrad(fused.be, c, dtype)
        expect(fused.calls.get('activationGrad')).toBe(1)
        expect(fused.calls.get('binary.mul')).toBeUndefined()
        // Same arithmetic term by term, so float64 agrees to rounding.
        expect(mismatch(grad, fusedGrad, dtype === 'float64' ? 1e-15 : 1e-7, 1e-12)).toBeNull()
      })
    }

    it(`${c.name}: the composed rule matches central finite differences (float64)`, () => {
      const { be } = counted(false)
      const r = gradcheck((x) => GOLDEN_OPS[c.op]([x], c), [on(be, c.inputs[0], 'float64')])
      expect(r.maxRelError).toBeLessThan(1e-6)
    })
  }

  it('agrees with the fused kernels at the edges: zeros, saturation, NaN', async () => {
    const xs = { shape: [8], data: [0, -0, 1e-300, -40, 40, 700, -700, Number.NaN] }
    const up = { shape: [8], data: [1, 2, 3, -1, 0.5, 1, 1, 1] }
    for (const op of ACTIVATIONS) {
      const grads = await Promise.all(
        [counted(false), counted(true)].map(async ({ be }) => {
          const x = on(be, xs, 'float64', true)
          x[op]().backward(on(be, up, 'float64'))
          return Array.from(await x.grad!.data())
        }),
      )
      expect(grads[0], op).toEqual(grads[1])
    }
  })
})

describe('composed optimiser updates (CPU without fused kernels)', () => {
  const optimCases = GOLDEN.optim.cases.filter((c) => c.optimizer === 'Adam' || c.optimizer === 'AdamW' || c.optimizer === 'SGD')
  const CTORS = { SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW } as const

  /** The golden problem: loss = Σ c·p² + d·p, `steps` steps; returns each step's parameters. */
  async function trajectory(be: Backend, c: (typeof optimCases)[number], dtype: DType, steps: number): Promise<Float64Array[]> {
    const p = on(be, GOLDEN.optim.p0, dtype, true)
    const cc = on(be, GOLDEN.optim.c, dtype)
    const d = on(be, GOLDEN.optim.d, dtype)
    const opt = new CTORS[c.optimizer as keyof typeof CTORS]([p], c.options as unknown as optim.SGDOptions)
    const out: Float64Array[] = []
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad()
      cc.mul(p).mul(p).add(d.mul(p)).sum().backward()
      opt.step()
      out.push(Float64Array.from(await p.data()))
    }
    return out
  }

  it('covers Adam, AdamW (decoupled decay) and Adam with L2 decay', () => {
    const adam = optimCases.filter((c) => c.optimizer !== 'SGD')
    expect(adam.some((c) => c.optimizer === 'AdamW')).toBe(true)
    expect(adam.some((c) => c.optimizer === 'Adam' && (c.options['weightDecay'] ?? 0) !== 0)).toBe(true)
  })

  for (const c of optimCases) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${c.optimizer} ${JSON.stringify(c.options)}: composed update follows PyTorch for 5 steps (${dtype})`, async () => {
        const composed = counted(false)
        const got = await trajectory(composed.be, c, dtype, c.trajectory.length)
        const [atol, rtol] = TOL[dtype]
        c.trajectory.forEach((want, i) => expect(mismatch(got[i], want.data, atol * 10, rtol * 10), `step ${i + 1}`).toBeNull())
        expect(composed.calls.get('adamStep') ?? composed.calls.get('sgdStep')).toBeUndefined()
      })
    }

    it(`${c.optimizer} ${JSON.stringify(c.options)}: composed and fused agree over 50 steps (float64)`, async () => {
      const composed = counted(false)
      const fused = counted(true)
      const a = await trajectory(composed.be, c, 'float64', 50)
      const b = await trajectory(fused.be, c, 'float64', 50)
      expect(fused.calls.get(c.optimizer === 'SGD' ? 'sgdStep' : 'adamStep')).toBe(50)
      expect(mismatch(a[49], b[49], 1e-12, 1e-10)).toBeNull()
      expect(mismatch(a[49], Array.from(GOLDEN.optim.p0.data), 1e-3, 0)).not.toBeNull() // it moved
    })
  }
})
