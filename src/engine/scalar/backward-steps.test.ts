// backwardSteps: the step-through replay must agree with Value.backward, leave grads untouched, and
// reproduce the `=` instead of `+=` bug when asked.

import { describe, expect, it } from 'vitest'
import { backwardSteps, gradsAfter } from './backward-steps'
import { chain, diamond, moreOps, sanityCheck, seedExample, tanhNeuron } from './test-graphs'
import { Value, topoSort } from './value'

const graphs: [string, () => Value][] = [
  ['seed example', () => seedExample().L],
  [
    'a + a',
    () => {
      const a = new Value(3)
      return a.add(a)
    },
  ],
  ['tanh neuron', () => tanhNeuron().o],
  ['test_sanity_check', () => sanityCheck().y],
  ['test_more_ops', () => moreOps().g],
  ['diamond', () => diamond().y],
  [
    'exp, log and relu',
    () => {
      const x = new Value(1.3)
      return x.exp().mul(x.log()).add(x.sub(2).relu()).add(x.neg().relu())
    },
  ],
  [
    'max, including a tie',
    () => {
      const x = new Value(2)
      const y = new Value(-1)
      return x
        .max(y)
        .mul(x.max(2))
        .add(y.max(x.mul(-3)))
    },
  ],
  ['2,000-node chain', () => chain(2_000).y],
]

describe('backwardSteps', () => {
  for (const [name, build] of graphs) {
    it(`ends at backward()'s gradients: ${name}`, () => {
      const root = build()
      const replay = gradsAfter(root, backwardSteps(root))
      root.backward()
      for (const v of topoSort(root)) expect(replay.get(v)).toBeCloseTo(v.grad, 12)
    })

    it(`hands each node its complete gradient as upstream: ${name}`, () => {
      const root = build()
      const steps = backwardSteps(root)
      root.backward()
      for (const s of steps) {
        expect(s.upstream).toBe(s.node.grad)
        expect(s.contribution).toBe(s.upstream * s.localDerivative)
        expect(s.nodeId).toBe(s.node.id)
        expect(s.op).toBe(s.node.op)
        expect(s.input).toBe(s.node.inputs[s.inputIndex])
      }
    })
  }

  it('does not touch any grad', () => {
    const { a, L } = seedExample()
    a.grad = 7
    backwardSteps(L)
    backwardSteps(L, { accumulate: false })
    expect(topoSort(L).map((v) => v.grad)).toEqual(topoSort(L).map((v) => (v === a ? 7 : 0)))
  })

  it('b = a + a: two contributions of 1 summing to 2, and 1 with the `=` bug', () => {
    const a = new Value(3, 'a')
    const b = a.add(a)
    const steps = backwardSteps(b)
    expect(steps.map((s) => [s.inputIndex, s.contribution, s.gradBefore, s.gradAfter])).toEqual([
      [0, 1, 0, 1],
      [1, 1, 1, 2],
    ])
    expect(steps.every((s) => s.input === a && s.node === b)).toBe(true)
    expect(steps[0]!.rule).toBe('add distributes: passes the upstream gradient unchanged (local derivative 1)')

    const buggy = backwardSteps(b, { accumulate: false })
    expect(buggy.map((s) => s.gradAfter)).toEqual([1, 1])
    expect(gradsAfter(b, buggy).get(a)).toBe(1)
  })

  it('the `=` bug propagates: the diamond leaf gets a wrong gradient', () => {
    const { x, y } = diamond()
    const right = gradsAfter(y, backwardSteps(y)).get(x)!
    const wrong = gradsAfter(y, backwardSteps(y, { accumulate: false })).get(x)!
    y.backward()
    expect(right).toBeCloseTo(x.grad, 14)
    expect(Math.abs(wrong - right)).toBeGreaterThan(0.1)
  })

  it('walks the seed example in reverse topological order, one step per edge', () => {
    const { a, b, c, d, e, f, L } = seedExample()
    const steps = backwardSteps(L)
    expect(steps.map((s) => [s.node.label, s.input.label, s.localDerivative, s.gradAfter])).toEqual([
      ['L', 'd', -2, -2],
      ['L', 'f', 4, 4],
      ['d', 'e', 1, -2],
      ['d', 'c', 1, -2],
      ['e', 'a', -3, 6],
      ['e', 'b', 2, -4],
    ])
    expect(steps[0]!.rule).toBe('mul swaps: local derivative is the other operand (-2)')
    expect(steps[0]!.upstream).toBe(1)
    expect([a, b, c, d, e, f].every((v) => v.grad === 0)).toBe(true)
  })

  it('says each rule in words with its numbers', () => {
    const { o } = tanhNeuron()
    const tanhStep = backwardSteps(o)[0]!
    expect(tanhStep.rule).toBe('tanh: 1 - tanh² = 1 - 0.7071² = 0.5')

    const x = new Value(3)
    expect(backwardSteps(x.pow(2))[0]!.rule).toBe('pow: n·x^(n-1) = 2·3^1 = 6')
    expect(backwardSteps(x.exp())[0]!.rule).toBe('exp: e^x is its own derivative = 20.09')
    expect(backwardSteps(x.log())[0]!.rule).toBe('log: 1/x = 1/3 = 0.3333')
    expect(backwardSteps(x.relu())[0]!.rule).toBe('relu routes: 1 if the output was positive else 0 (output 3, so 1)')
    expect(backwardSteps(x.neg().relu())[0]!.localDerivative).toBe(0)
  })

  it('replays a 100,000-node chain without overflowing the stack', () => {
    const { x, y } = chain(100_000)
    const steps = backwardSteps(y)
    expect(steps.length).toBe(200_000) // two operands per mul
    y.backward()
    expect(gradsAfter(y, steps).get(x)).toBe(x.grad)
  })

  it('a leaf root has no steps and a gradient of 1', () => {
    const x = new Value(5)
    expect(backwardSteps(x)).toEqual([])
    expect(gradsAfter(x, []).get(x)).toBe(1)
  })
})
