// Protocol-valid inspect snapshots for unit tests and screenshots: the autograd graph of one step
// of an MLP with softmax cross-entropy, built the way the engine records it (primitives only), and
// a network snapshot with seeded pseudo-random weights.
import type { RequestResult } from '../../shared/protocol'

type GraphSnapshot = RequestResult<'session.graph'>
type GraphNode = GraphSnapshot['nodes'][number]
type NetworkSnapshot = RequestResult<'session.network'>

function stats(mean: number, norm: number): GraphNode['value'] {
  return { mean, std: Math.abs(mean) + 0.1, min: mean - 1, max: mean + 1, norm, nonFinite: 0 }
}

export interface MlpFixture {
  hidden?: number[]
  activation?: string
  batch?: number
  classes?: number
  features?: number
  /** Multiplies every gradient norm by gradScale^(distance from the loss): < 1 makes them vanish. */
  gradScale?: number
  step?: number
}

/** x → (matmul W, add b, act)* → logits → log-softmax → ·onehot → sum → ·(1/n) → ·(−1) = loss. */
export function mlpGraph(options: MlpFixture = {}): GraphSnapshot {
  const { hidden = [10, 10], activation = 'tanh', batch = 4, classes = 2, features = 2, gradScale = 0.5, step = 0 } = options
  const nodes: GraphNode[] = []
  const edges: GraphSnapshot['edges'] = []
  const depthOf = new Map<number, number>()
  const add = (n: Omit<GraphNode, 'id' | 'value' | 'grad'>, inputs: number[] = [], hasGrad = true): number => {
    const id = nodes.length
    nodes.push({ id, ...n, value: stats(0.1 * id, 1 + id), grad: hasGrad ? stats(0, 1) : null })
    inputs.forEach((from, inputIndex) => edges.push({ from, to: id, inputIndex }))
    return id
  }
  const op = (name: string, shape: number[], inputs: number[], extra: Partial<GraphNode> = {}) =>
    add({ op: name, label: '', kind: 'op', shape, ...extra }, inputs)
  const constant = (shape: number[]) => add({ op: '', label: '', kind: 'constant', shape }, [], false)

  let h = add({ op: '', label: 'input x', kind: 'input', shape: [batch, features] }, [], false)
  const sizes = [features, ...hidden, classes]
  for (let i = 0; i < sizes.length - 1; i++) {
    const w = add({ op: '', label: `layers.${i}.weight`, kind: 'parameter', shape: [sizes[i]!, sizes[i + 1]!] })
    const b = add({ op: '', label: `layers.${i}.bias`, kind: 'parameter', shape: [sizes[i + 1]!] })
    const y = op('matmul', [batch, sizes[i + 1]!], [h, w], { transA: false, transB: false })
    h = op('add', [batch, sizes[i + 1]!], [y, b])
    if (i < sizes.length - 2 && activation !== 'linear') h = op(activation, [batch, sizes[i + 1]!], [h])
  }
  const m = constant([batch, 1])
  const negM = op('mul', [batch, 1], [m, constant([])])
  const z = op('add', [batch, classes], [h, negM])
  const e = op('exp', [batch, classes], [z])
  const s = op('sum', [batch, 1], [e])
  const l = op('log', [batch, 1], [s])
  const negL = op('mul', [batch, 1], [l, constant([])])
  const logp = op('add', [batch, classes], [z, negL])
  const picked = op(
    'mul',
    [batch, classes],
    [logp, add({ op: '', label: 'labels (one-hot)', kind: 'constant', shape: [batch, classes] }, [], false)],
  )
  const flat = op('reshape', [batch * classes], [picked])
  const total = op('sum', [1], [flat])
  const scalar = op('reshape', [], [total])
  const mean = op('mul', [], [scalar, constant([])])
  const rootId = add({ op: 'mul', label: 'loss', kind: 'loss', shape: [] }, [mean, constant([])])

  // Gradient norms shrink with the distance from the loss, so colour tests have something to see.
  depthOf.set(rootId, 0)
  for (let id = nodes.length - 1; id >= 0; id--) {
    const d = depthOf.get(id) ?? 0
    for (const e2 of edges) if (e2.to === id) depthOf.set(e2.from, Math.max(depthOf.get(e2.from) ?? 0, d + 1))
  }
  for (const n of nodes) if (n.grad) n.grad = stats(0, gradScale ** (depthOf.get(n.id) ?? 0) * (1 + step * 0.01))
  return { sessionId: 's1', step, batchSize: batch, nodes, edges, rootId }
}

/** A tiny deterministic generator (mulberry32), so fixtures look random but never change. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
}

export function networkFixture(sizes: number[] = [2, 10, 10, 2], maxEdgesPerLayer = 2000, step = 0): NetworkSnapshot {
  const r = rng(7 + step)
  const layers: NetworkSnapshot['layers'] = []
  for (let i = 0; i < sizes.length - 1; i++) {
    const fin = sizes[i]!
    const fout = sizes[i + 1]!
    const all: { from: number; to: number; w: number }[] = []
    for (let a = 0; a < fin; a++) for (let b = 0; b < fout; b++) all.push({ from: a, to: b, w: r() * 2 })
    const sampled = all.length > maxEdgesPerLayer
    const kept = sampled ? [...all].sort((p, q) => Math.abs(q.w) - Math.abs(p.w)).slice(0, maxEdgesPerLayer) : all
    layers.push({
      name: `layers.${i}`,
      inFeatures: fin,
      outFeatures: fout,
      activation: i === sizes.length - 2 ? 'linear' : 'tanh',
      from: kept.map((e) => e.from),
      to: kept.map((e) => e.to),
      weight: kept.map((e) => e.w),
      grad: kept.map(() => r() * 0.01 * 0.3 ** (sizes.length - 2 - i)),
      update: kept.map(() => r() * 1e-3),
      sampled,
      bias: Array.from({ length: fout }, () => r() * 0.2),
      biasGrad: Array.from({ length: fout }, () => r() * 1e-3),
    })
  }
  const neurons = sizes.map((n) => ({
    activation: Array.from({ length: n }, () => r() * 1.6),
    gradActivation: Array.from({ length: n }, () => r() * 0.02),
  }))
  return { sessionId: 's1', step, featureNames: ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'].slice(0, sizes[0]), layers, neurons }
}
