// Graph snapshots of one training step: the whole chain from the input batch to the loss, with
// shapes, kinds, labels, value statistics and the gradients that retainGrads keeps.
import { describe, expect, it } from 'vitest'
import {
  add,
  graphSnapshot,
  sum,
  matmul,
  nn,
  softmaxCrossEntropy,
  tensor,
  tensorStats,
  type GraphSnapshot,
  type GraphSnapshotNode,
  type Tensor,
} from './index.js'

async function mlpStep(retainGrads: boolean) {
  const model = new nn.MLP([2, 8, 3], { activation: 'tanh', seed: 1 })
  const x = tensor([
    [0.5, -1],
    [1, 2],
    [-0.3, 0.1],
    [2, -2],
  ])
  // Composed, so the chain below shows every logSoftmax piece (the fused op is one node).
  const loss = softmaxCrossEntropy(model.forward(x), [0, 1, 2, 1], { fused: false })
  loss.backward(undefined, { retainGrads })
  const labels = new Map<Tensor, string>([...model.namedParameters().map(([n, p]): [Tensor, string] => [p, n]), [x, 'input x']])
  return { model, x, loss, snap: await graphSnapshot(loss, { labels }) }
}

/** The one consumer of `from` with this op (the chain must not branch ambiguously). */
function next(s: GraphSnapshot, from: GraphSnapshotNode, op: string, shape: number[]): GraphSnapshotNode {
  const users = s.edges
    .filter((e) => e.from === from.id)
    .map((e) => s.nodes[e.to])
    .filter((n) => n.op === op)
  expect(users.length, `${op} after node ${from.id} (${from.op || from.label})`).toBe(1)
  expect(users[0].shape, `${op} after node ${from.id}`).toEqual(shape)
  return users[0]
}

const byLabel = (s: GraphSnapshot, label: string) => s.nodes.find((n) => n.label === label)!

describe('graphSnapshot of a 2-layer MLP step', () => {
  it('has the chain matmul → add → tanh → matmul → add → logSoftmax pieces → loss, in order, with shapes', async () => {
    const { snap: s } = await mlpStep(true)
    const x = byLabel(s, 'input x')
    expect(x).toMatchObject({ kind: 'input', op: '', shape: [4, 2], grad: null })
    const mm1 = next(s, x, 'matmul', [4, 8])
    expect(mm1).toMatchObject({ transA: false, transB: false })
    const w0 = s.nodes[s.edges.find((e) => e.to === mm1.id && e.inputIndex === 1)!.from]
    expect(w0).toMatchObject({ label: 'layers.0.weight', kind: 'parameter', shape: [2, 8] })
    const add1 = next(s, mm1, 'add', [4, 8])
    expect(s.nodes[s.edges.find((e) => e.to === add1.id && e.inputIndex === 1)!.from].label).toBe('layers.0.bias')
    const h = next(s, add1, 'tanh', [4, 8])
    const mm2 = next(s, h, 'matmul', [4, 3])
    const logits = next(s, mm2, 'add', [4, 3])
    // logSoftmax: z = logits - max (detached), then z - log(sum(exp(z)))
    const z = next(s, logits, 'add', [4, 3])
    const e = next(s, z, 'exp', [4, 3])
    const sum = next(s, e, 'sum', [4, 1])
    const lg = next(s, sum, 'log', [4, 1])
    const negLg = next(s, lg, 'mul', [4, 1])
    const logp = next(s, negLg, 'add', [4, 3])
    expect(s.edges.some((ed) => ed.from === z.id && ed.to === logp.id)).toBe(true)
    const picked = next(s, logp, 'mul', [4, 3])
    const oneHot = s.nodes[s.edges.find((ed) => ed.to === picked.id && ed.inputIndex === 1)!.from]
    expect(oneHot).toMatchObject({ label: 'labels (one-hot)', kind: 'input', shape: [4, 3], grad: null })
    expect(oneHot.value).toMatchObject({ min: 0, max: 1, norm: 2 }) // four rows, one 1 each
    const root = s.nodes[s.rootId]
    expect(root).toMatchObject({ kind: 'loss', label: 'loss', shape: [] })
    expect(s.rootId).toBe(s.nodes.length - 1)
    // ids are positions, every edge runs from an earlier node to a later one
    s.nodes.forEach((n, i) => expect(n.id).toBe(i))
    for (const ed of s.edges) expect(ed.from).toBeLessThan(ed.to)
    expect([mm1, add1, h, mm2, logits, z, e, sum, lg, negLg, logp, picked, root].map((n) => n.id)).toEqual(
      [mm1, add1, h, mm2, logits, z, e, sum, lg, negLg, logp, picked, root].map((n) => n.id).sort((a, b) => a - b),
    )
  })

  it('gradients: present for every op and parameter, absent for inputs and constants; stats are right', async () => {
    const { model, loss, snap: s } = await mlpStep(true)
    for (const n of s.nodes) {
      if (n.kind === 'op' || n.kind === 'parameter' || n.kind === 'loss') expect(n.grad, `${n.op || n.label} ${n.id}`).not.toBeNull()
      else expect(n.grad, `${n.kind} ${n.id}`).toBeNull()
    }
    expect(
      s.nodes
        .filter((n) => n.kind === 'parameter')
        .map((n) => n.label)
        .sort(),
    ).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight'])
    expect(s.nodes.some((n) => n.kind === 'constant' && n.shape.length === 0)).toBe(true)
    const root = s.nodes[s.rootId]
    expect(root.value.mean).toBeCloseTo((await loss.data())[0], 6)
    expect(root.grad).toEqual({ mean: 1, std: 0, min: 1, max: 1, norm: 1, nonFinite: 0 })
    const w1 = byLabel(s, 'layers.1.weight')
    expect(w1.value).toEqual(tensorStats(await model.layers[1].weight.data()))
    expect(w1.grad).toEqual(tensorStats(await model.layers[1].weight.grad!.data()))
    expect(w1.grad!.norm).toBeGreaterThan(0)
  })

  it('without retainGrads only leaves keep gradients (the default is unchanged)', async () => {
    const { snap: s } = await mlpStep(false)
    expect(s.nodes.filter((n) => n.kind === 'op').every((n) => n.grad === null)).toBe(true)
    expect(s.nodes.filter((n) => n.kind === 'parameter').every((n) => n.grad !== null)).toBe(true)
  })

  it('records matmul transposes and keeps duplicate operands as two edges', async () => {
    const a = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    )
    const b = tensor([[1, 0, 2]], { requiresGrad: true })
    const c = matmul(a, b, true, true) // aᵀ [2,3] · bᵀ [3,1]
    const y = c.add(c).sum()
    y.backward(undefined, { retainGrads: true })
    const s = await graphSnapshot(y, { rootLabel: 'y' })
    const mm = s.nodes.find((n) => n.op === 'matmul')!
    expect(mm).toMatchObject({ shape: [2, 1], transA: true, transB: true })
    const twice = s.nodes.find((n) => n.op === 'add')!
    expect(s.edges.filter((e) => e.to === twice.id)).toEqual([
      { from: mm.id, to: twice.id, inputIndex: 0 },
      { from: mm.id, to: twice.id, inputIndex: 1 },
    ])
    expect(mm.grad!.mean).toBe(2) // c used twice: both contributions summed
    expect(s.nodes[s.rootId].label).toBe('y')
    expect(s.nodes.find((n) => n.op === '' && n.shape[0] === 3)!.kind).toBe('parameter')
  })

  it('walks a 20,000-op chain without recursion and refuses graphs over maxNodes', async () => {
    const x = tensor(1, { requiresGrad: true, dtype: 'float64' })
    let y = x
    for (let i = 0; i < 20_000; i++) y = y.mul(1)
    const s = await graphSnapshot(y, { maxNodes: 50_000 })
    expect(s.nodes.filter((n) => n.op === 'mul').length).toBe(20_000)
    await expect(graphSnapshot(y, { maxNodes: 100 })).rejects.toThrow(/graphSnapshot: the graph has more than 100 nodes/)
  })
})

describe('graphSnapshot groups', () => {
  it('marks the nodes a module computed between its operands and its output, its own leaves included', async () => {
    const x = tensor(
      [
        [1, 2],
        [3, 5],
      ],
      { requiresGrad: true },
    )
    const norm = new nn.LayerNorm(2)
    const h = x.mul(2)
    const y = norm.forward(h)
    const out = add(h, y) // a residual sum around the norm
    const loss = sum(out)
    loss.backward(undefined, { retainGrads: true })
    const labels = new Map<Tensor, string>([
      [norm.weight, 'gamma'],
      [x, 'x'],
    ])
    const s = await graphSnapshot(loss, {
      labels,
      groups: [
        { label: 'norm', output: y, inputs: [h] },
        { label: 'residual', output: out, inputs: [h, y] },
      ],
    })
    const of = (label: string) => s.nodes.filter((n) => n.group === label)
    expect(of('residual').map((n) => n.op)).toEqual(['add'])
    expect(of('norm').some((n) => n.label === 'gamma')).toBe(true)
    // LayerNorm is one fused op: its node, with γ, is the group's.
    expect(of('norm').map((n) => n.op)).toContain('layerNorm')
    // The operand h, the input x and the loss's sum belong to no group.
    const byOp = s.nodes.filter((n) => n.group === undefined).map((n) => n.op || n.label)
    expect(byOp).toEqual(expect.arrayContaining(['x', 'mul', 'sum']))
    expect(s.nodes.find((n) => n.id === s.rootId)!.group).toBeUndefined()
  })
})

describe('tensorStats', () => {
  it('counts non-finite values apart and keeps the rest finite', () => {
    expect(tensorStats([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(1.25), min: 1, max: 4, norm: Math.sqrt(30), nonFinite: 0 })
    expect(tensorStats([NaN, 2, Infinity, -2])).toEqual({ mean: 0, std: 2, min: -2, max: 2, norm: Math.sqrt(8), nonFinite: 2 })
    expect(tensorStats([NaN])).toEqual({ mean: 0, std: 0, min: 0, max: 0, norm: 0, nonFinite: 1 })
    expect(tensorStats([])).toEqual({ mean: 0, std: 0, min: 0, max: 0, norm: 0, nonFinite: 0 })
    expect(Number.isFinite(tensorStats([1e308, 1e308]).norm)).toBe(true)
  })
})
