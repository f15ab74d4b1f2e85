// The gradient-flow lab's blocks through the host: sessions build them (parameter count, names,
// the architecture line), refuse impossible ones in the studio's own words, train in train mode
// while evaluations and every inspection leave the running statistics and the dropout generator
// alone, put the statistics back when a step is refused, and tell the deep-sigmoid story: the
// vanishing alarm fires without norms and not with BatchNorm on every layer.
import { afterEach, describe, expect, it } from 'vitest'
import { add, mul, softmaxCrossEntropy, sqrt, sum } from '../engine'
import { modelParamCount } from '../shared/model-rules'
import { parseReply, SessionSpec, type RequestKind, type RequestPayload } from '../shared/protocol'
import { blockProblems, blocksOf } from '../shared/model-blocks'
import { prepareData } from './data-source'
import type { TrainingSession } from './session'
import { planLoss, type LossPlan } from './setup'
import { spec, testHost } from './test-helpers'
import { Trainer } from './trainer'
import { chunkFlopsForRows } from './work-budget'

let current: ReturnType<typeof testHost> | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
})
const make = () => (current = testHost())
const session = (id = 's1'): TrainingSession => current!.host['sessions'].get(id)!

/** Two hidden layers of 8: BatchNorm (mid) and dropout on both, a residual on the second. */
const BLOCKS = [
  { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
  { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.1, residual: true },
]
const blockSpec = (over: Partial<RequestPayload<'session.create'>> = {}) =>
  spec({ model: { hidden: [8, 8], activation: 'tanh', blocks: BLOCKS }, optimizer: { type: 'adam', lr: 0.01 }, ...over })

/** What a training step may move besides the weights: every buffer's values and the dropout generator. */
function stateOf(s: TrainingSession): unknown {
  const m = s.trainer.model
  return { buffers: m.namedBuffers().map(([k, b]) => [k, Array.from(b.dataSync())]), rng: m.dropoutRng?.getState() }
}

async function valid<K extends RequestKind>(kind: K, payload: RequestPayload<K>) {
  const r = await current!.send(kind, payload)
  const parsed = parseReply(kind, r)
  if (!parsed.ok) throw new Error(`${kind}: ${parsed.error.code}: ${parsed.error.message}`)
  return parsed.result
}

describe('the lab blocks in a session', () => {
  it('session.create builds them: the shared parameter count, norms named by layer, info and describe report them', async () => {
    const { ok } = make()
    const info = await ok('session.create', blockSpec())
    const sizes = [2, 8, 8, 2]
    expect(info.paramCount).toBe(modelParamCount(sizes, BLOCKS))
    expect(info.spec.model.blocks).toEqual(BLOCKS)
    const m = session().trainer.model
    expect(
      m
        .namedParameters()
        .map(([k]) => k)
        .filter((k) => k.startsWith('norms.')),
    ).toEqual(['norms.0.weight', 'norms.0.bias', 'norms.1.weight', 'norms.1.bias'])
    expect(m.namedBuffers().map(([k]) => k)).toEqual([
      'norms.0.running_mean',
      'norms.0.running_var',
      'norms.0.num_batches_tracked',
      'norms.1.running_mean',
      'norms.1.running_var',
      'norms.1.num_batches_tracked',
    ])
    expect(m.training).toBe(false)
    const d = await valid('session.describe', { sessionId: 's1' })
    expect(d.architecture).toBe('2 → 8 BN tanh drop 0.2 → 8 BN tanh drop 0.1 +skip → 2 (softmax CE)')
    expect(d.paramCount).toBe(info.paramCount)
    // Every position and LayerNorm build too, each with the count the form shows.
    for (const normAt of ['pre', 'mid', 'post'] as const) {
      const blocks = [
        { norm: 'layer' as const, normAt, dropout: 0, residual: false },
        { norm: 'batch' as const, normAt, dropout: 0, residual: true },
      ]
      const r = await ok('session.create', spec({ model: { hidden: [8, 8], blocks } }))
      expect(r.paramCount).toBe(modelParamCount(sizes, blocks))
    }
  })

  it('refuses a residual across widths and BatchNorm on batches of one in the shared words, at create and at update', async () => {
    const { ok, fail } = make()
    const across = [{ norm: 'none' as const, normAt: 'mid' as const, dropout: 0, residual: true }]
    const e1 = await fail('session.create', spec({ model: { hidden: [8], blocks: across } }))
    expect(e1.code).toBe('invalid_payload')
    expect(e1.message).toBe(`model.blocks.0.residual: ${blockProblems([2, 8, 2], blocksOf(1, across), 16)[0]!.message}`)
    const e2 = await fail('session.create', blockSpec({ train: { batchSize: 1, seed: 1 } }))
    expect(e2.code).toBe('invalid_payload')
    expect(e2.message).toContain(`model.blocks.0.norm: ${blockProblems([2, 8, 8, 2], blocksOf(2, BLOCKS), 1)[0]!.message}`)
    expect(e2.message).toContain('model.blocks.1.norm: BatchNorm on hidden layer 2 needs batches of at least 2 rows')
    expect(current!.host['sessions'].size).toBe(0)
    // A session that exists: a batch size of one is refused, and nothing changes.
    await ok('session.create', blockSpec())
    const e3 = await fail('session.update', { sessionId: 's1', batchSize: 1, l2: 0.5 })
    expect(e3).toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('(the batch size is 1); raise the batch size or use LayerNorm'),
    })
    expect(session().spec.train).toMatchObject({ batchSize: 16, l2: 0 })
    await ok('session.update', { sessionId: 's1', batchSize: 2 })
  })

  it('running statistics and the dropout generator move in training steps only: evaluations and inspections leave them', async () => {
    const { ok } = make()
    await ok('session.create', blockSpec())
    const s0 = stateOf(session())
    await ok('session.step', { sessionId: 's1', steps: 5 })
    const s5 = stateOf(session())
    expect(s5).not.toEqual(s0)
    const [mean, , tracked] = session()
      .trainer.model.namedBuffers()
      .map(([, b]) => Array.from(b.dataSync()))
    expect(tracked).toEqual([5]) // one batch per step, none for the evaluation at step 0
    expect(mean.some((v) => v !== 0)).toBe(true)
    expect(session().trainer.evaluate()).not.toBeNull()
    const graph = await valid('session.graph', { sessionId: 's1', batchSize: 4 })
    await valid('session.network', { sessionId: 's1', maxEdgesPerLayer: 100 })
    await valid('session.neuronMap', { sessionId: 's1', layer: 1, neuron: 0, resolution: 8 })
    const hist = await valid('session.histograms', { sessionId: 's1', bins: 10, range: 'auto' })
    await valid('session.boundary', { sessionId: 's1', resolution: 16 })
    await valid('session.predictions', { sessionId: 's1', split: 'test', max: 10 })
    const gc = await valid('session.gradcheck', { sessionId: 's1', param: 'norms.1.weight', maxElements: 8 })
    await valid('session.describe', { sessionId: 's1' })
    expect(stateOf(session())).toEqual(s5)
    // The graph (a train-mode step on a private copy: the state above is untouched) shows the norms' γ and β, the histograms too.
    const labels = graph.nodes.map((n) => n.label)
    expect(labels).toEqual(expect.arrayContaining(['norms.0.weight', 'norms.0.bias', 'norms.1.weight', 'norms.1.bias']))
    expect(hist.layers.map((l) => l.name)).toEqual(['layers.0', 'layers.1', 'layers.2', 'norms.0', 'norms.1'])
    expect(hist.layers[3].weights.count).toBe(8)
    expect(hist.layers[3].grads).not.toBeNull()
    expect(gc.maxRelError).toBeLessThan(1e-6)
    expect(gc.method).toContain('in eval mode (BatchNorm normalising with its running statistics, dropout off)')
    await ok('session.step', { sessionId: 's1', steps: 1 })
    expect(stateOf(session())).not.toEqual(s5)
  })

  it('gradient checks pass for every parameter of a LayerNorm (pre) + residual model', async () => {
    const { ok } = make()
    const blocks = [
      { norm: 'layer' as const, normAt: 'pre' as const, dropout: 0.3, residual: false },
      { norm: 'layer' as const, normAt: 'post' as const, dropout: 0, residual: true },
    ]
    await ok('session.create', spec({ model: { hidden: [6, 6], activation: 'tanh', blocks } }))
    await ok('session.step', { sessionId: 's1', steps: 3 })
    for (const [name] of session().trainer.model.namedParameters()) {
      const gc = await valid('session.gradcheck', { sessionId: 's1', param: name, maxElements: 12 })
      expect(gc.maxRelError, name).toBeLessThan(1e-6)
    }
  })

  it('a refused step leaves the running statistics as they were (its dropout masks count as drawn, as its batch does)', () => {
    const s = SessionSpec.parse(blockSpec())
    const d = prepareData(s.data, null)
    // loss + 0·√(0·Σout): a finite value whose gradient is NaN, refused after the forward pass moved the statistics.
    const plan = planLoss('auto', 'binary', 2, 'xor')
    const poisoned: LossPlan = { ...plan, loss: (out, y) => add(softmaxCrossEntropy(out, y), mul(sqrt(mul(sum(out), 0)), 0)) }
    const t = new Trainer(d, poisoned, s)
    const before = t.model.namedBuffers().map(([, b]) => Array.from(b.dataSync()))
    const rng = t.model.dropoutRng!.getState()
    const r = t.trainStep(false)
    expect(r.ok).toBe(false)
    expect(t.model.namedBuffers().map(([, b]) => Array.from(b.dataSync()))).toEqual(before)
    expect(t.model.dropoutRng!.getState()).not.toEqual(rng)
    expect(t.model.training).toBe(false)
  })

  it('a LayerNorm + residual step split into chunks of rows is the unsplit step; with dropout or BatchNorm a step is one piece', () => {
    const ONE_ROW = chunkFlopsForRows([2, 8, 8, 2], 1) // step chunks of one row
    const trainerOf = (blocks: RequestPayload<'session.create'>['model']['blocks'], chunkFlops?: number) => {
      const s = SessionSpec.parse(spec({ model: { hidden: [8, 8], blocks }, optimizer: { type: 'adam', lr: 0.01 } }))
      const d = prepareData(s.data, null)
      return new Trainer(d, planLoss('auto', 'binary', 2, 'xor'), s, undefined, chunkFlops === undefined ? {} : { chunkFlops })
    }
    const ln = [
      { norm: 'layer' as const, normAt: 'pre' as const, dropout: 0, residual: false },
      { norm: 'layer' as const, normAt: 'post' as const, dropout: 0, residual: true },
    ]
    const whole = trainerOf(ln)
    const split = trainerOf(ln, ONE_ROW)
    expect([whole.stepChunkRows, split.stepChunkRows]).toEqual([16, 1])
    for (let i = 0; i < 5; i++) {
      const [a, b] = [whole.trainStep(false), split.trainStep(false)]
      if (!a.ok || !b.ok) throw new Error('refused')
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5)
    }
    expect(trainerOf(BLOCKS, ONE_ROW).stepChunkRows).toBe(16)
    expect(trainerOf([ln[0], { ...ln[1], dropout: 0.1 }], ONE_ROW).stepChunkRows).toBe(16)
  })

  it('drops a last batch of one row for BatchNorm (PyTorch would refuse to train on it)', () => {
    const s = SessionSpec.parse(blockSpec())
    const d = prepareData(s.data, null)
    // Batches of all rows but one: each epoch is one batch and a row left over.
    s.train.batchSize = d.train.n - 1
    const t = new Trainer(d, planLoss('auto', 'binary', 2, 'xor'), s)
    for (let i = 0; i < 3; i++) expect(t.trainStep(false).ok, `step ${i + 1}`).toBe(true)
    expect(t.epoch).toBe(3)
  })

  it('deep sigmoid: the vanishing alarm fires without norms and not with BatchNorm (mid) on every layer, in the same 40 steps', async () => {
    const { ok, of } = make()
    const deep = (norm: 'none' | 'batch') =>
      spec({
        model: {
          hidden: Array<number>(12).fill(16),
          activation: 'sigmoid',
          blocks: Array.from({ length: 12 }, () => ({ norm, normAt: 'mid' as const, dropout: 0, residual: false })),
        },
        data: { generator: 'spiral', n: 200, seed: 1 },
        optimizer: { type: 'adam', lr: 0.01 },
        train: { batchSize: 32, seed: 1, evalEvery: 50, alarms: { explodingGradNorm: 1e3, vanishingGradNorm: 1e-7, pause: false } },
      })
    await ok('session.create', deep('none'))
    await ok('session.create', deep('batch'))
    await ok('session.step', { sessionId: 's1', steps: 40 })
    await ok('session.step', { sessionId: 's2', steps: 40 })
    const plain = of('train.alarm', 's1')
    expect(plain.map((a) => a.kind)).toEqual(['vanishing'])
    expect(plain[0].message).toMatch(/vanishing gradients — layers\.0 gradient norm \S+ is below 1e-07 while layers\.12 has/)
    expect(of('train.alarm', 's2')).toEqual([])
    expect(session('s2').step).toBe(40)
  }, 30_000)
})
