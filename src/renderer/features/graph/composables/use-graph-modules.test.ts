// The graph of a lab model's training step, from the real host: BatchNorm, LayerNorm, dropout and
// the residual sum show as their primitive nodes marked with their module, with real shapes, and
// every node has a rule of its own (never the unknown-op fallback) plus its module's note.
import { describe, expect, it } from 'vitest'
import { testHost } from '../../../../host/test-helpers'
import { parseReply, type RequestResult } from '../../../../shared/protocol'
import { moduleKind, moduleNote } from './use-graph-modules'
import { vjpRule } from './use-graph-vjp'

type Graph = RequestResult<'session.graph'>

const FALLBACK = /^The engine's local rule/

async function graphOf(blocks: unknown, batchSize: number): Promise<Graph> {
  const h = testHost()
  try {
    const info = await h.ok('session.create', {
      model: { hidden: [5, 5], activation: 'tanh', blocks: blocks as never },
      data: { generator: 'moons', n: 100, seed: 2 },
      optimizer: { type: 'sgd', lr: 0.1 },
      train: { batchSize: 16, evalEvery: 50, seed: 1 },
      backend: 'cpu',
    })
    await h.ok('session.step', { sessionId: info.state.sessionId, steps: 2 })
    const r = parseReply('session.graph', await h.send('session.graph', { sessionId: info.state.sessionId, batchSize }))
    if (!r.ok) throw new Error(r.error.message)
    return r.result
  } finally {
    h.host.dispose()
  }
}

const inputsOf = (g: Graph, id: number) =>
  g.edges
    .filter((e) => e.to === id)
    .sort((a, b) => a.inputIndex - b.inputIndex)
    .map((e) => g.nodes[e.from]!)

describe('the lab modules in the graph view', () => {
  it('a BatchNorm + dropout + residual step, in train mode: grouped nodes (the fused norms among them) with their rules and shapes', async () => {
    const g = await graphOf(
      [
        { norm: 'batch', normAt: 'mid', dropout: 0.2, residual: false },
        { norm: 'layer', normAt: 'post', dropout: 0, residual: true },
      ],
      4,
    )
    expect(g.mode).toBe('train')
    const groups = new Set(g.nodes.map((n) => n.group).filter(Boolean))
    expect([...groups].sort()).toEqual([
      'dropout · layers.0 (p = 0.2)',
      'norms.0 · BatchNorm1d (batch statistics)',
      'norms.1 · LayerNorm',
      'residual · layers.1 (x + F(x))',
    ])
    for (const n of g.nodes) {
      const rule = vjpRule(n, inputsOf(g, n.id))
      expect(rule.signature, `node ${n.id} (${n.op || n.label})`).not.toMatch(FALLBACK)
      if (n.op) expect(rule.lines.length, `node ${n.id} (${n.op})`).toBeGreaterThan(0)
    }
    const bn = g.nodes.filter((n) => n.group?.startsWith('norms.0'))
    // BatchNorm in train mode is one fused node over the 4 rows ([4, 5] in and out), with γ and β in the group.
    expect(bn.filter((n) => n.op !== '').map((n) => [n.op, n.shape.join()])).toEqual([['batchNorm', '4,5']])
    expect(bn.map((n) => n.label)).toEqual(expect.arrayContaining(['norms.0.weight', 'norms.0.bias']))
    const bnNode = bn.find((n) => n.op === 'batchNorm')!
    expect(inputsOf(g, bnNode.id).map((n) => n.shape.join())).toEqual(['4,5', '5', '5'])
    expect(vjpRule(bnNode, inputsOf(g, bnNode.id)).lines.map((l) => l.target)).toEqual(['dx', 'dγ', 'dβ'])
    const ln = g.nodes.filter((n) => n.group === 'norms.1 · LayerNorm')
    expect(ln.filter((n) => n.op !== '').map((n) => n.op)).toEqual(['layerNorm'])
    const [residual] = g.nodes.filter((n) => n.group?.startsWith('residual'))
    expect(residual).toMatchObject({ op: 'add', shape: [4, 5] })
    expect(moduleNote(residual!)).toContain('skip path carries the gradient')
    const drop = g.nodes.filter((n) => n.group?.startsWith('dropout') && n.op !== '')
    expect(drop.map((n) => n.op)).toEqual(['mul'])
    expect(moduleNote(bnNode)).toContain('every row’s gradient depends on the whole batch')
  })

  it('a one-row batch with BatchNorm is drawn in eval mode: the running statistics are constants, no batch sums', async () => {
    const g = await graphOf([{ norm: 'batch', normAt: 'pre', dropout: 0, residual: false }, {}], 1)
    expect(g.mode).toBe('eval')
    const bn = g.nodes.filter((n) => n.group === 'norms.0 · BatchNorm1d (running statistics)')
    expect(bn.map((n) => n.label)).toEqual(expect.arrayContaining(['norms.0.weight', 'norms.0.bias']))
    // No batch statistics: the running ones enter as constants (no gradient flows into them), so no sums.
    expect(bn.filter((n) => n.op === 'sum')).toEqual([])
    expect(bn.filter((n) => n.kind === 'constant').length).toBeGreaterThan(0)
  })

  it('module kinds from group labels, and a fused norm op gets its own rule instead of the fallback', () => {
    expect(
      ['norms.2 · BatchNorm1d (batch statistics)', 'norms.0 · LayerNorm', 'dropout · layers.0 (p = 0.5)', 'x'].map(moduleKind),
    ).toEqual(['batchNorm', 'layerNorm', 'dropout', null])
    const t = (shape: number[], kind: 'op' | 'parameter' = 'parameter') => ({
      id: 0,
      op: kind === 'op' ? 'batchNorm' : '',
      label: '',
      kind,
      shape,
      value: { mean: 0, std: 0, min: 0, max: 0, norm: 0, nonFinite: 0 },
      grad: null,
    })
    const rule = vjpRule(t([8, 3], 'op'), [t([8, 3]), t([3]), t([3])])
    expect(rule.lines.map((l) => l.target)).toEqual(['dx', 'dγ', 'dβ'])
    expect(rule.signature).not.toMatch(FALLBACK)
  })
})
