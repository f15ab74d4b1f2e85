// Optimiser state dicts: an optimiser rebuilt over copies of the parameters and given the saved
// state takes the same next steps as the original, bit for bit, for every optimiser with state.
import { describe, expect, it } from 'vitest'
import { Tensor } from '../tensor.js'
import { tensor } from '../creation.js'
import { mul, sum } from '../ops/index.js'
import { Adam, AdamW, RMSprop, SGD } from './optimizers.js'
import type { Optimizer } from './optimizer.js'

type Make = (params: [string, Tensor][]) => Optimizer
const MAKERS: [string, Make][] = [
  ['SGD momentum', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true })],
  ['Adam', (p) => new Adam(p, { lr: 0.05 })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.05 })],
  ['RMSprop centered momentum', (p) => new RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true })],
]

function params(values: number[][]): [string, Tensor][] {
  return values.map((v, i) => [`layers.${i}.weight`, tensor(v, { requiresGrad: true })])
}

function step(opt: Optimizer, k: number): void {
  opt.zeroGrad()
  const loss = opt.params.reduce((acc: Tensor | null, p) => {
    const term = sum(mul(mul(p, p), k + 1))
    return acc ? acc.add(term) : term
  }, null)!
  loss.backward()
  opt.step()
}

describe('optimizer stateDict / loadStateDict', () => {
  for (const [name, make] of MAKERS) {
    it(`${name}: a restored optimiser continues exactly`, () => {
      const start = [
        [0.5, -1.5, 2],
        [3, -0.25],
      ]
      const a = make(params(start))
      for (let k = 0; k < 3; k++) step(a, k)
      const sd = a.stateDict()
      expect(Object.keys(sd.tensors).length).toBeGreaterThan(0)
      const b = make(params(a.params.map((p) => Array.from(p.dataSync()))))
      b.loadStateDict(sd)
      expect(b.stepCount).toBe(3)
      for (let k = 3; k < 6; k++) {
        step(a, k)
        step(b, k)
      }
      a.params.forEach((p, i) => expect(b.params[i].dataSync()).toEqual(p.dataSync()))
    })
  }

  it('Adam: a state dict keeps its values through later in-place steps; with views it is the live buffers', () => {
    const a = new Adam(params([Array.from({ length: 64 }, (_, i) => i / 10 - 3)]), { lr: 0.1 })
    step(a, 0)
    const copied = a.stateDict()
    const views = a.stateDict({ views: true })
    const m0 = Array.from(copied.tensors['layers.0.weight.m'].dataSync())
    step(a, 1)
    const now = a.stateDict({ views: true }).tensors['layers.0.weight.m']
    expect(Array.from(copied.tensors['layers.0.weight.m'].dataSync())).toEqual(m0)
    expect(Array.from(now.dataSync())).not.toEqual(m0)
    // The CPU's fused step updates its buffers in place: views are those buffers, the default a copy.
    expect(a.params[0].backend.adamStepInPlace).toBe(true)
    expect(views.tensors['layers.0.weight.m']).toBe(now)
    expect(copied.tensors['layers.0.weight.m']).not.toBe(now)
  })

  it('names buffers after their parameter and refuses a misfit', () => {
    const a = new Adam(params([[1, 2]]), { lr: 0.1 })
    step(a, 0)
    const sd = a.stateDict()
    expect(Object.keys(sd.tensors).sort()).toEqual(['layers.0.weight.m', 'layers.0.weight.v'])
    expect(sd.scalars).toEqual({ 'layers.0.weight.t': 1 })
    const other = new Adam(params([[1, 2, 3]]), { lr: 0.1 })
    expect(() => other.loadStateDict(sd)).toThrow(/"layers.0.weight.m" has 2 elements, its parameter has 3/)
    expect(() => new Adam([['w', tensor([1, 2], { requiresGrad: true })]], { lr: 0.1 }).loadStateDict(sd)).toThrow(
      /belongs to no parameter/,
    )
  })
})
