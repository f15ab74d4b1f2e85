// Autograd's contract: the seed examples, += accumulation, broadcast reduction, repeated
// backward, deep graphs without recursion, and clear errors for misuse.
import { describe, expect, it } from 'vitest'
import { tensor, zeros, noGrad, EngineError, Tensor, topoSort, backwardInPieces } from './index.js'
import { add, matmul, mul } from './ops/index.js'
import { exclusiveGrad, record } from './ops/op.js'

const vals = async (t: Tensor | null): Promise<number[]> => Array.from(await t!.data())

describe('seed examples on tensors', () => {
  it('L = f·(a·b + c) gives dL/da=6, dL/db=-4, dL/dc=-2, dL/df=4', async () => {
    const [a, b, c, f] = [2, -3, 10, -2].map((v) => tensor(v, { requiresGrad: true, dtype: 'float64' }))
    const L = a.mul(b).add(c).mul(f)
    L.backward()
    expect(await L.item()).toBe(-8)
    expect(await a.grad!.item()).toBe(6)
    expect(await b.grad!.item()).toBe(-4)
    expect(await c.grad!.item()).toBe(-2)
    expect(await f.grad!.item()).toBe(4)
  })

  it('b = a + a accumulates both contributions: a.grad == 2', async () => {
    const a = tensor(3, { requiresGrad: true })
    a.add(a).backward()
    expect(await a.grad!.item()).toBe(2)
  })

  it('a tensor reused by several ops sums every path (x·x + x)', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true })
    x.mul(x).add(x).sum().backward()
    expect(await vals(x.grad)).toEqual([3, 5, 7])
  })
})

// A second contribution is added in place only into a buffer the pass alone holds: these graphs
// route one gradient tensor to several slots (add's rule hands g to both operands, a retained
// .grad keeps it) and then add a matmul's exclusive product to one of them.
describe('in-place accumulation never writes a shared gradient', () => {
  const W = () =>
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    )
  const leaf = (v: number) =>
    tensor(
      [
        [v, v],
        [v, v],
      ],
      { dtype: 'float64', requiresGrad: true },
    )
  const dA = [3, 7, 3, 7] // ones·Wᵀ

  it('add hands one g to a and b; a also gets ones·Wᵀ; b and its leaf keep exactly g', async () => {
    const [x, y, w] = [leaf(1), leaf(2), W()]
    const a = mul(x, 1).retainGrad()
    const b = mul(y, 1).retainGrad()
    // The add's rule runs first, so a's slot holds the very tensor b's slot holds when dA arrives.
    add(matmul(a, w), add(a, b)).sum().backward()
    expect(await vals(b.grad)).toEqual([1, 1, 1, 1])
    expect(await vals(y.grad)).toEqual([1, 1, 1, 1])
    expect(await vals(a.grad)).toEqual(dA.map((v) => v + 1))
    expect(await vals(x.grad)).toEqual(dA.map((v) => v + 1))
  })

  it('a retained .grad that add passed on is not the buffer a later contribution goes into', async () => {
    const [x, w] = [leaf(1), W()]
    const v = mul(x, 2)
    const h = matmul(v, w).retainGrad()
    add(h, v).sum().backward()
    expect(await vals(h.grad)).toEqual([1, 1, 1, 1])
    expect(await vals(x.grad)).toEqual(dA.map((d) => 2 * (d + 1)))
  })

  it('a rule that returns one exclusive tensor for two operands gets no in-place writes into it', async () => {
    const [y, w] = [leaf(1), W()]
    const b = mul(y, 1).retainGrad()
    const a = mul(b, 2).retainGrad()
    const both = record('addBoth', add(a, b).storage, a.shape, [a, b], (g) => {
      const t = exclusiveGrad(mul(g, 1))
      return [t, t]
    })
    // Order: both's rule (t to a and b), then dA into a's slot while b's slot still holds t.
    add(matmul(a, w), both).sum().backward()
    expect(await vals(a.grad)).toEqual(dA.map((v) => v + 1))
    expect(await vals(b.grad)).toEqual(dA.map((v) => 1 + 2 * (v + 1)))
  })

  it('three contributions to one tensor sum exactly (x·W + x + x)', async () => {
    const [x, w] = [leaf(1), W()]
    add(add(matmul(x, w), x), x)
      .sum()
      .backward()
    expect(await vals(x.grad)).toEqual(dA.map((v) => v + 2))
  })
})

describe('accumulation and reset', () => {
  it('calling backward twice accumulates, like PyTorch, until gradients are zeroed', async () => {
    const w = tensor([1, -2], { requiresGrad: true })
    const loss = () => w.mul(w).sum()
    loss().backward()
    loss().backward()
    expect(await vals(w.grad)).toEqual([4, -8])
    w.zeroGrad()
    loss().backward()
    expect(await vals(w.grad)).toEqual([2, -4])
  })

  it('backward twice on the same graph also accumulates', async () => {
    const w = tensor([1, 2], { requiresGrad: true })
    const l = w.mul(3).sum()
    l.backward()
    l.backward()
    expect(await vals(w.grad)).toEqual([6, 6])
  })

  it('intermediate gradients are kept only when asked (retainGrad)', async () => {
    const x = tensor([1, 2], { requiresGrad: true })
    const h = x.mul(2).retainGrad()
    const k = h.mul(5)
    k.sum().backward()
    expect(await vals(h.grad)).toEqual([5, 5])
    expect(k.grad).toBeNull()
  })
})

describe('retainGrads keeps every gradient of one pass', () => {
  it('intermediates get their gradient, leaves accumulate as usual, and the default is unchanged', async () => {
    const x = tensor([1, 2], { requiresGrad: true })
    const h = x.mul(2)
    const k = h.mul(5)
    const l = k.sum()
    l.backward(undefined, { retainGrads: true })
    expect(await vals(h.grad)).toEqual([5, 5])
    expect(await vals(k.grad)).toEqual([1, 1])
    expect(await vals(l.grad)).toEqual([1])
    expect(await vals(x.grad)).toEqual([10, 10])
    const y = x.mul(3)
    y.sum().backward()
    expect(y.grad).toBeNull()
    expect(await vals(x.grad)).toEqual([13, 13])
  })
})

describe('backwardInPieces: the same pass, paused between nodes by their cost', () => {
  const net = (): { loss: Tensor; leaves: Tensor[] } => {
    const x = tensor(
      [
        [1, -2, 0.5],
        [0.25, 3, -1],
      ],
      { dtype: 'float64' },
    )
    const w1 = tensor(
      [
        [0.1, -0.2],
        [0.3, 0.4],
        [-0.5, 0.6],
      ],
      { requiresGrad: true, dtype: 'float64' },
    )
    const w2 = tensor([[0.7], [-0.8]], { requiresGrad: true, dtype: 'float64' })
    const h = matmul(x, w1).relu()
    return { loss: add(matmul(h, w2), mul(h, h).sum()).sum(), leaves: [w1, w2] }
  }

  it("gives exactly backward()'s gradients, paused once the nodes' cost passes the budget, in one go without one", async () => {
    const a = net()
    a.loss.backward()
    const b = net()
    const nodes = topoSort(b.loss).length // every node here needs and gets a gradient
    let pauses = 0
    const pass = backwardInPieces(b.loss, undefined, {}, { budget: 1, cost: () => 1 })
    expect(b.leaves.every((l) => l.grad === null)).toBe(true) // nothing before the first next()
    for (let r = pass.next(); !r.done; r = pass.next()) pauses++
    expect(pauses).toBe(nodes - 1) // a node a piece
    for (let i = 0; i < a.leaves.length; i++) expect(await vals(b.leaves[i].grad)).toEqual(await vals(a.leaves[i].grad))
    const c = net()
    expect([...backwardInPieces(c.loss, undefined, {}, { budget: 2, cost: () => 1 })]).toHaveLength(Math.ceil(nodes / 2) - 1)
    const d = net()
    expect([...backwardInPieces(d.loss)]).toHaveLength(0)
    expect(await vals(d.leaves[0].grad)).toEqual(await vals(a.leaves[0].grad))
  })

  it('between pieces graphs record as usual: only the pieces run without grad', () => {
    const { loss } = net()
    const pass = backwardInPieces(loss, undefined, {}, { budget: 1, cost: () => 1 })
    pass.next()
    const y = tensor([2], { requiresGrad: true })
    expect(mul(y, y).requiresGrad).toBe(true)
    while (!pass.next().done);
  })
})

describe('broadcasting is undone in autograd', () => {
  it('sums the gradient back to each input shape', async () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    )
    const b = tensor([10, 20, 30], { requiresGrad: true })
    const c = tensor([[1], [2]], { requiresGrad: true })
    a.mul(b).add(c).sum().backward()
    expect(b.grad!.shape).toEqual([3])
    expect(await vals(b.grad)).toEqual([5, 7, 9])
    expect(c.grad!.shape).toEqual([2, 1])
    expect(await vals(c.grad)).toEqual([3, 3])
    expect(await vals(a.grad)).toEqual([10, 20, 30, 10, 20, 30])
  })

  it('a number operand broadcasts and takes no gradient', async () => {
    const x = tensor([[1, 2]], { requiresGrad: true })
    x.mul(4).sub(1).div(2).sum().backward()
    expect(await vals(x.grad)).toEqual([2, 2])
  })
})

describe('graph structure', () => {
  it('records inputs and op names, and nothing under noGrad', () => {
    const x = tensor([1, 2], { requiresGrad: true })
    const y = x.relu()
    expect(y._op).toBe('relu')
    expect(y._prev).toEqual([x])
    const z = noGrad(() => x.relu())
    expect(z.requiresGrad).toBe(false)
    expect(z._prev).toEqual([])
  })

  it('does not record graphs for tensors that need no gradient', () => {
    const y = tensor([1, 2]).mul(2)
    expect(y.requiresGrad).toBe(false)
    expect(y._prev).toEqual([])
  })

  it('orders a 100,000-op chain and backpropagates through it without recursion', async () => {
    const x = tensor(1, { requiresGrad: true, dtype: 'float64' })
    let y = x
    for (let i = 0; i < 100_000; i++) y = y.add(1e-5)
    expect(topoSort(y).length).toBe(100_001)
    y.backward()
    expect(await x.grad!.item()).toBe(1)
  })

  it('topological order puts every input before the ops that use it', () => {
    const a = tensor([1], { requiresGrad: true })
    const b = a.mul(2)
    const c = a.add(b)
    const d = c.mul(b)
    const order = topoSort(d)
    const pos = new Map(order.map((t, i) => [t, i]))
    for (const t of order) for (const p of t._prev) if (p.requiresGrad) expect(pos.get(p)!).toBeLessThan(pos.get(t)!)
  })
})

describe('bad input gets a clear error', () => {
  const err = (fn: () => unknown): EngineError => {
    try {
      fn()
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError)
      return e as EngineError
    }
    throw new Error('expected an EngineError')
  }

  it('shape mismatches name the op and both shapes', () => {
    const e1 = err(() => zeros([2, 5]).matmul(zeros([3, 4])))
    expect(e1.message).toBe('matmul: b has shape [3,4], incompatible with a [2,5]: inner dims 5 and 3 differ')
    expect(e1.op).toBe('matmul')
    const e2 = err(() => zeros([2, 3]).add(zeros([4])))
    expect(e2.message).toMatch(/^add: cannot broadcast a \[2,3\] with b \[4\]/)
    expect(err(() => zeros([2, 3]).reshape([4, 2])).message).toMatch(
      /reshape: cannot reshape a tensor of shape \[2,3\] \(6 elements\) to \[4,2\]/,
    )
    expect(err(() => zeros([3]).matmul(zeros([3, 1]))).message).toMatch(/matmul: both operands need at least 2 dims/)
    expect(err(() => zeros([2, 3]).sum(2)).message).toMatch(/sum: axis 2 is out of range for a tensor with 2 dims/)
  })

  it('backward on a non-scalar without a seed says how to fix it', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true })
    const e = err(() => x.mul(2).backward())
    expect(e.message).toMatch(/backward: called on a tensor of shape \[3\] without a gradient/)
    expect(err(() => x.mul(2).backward(zeros([2]))).message).toMatch(/gradient has shape \[2\]/)
    expect(err(() => tensor([1]).mul(2).backward()).message).toMatch(/does not require grad/)
  })

  it('NaN and Inf inputs are rejected where data enters, naming the position', () => {
    expect(err(() => tensor([1, NaN, 3])).message).toMatch(/tensor: values contain NaN at flat index 1/)
    expect(
      err(() =>
        tensor([
          [1, 2],
          [3, Infinity],
        ]),
      ).message,
    ).toMatch(/Infinity at flat index 3 \(shape \[2,2\]\)/)
    expect(tensor([NaN], { allowNonFinite: true }).size).toBe(1)
  })

  it('malformed values and dtypes are named', () => {
    expect(err(() => tensor([[1, 2], [3]])).message).toMatch(/ragged nested array at values\[1\]: expected 2 elements, got 1/)
    expect(err(() => tensor([1, 2, 3], { shape: [2, 2] })).message).toMatch(/shape \[2,2\] needs 4 values, got 3/)
    expect(err(() => tensor([1], { dtype: 'int8' as never })).message).toMatch(/dtype must be "float32" or "float64"/)
    expect(err(() => zeros([2]).add('x' as never)).message).toMatch(/add: b must be a Tensor or a number, got string/)
    expect(err(() => zeros([-1])).message).toMatch(/invalid shape \[-1\]/)
  })
})
