// Scalar engine: values and gradients against micrograd's lecture numbers and PyTorch's reference
// results, every primitive against central finite differences, and the error paths.

import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors'
import { chain, diamond, moreOps, sanityCheck, seedExample, tanhNeuron } from './test-graphs'
import { Value, topoSort } from './value'

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12)

/** Central difference in float64 with h = 1e-6. */
const fd = (f: (x: number) => number, x: number, h = 1e-6) => (f(x + h) - f(x - h)) / (2 * h)

function expectEngineError(fn: () => unknown, op: string, code: string): void {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(EngineError)
  const err = caught as EngineError
  expect(err.op).toBe(op)
  expect(err.code).toBe(code)
  expect(err.message.startsWith(`${op}: `)).toBe(true)
}

describe('Value: lecture and PyTorch reference numbers', () => {
  it('seed example L = (a*b + c) * f', () => {
    const { a, b, c, d, e, f, L } = seedExample()
    L.backward()
    expect(L.data).toBe(-8)
    expect([L.grad, a.grad, b.grad, c.grad, d.grad, e.grad, f.grad]).toEqual([1, 6, -4, -2, -2, -2, 4])
  })

  it('b = a + a sums both paths into a.grad', () => {
    const a = new Value(3, 'a')
    const b = a.add(a)
    b.backward()
    expect(a.grad).toBe(2)
  })

  it('tanh neuron', () => {
    const { x1, x2, w1, w2, b, n, o } = tanhNeuron()
    o.backward()
    expect(o.data).toBeCloseTo(Math.SQRT1_2, 10)
    expect(n.grad).toBeCloseTo(0.5, 10)
    expect(x1.grad).toBeCloseTo(-1.5, 10)
    expect(w1.grad).toBeCloseTo(1.0, 10)
    expect(x2.grad).toBeCloseTo(0.5, 10)
    expect(w2.grad).toBeCloseTo(0, 10)
    expect(b.grad).toBeCloseTo(0.5, 10)
  })

  it("micrograd's test_sanity_check (PyTorch: y = -20, dy/dx = 46)", () => {
    const { x, y } = sanityCheck()
    y.backward()
    expect(y.data).toBe(-20)
    expect(x.grad).toBe(46)
  })

  it("micrograd's test_more_ops against PyTorch's numbers", () => {
    const { a, b, g } = moreOps()
    g.backward()
    expect(Math.abs(g.data - 24.70408163265306)).toBeLessThan(1e-6)
    expect(Math.abs(a.grad - 138.83381924198252)).toBeLessThan(1e-6)
    expect(Math.abs(b.grad - 645.5772594752186)).toBeLessThan(1e-6)
  })
})

describe('Value: every primitive against central finite differences (h = 1e-6, rel err < 1e-6)', () => {
  const unary: [string, (v: Value) => Value, number[]][] = [
    ['exp', (v) => v.exp(), [-1.3, 0.2, 2.5]],
    ['log', (v) => v.log(), [0.3, 1.7, 12]],
    ['tanh', (v) => v.tanh(), [-1.1, 0.5, 2.2]],
    ['relu', (v) => v.relu(), [-2.5, 0.4, 3]],
    ['pow 3', (v) => v.pow(3), [-1.5, 0.8, 2]],
    ['pow 2', (v) => v.pow(2), [-0.7, 1.9]],
    ['pow -1', (v) => v.pow(-1), [-2, 0.6, 3]],
    ['pow 0.5', (v) => v.pow(0.5), [0.4, 5]],
    ['pow -2.5', (v) => v.pow(-2.5), [1.3, 4]],
    ['neg', (v) => v.neg(), [-1, 2]],
  ]
  for (const [name, op, points] of unary) {
    it(name, () => {
      for (const x of points) {
        const v = new Value(x)
        op(v).backward()
        expect(
          relErr(
            v.grad,
            fd((t) => op(new Value(t)).data, x),
          ),
        ).toBeLessThan(1e-6)
      }
    })
  }

  const binary: [string, (a: Value, b: Value) => Value][] = [
    ['add', (a, b) => a.add(b)],
    ['mul', (a, b) => a.mul(b)],
    ['sub', (a, b) => a.sub(b)],
    ['div', (a, b) => a.div(b)],
  ]
  for (const [name, op] of binary) {
    it(`${name} (both operands)`, () => {
      for (const [x, y] of [
        [1.5, -2.25],
        [-0.3, 0.8],
        [4, 7],
      ] as const) {
        const a = new Value(x)
        const b = new Value(y)
        op(a, b).backward()
        const da = fd((t) => op(new Value(t), new Value(y)).data, x)
        const db = fd((t) => op(new Value(x), new Value(t)).data, y)
        expect(relErr(a.grad, da)).toBeLessThan(1e-6)
        expect(relErr(b.grad, db)).toBeLessThan(1e-6)
      }
    })
  }

  it('the whole test_more_ops graph, for a and b', () => {
    const { a, b, g } = moreOps()
    g.backward()
    expect(
      relErr(
        a.grad,
        fd((t) => moreOps(t, 2).g.data, -4),
      ),
    ).toBeLessThan(1e-6)
    expect(
      relErr(
        b.grad,
        fd((t) => moreOps(-4, t).g.data, 2),
      ),
    ).toBeLessThan(1e-6)
  })
})

describe('Value: max routes the gradient to the larger operand', () => {
  it('the larger operand gets the whole upstream gradient, the other 0', () => {
    const a = new Value(3)
    const b = new Value(-1)
    const m = a.max(b)
    expect(m.op).toBe('max')
    expect(m.data).toBe(3)
    m.mul(5).backward()
    expect([a.grad, b.grad]).toEqual([5, 0])
    const c = new Value(-2)
    const d = new Value(0.5)
    c.max(d).backward()
    expect([c.grad, d.grad]).toEqual([0, 1])
    const e = new Value(-4)
    e.max(0).backward() // max(x, 0) is relu
    expect(e.grad).toBe(0)
  })

  it('at a tie the first operand takes the gradient, so the two still sum to the upstream', () => {
    const a = new Value(2)
    const b = new Value(2)
    a.max(b).backward()
    expect([a.grad, b.grad]).toEqual([1, 0])
    const x = new Value(1.5)
    x.max(x).backward() // both operands are x: it gets the one contribution
    expect(x.grad).toBe(1)
  })

  it('matches central finite differences for both operands away from a tie', () => {
    const f = (x: number, y: number) => new Value(x).mul(new Value(y).add(1)).max(new Value(y).mul(y))
    for (const [x, y] of [
      [1.5, -0.5],
      [0.2, 2],
      [-1, 0.7],
      [3, 1],
    ] as const) {
      const a = new Value(x)
      const b = new Value(y)
      a.mul(b.add(1)).max(b.mul(b)).backward()
      expect(Math.abs(a.grad - fd((t) => f(t, y).data, x))).toBeLessThan(1e-6)
      expect(
        relErr(
          b.grad,
          fd((t) => f(x, t).data, y),
        ),
      ).toBeLessThan(1e-6)
    }
  })

  it('refuses a non-finite operand', () => {
    expectEngineError(() => new Value(1).max(Number.NaN), 'max', 'nan')
  })
})

describe('Value: graph structure', () => {
  it('keeps operands in order with duplicates, and composes sub/neg/div as micrograd does', () => {
    const a = new Value(2, 'a')
    const b = new Value(5, 'b')
    expect(a.op).toBe('')
    expect(a.inputs).toEqual([])
    const twice = a.add(a)
    expect(twice.op).toBe('add')
    expect(twice.inputs.length).toBe(2)
    expect(twice.inputs[0]).toBe(a)
    expect(twice.inputs[1]).toBe(a)

    const n = a.neg() // a * -1
    expect(n.op).toBe('mul')
    expect(n.inputs[0]).toBe(a)
    expect(n.inputs[1]!.data).toBe(-1)

    const s = a.sub(b) // a + (b * -1)
    expect(s.op).toBe('add')
    expect(s.inputs[1]!.op).toBe('mul')
    expect(s.inputs[1]!.inputs[0]).toBe(b)

    const q = a.div(b) // a * b**-1
    expect(q.op).toBe('mul')
    expect(q.inputs[1]!.op).toBe('pow')
    expect(q.inputs[1]!.exponent).toBe(-1)
    expect(q.data).toBeCloseTo(0.4, 15)
  })

  it('gives every Value a unique id', () => {
    const { L } = seedExample()
    const ids = topoSort(L).map((v) => v.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('topoSort lists each node once, inputs before users, root last', () => {
    const { x, s, y } = diamond()
    const order = topoSort(y)
    expect(order.at(-1)).toBe(y)
    expect(order.filter((v) => v === s).length).toBe(1)
    expect(order.filter((v) => v === x).length).toBe(1)
    const pos = new Map(order.map((v, i) => [v, i]))
    for (const v of order) for (const inp of v.inputs) expect(pos.get(inp)!).toBeLessThan(pos.get(v)!)
  })
})

describe('Value: backward pass mechanics', () => {
  it('a 100,000-node chain runs without overflowing the stack', () => {
    const { x, y } = chain(100_000)
    expect(topoSort(y).length).toBe(200_001) // 100k mul nodes, 100k constant leaves, x
    y.backward()
    expect(relErr(x.grad, 1.00001 ** 100_000)).toBeLessThan(1e-9)
  })

  it('a shared node gets the sum of both paths', () => {
    const { x, s, y } = diamond()
    y.backward()
    const t = Math.tanh(0.49)
    expect(s.grad).toBeCloseTo(1 + (1 - t * t), 14)
    expect(x.grad).toBeCloseTo(s.grad * 2 * 0.7, 14)
  })

  it('calling backward twice doubles the leaf grads; interior grads stay one pass', () => {
    const { a, b, c, d, f, L } = seedExample()
    L.backward()
    L.backward()
    expect([a.grad, b.grad, c.grad, f.grad]).toEqual([12, -8, -4, 8])
    expect(d.grad).toBe(-2)
    expect(L.grad).toBe(1)
    const leaf = new Value(3)
    leaf.backward()
    leaf.backward()
    expect(leaf.grad).toBe(2)
  })

  it('zeroGrad resets every node reachable from the root, so backward starts fresh', () => {
    const { a, L } = seedExample()
    L.backward()
    L.zeroGrad()
    expect(topoSort(L).every((v) => v.grad === 0)).toBe(true)
    L.backward()
    expect(a.grad).toBe(6)
  })
})

describe('Value: bad input names the op', () => {
  it('refuses non-finite data', () => {
    expectEngineError(() => new Value(Number.NaN), 'Value', 'nan')
    expectEngineError(() => new Value(Number.POSITIVE_INFINITY), 'Value', 'nan')
    expectEngineError(() => new Value('2' as unknown as number), 'Value', 'argument')
    expectEngineError(() => new Value(1).add(Number.NaN), 'add', 'nan')
    expectEngineError(() => new Value(1).mul(Number.NEGATIVE_INFINITY), 'mul', 'nan')
    expectEngineError(() => new Value(1).sub(Number.NaN), 'sub', 'nan')
  })

  it('refuses a Value exponent (micrograd supports constant exponents only)', () => {
    const x = new Value(2)
    expectEngineError(() => x.pow(new Value(3) as unknown as number), 'pow', 'argument')
    expectEngineError(() => x.pow(Number.NaN), 'pow', 'argument')
  })

  it('refuses results that are not finite, naming the op that made them', () => {
    expectEngineError(() => new Value(1000).exp(), 'exp', 'nan')
    expectEngineError(() => new Value(-1).log(), 'log', 'nan')
    expectEngineError(() => new Value(0).log(), 'log', 'nan')
    expectEngineError(() => new Value(1).div(0), 'div', 'nan')
    expectEngineError(() => new Value(1).div(new Value(0)), 'div', 'nan')
  })

  it('refuses a gradient that is not finite during backward', () => {
    const x = new Value(0)
    const y = x.pow(0.5) // d/dx sqrt(x) is infinite at 0
    expectEngineError(() => y.backward(), 'pow', 'backward')
  })
})
