// The fused float32 Adam update (WebAssembly SIMD, in place on the moments) against the composed
// update of optim/ on the same CPU backend without its fused kernel: the same bits, step by step,
// across chunk boundaries and ragged tails; and a state dict handed out stays as it was.
import { describe, expect, it } from 'vitest'
import type { Backend } from '../../backend.js'
import { cpuBackend } from '../index.js'
import { optim } from '../../../index.js'
import { Tensor } from '../../../tensor.js'
import { wasmAdam } from './wasm-optim.js'

const composedBe = Object.create(cpuBackend, { adamStep: { value: undefined } }) as Backend

function seeded(n: number, seed: number): Float32Array {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1)
}

/** `steps` Adam steps on loss = Σ c·p² + d·p; the parameters after each step. */
function trajectory(be: Backend, n: number, options: optim.AdamOptions, decoupled: boolean, steps: number): Float32Array[] {
  const p = new Tensor(be.fromArray(seeded(n, 1)), [n], be, true)
  const c = new Tensor(be.fromArray(seeded(n, 2)), [n], be)
  const d = new Tensor(be.fromArray(seeded(n, 3)), [n], be)
  const opt = decoupled ? new optim.AdamW([p], options) : new optim.Adam([p], options)
  const out: Float32Array[] = []
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad()
    c.mul(p).mul(p).add(d.mul(p)).sum().backward()
    opt.step()
    out.push(Float32Array.from(p.dataSync()))
  }
  return out
}

describe('WebAssembly Adam kernel (float32)', { timeout: 60_000 }, () => {
  it('loads here', () => {
    expect(wasmAdam()).not.toBeNull()
  })

  const cases: [string, optim.AdamOptions, boolean][] = [
    ['Adam', { lr: 0.01 }, false],
    ['Adam with L2 decay', { lr: 0.003, weightDecay: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, false],
    ['AdamW', { lr: 0.01, weightDecay: 0.1 }, true],
  ]
  for (const [name, options, decoupled] of cases) {
    for (const n of [1, 7, 16384, 40_003]) {
      it(`${name}, ${n} parameters: the composed update's bits for 6 steps`, () => {
        const want = trajectory(composedBe, n, options, decoupled, 6)
        const got = trajectory(cpuBackend, n, options, decoupled, 6)
        got.forEach((g, i) => expect(g, `step ${i + 1}`).toEqual(want[i]))
        expect(got[5]).not.toEqual(seeded(n, 1)) // it moved
      })
    }
  }

  it('keeps a state dict as it was when taken, though the moments are updated in place', () => {
    const be = cpuBackend
    const p = new Tensor(be.fromArray(seeded(100, 1)), [100], be, true)
    const opt = new optim.Adam([p], { lr: 0.01 })
    const step = (): void => {
      opt.zeroGrad()
      p.mul(p).sum().backward()
      opt.step()
    }
    step()
    const sd = opt.stateDict()
    const m = Float32Array.from(sd.tensors['param 0.m'].dataSync())
    step()
    expect(Float32Array.from(sd.tensors['param 0.m'].dataSync())).toEqual(m)
    expect(Float32Array.from(opt.stateDict().tensors['param 0.m'].dataSync())).not.toEqual(m)
  })
})
