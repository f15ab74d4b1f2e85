// The inspection requests through the host: results that match the protocol and the engine's own
// numbers, and typed errors for bad programs, sessions, layers, neurons, parameters and data.
import { afterEach, describe, expect, it } from 'vitest'
import { data, nn, noGrad, SCALAR_PRESETS, tensor } from '../engine'
import { parseReply, type RequestKind, type RequestPayload } from '../shared/protocol'
import { spec, testHost } from './test-helpers'
import type { TrainingSession } from './session'

let current: ReturnType<typeof testHost> | null = null
function make() {
  current = testHost()
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
})

/** A request that must succeed, checked against the protocol's result schema as a renderer would. */
async function valid<K extends RequestKind>(kind: K, payload: RequestPayload<K>) {
  const r = await current!.send(kind, payload)
  const parsed = parseReply(kind, r)
  if (!parsed.ok) throw new Error(`${kind}: ${parsed.error.code}: ${parsed.error.message}`)
  return parsed.result
}

const session = (id = 's1'): TrainingSession => current!.host['sessions'].get(id)!

describe('scalar.evaluate', () => {
  it('the seed example: values, grads, labels, ids and the six chain-rule steps', async () => {
    make()
    const p = await valid('scalar.evaluate', { source: SCALAR_PRESETS.find((x) => x.id === 'seed')!.source })
    const byLabel = Object.fromEntries(p.nodes.map((n) => [n.label, n]))
    expect(Object.fromEntries(Object.entries(byLabel).map(([k, n]) => [k, n.grad]))).toEqual({
      a: 6,
      b: -4,
      c: -2,
      e: -2,
      d: -2,
      f: 4,
      L: 1,
    })
    expect(p.rootId).toBe(byLabel.L.id)
    expect(p.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(p.variables.map((v) => v.name)).toEqual(['a', 'b', 'c', 'e', 'd', 'f', 'L'])
    expect(byLabel.e).toMatchObject({ op: 'mul', inputs: [byLabel.a.id, byLabel.b.id] })
    expect(p.steps.map((s) => [p.nodes[s.nodeId].label, p.nodes[s.inputId].label, s.gradAfter])).toEqual([
      ['L', 'd', -2],
      ['L', 'f', 4],
      ['d', 'e', -2],
      ['d', 'c', -2],
      ['e', 'a', 6],
      ['e', 'b', -4],
    ])
    expect(p.steps[0].rule).toBe('mul swaps: local derivative is the other operand (-2)')
    // No value is used twice, so the `=` bug changes nothing here.
    expect(p.wrongGrads.map((g) => g.grad)).toEqual(p.nodes.map((n) => n.grad))
    // The same program gets the same ids and numbers every time.
    expect(await valid('scalar.evaluate', { source: SCALAR_PRESETS[0].source })).toEqual(p)
  })

  it('b = a + a: two contributions summing to 2, and 1 with `=` instead of `+=`', async () => {
    make()
    const p = await valid('scalar.evaluate', { source: 'a = 3\nb = a + a' })
    expect(p.nodes).toEqual([
      { id: 0, label: 'a', op: '', data: 3, grad: 2, inputs: [] },
      { id: 1, label: 'b', op: 'add', data: 6, grad: 1, inputs: [0, 0] },
    ])
    expect(p.steps.map((s) => [s.inputIndex, s.contribution, s.gradBefore, s.gradAfter])).toEqual([
      [0, 1, 0, 1],
      [1, 1, 1, 2],
    ])
    expect(p.wrongSteps.map((s) => s.gradAfter)).toEqual([1, 1])
    expect(p.wrongGrads).toEqual([
      { nodeId: 0, grad: 1 },
      { nodeId: 1, grad: 1 },
    ])
  })

  it('every preset evaluates to a valid reply; pow keeps its exponent, max its rule', async () => {
    make()
    for (const preset of SCALAR_PRESETS) {
      const p = await valid('scalar.evaluate', { source: preset.source })
      expect(p.nodes.at(-1)!.id, preset.id).toBe(p.rootId)
    }
    const tanh = await valid('scalar.evaluate', { source: SCALAR_PRESETS.find((x) => x.id === 'tanh-neuron')!.source })
    const grad = (label: string) => tanh.nodes.find((n) => n.label === label)!.grad
    expect([grad('x1'), grad('w1'), grad('x2'), grad('w2')].map((g) => Math.round(g * 1e6) / 1e6)).toEqual([-1.5, 1, 0.5, 0])
    const more = await valid('scalar.evaluate', { source: 'a = 2; b = a**3; m = max(b, 1)' })
    expect(more.nodes.find((n) => n.op === 'pow')!.exponent).toBe(3)
    expect(more.steps.find((s) => more.nodes[s.nodeId].op === 'max')!.rule).toMatch(/^max routes: /)
  })

  it('bad programs are invalid_payload errors that say where and what', async () => {
    const { fail } = make()
    const cases: [string, string][] = [
      ['a = 2\ne = a*', "expression: line 2, col 7: expected an expression after '*'"],
      ['a = 2; L = a*c', 'expression: line 1, col 14: c is used before it is assigned'],
      ['a = sqrt(2)', "expression: line 1, col 5: unknown function 'sqrt'; the functions are tanh, exp, log, relu, max"],
      ['', 'expression: line 1, col 1: the program is empty: write assignments such as a = 2 and L = a*b, one per line or separated by ;'],
      ['a = 1000\nb = exp(a)', 'expression: line 2, col 5: exp: result is Infinity for operand(s) 1000'],
      [
        'a = 0\nb = a**0.5',
        'scalar.evaluate: backward failed: pow: gradient into operand 0 is Infinity (upstream 1, local derivative Infinity)',
      ],
      [
        ['x=1', ...Array(500).fill('x=x+x')].join('\n'),
        'expression: line 501, col 4: the program builds more than 500 nodes; the explainer draws every one, so keep it smaller',
      ],
    ]
    for (const [source, message] of cases) {
      const e = await fail('scalar.evaluate', { source })
      expect(e, source.slice(0, 30)).toEqual({ code: 'invalid_payload', message })
    }
    // Gradients that overflow while the values stay finite cannot cross JSON either.
    expect(await fail('scalar.evaluate', { source: 'a = 1e-300\nL = a*1e200*1e200' })).toEqual({
      code: 'invalid_payload',
      message: 'scalar.evaluate: backward failed: mul: gradient into operand 0 is Infinity (upstream 1e+200, local derivative 1e+200)',
    })
  })
})

describe('session.graph', () => {
  it('one step of the current model on the first rows, labelled, with every gradient', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ model: { hidden: [8], activation: 'relu' } }))
    const g = await valid('session.graph', { sessionId: 's1' })
    expect(g).toMatchObject({ sessionId: 's1', step: 0, batchSize: 4, rootId: g.nodes.length - 1 })
    const label = (l: string) => g.nodes.find((n) => n.label === l)!
    expect(label('input x')).toMatchObject({ kind: 'input', shape: [4, 2], grad: null })
    expect(label('labels (one-hot)')).toMatchObject({ kind: 'input', shape: [4, 2], grad: null })
    expect(label('layers.1.weight')).toMatchObject({ kind: 'parameter', shape: [8, 2] })
    expect(label('loss')).toMatchObject({ kind: 'loss', shape: [] })
    expect(g.nodes.filter((n) => n.op === 'matmul').map((n) => [n.shape, n.transA, n.transB])).toEqual([
      [[4, 8], false, false],
      [[4, 2], false, false],
    ])
    expect(g.nodes.some((n) => n.op === 'relu' && n.grad !== null)).toBe(true)
    // The loss node's value is the session's loss on those rows.
    const s = session()
    const { train } = s.trainer.data
    const loss = noGrad(() =>
      s.trainer.plan.loss(s.trainer.model.forward(tensor(train.x.slice(0, 8), { shape: [4, 2] })), train.y.slice(0, 4)),
    )
    expect(label('loss').value.mean).toBeCloseTo((await loss.data())[0], 6)

    await ok('session.step', { sessionId: 's1', steps: 5 })
    expect((await valid('session.graph', { sessionId: 's1', batchSize: 64 })).batchSize).toBe(64)
    expect((await valid('session.graph', { sessionId: 's1', batchSize: 1 })).step).toBe(5)
    expect((await fail('session.graph', { sessionId: 's9' })).code).toBe('not_found')
  })

  it('works for every loss (targets are labelled too) and clamps the batch to the training set', async () => {
    const { ok } = make()
    await ok('session.create', spec({ data: { generator: 'reg-plane', n: 10, testRatio: 0.5 } }))
    await ok('session.create', spec({ model: { hidden: [4], loss: 'bceWithLogits' } }))
    await ok('session.create', spec({ model: { hidden: [], loss: 'hinge' } }))
    const mse = await valid('session.graph', { sessionId: 's1', batchSize: 64 })
    expect(mse.batchSize).toBe(5)
    for (const id of ['s1', 's2', 's3']) {
      const g = await valid('session.graph', { sessionId: id })
      // mse reads them negated (sub is add of neg); the others read them as they are.
      expect(
        g.nodes.find((n) => n.label === (id === 's1' ? '-targets' : 'targets')),
        id,
      ).toMatchObject({ kind: 'input', grad: null })
      expect(g.nodes[g.rootId].kind).toBe('loss')
    }
  })
})

describe('session.network', () => {
  it('all edges of a small model, neurons per layer, and the last update of each weight', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ model: { hidden: [5, 3] } }))
    const n0 = await valid('session.network', { sessionId: 's1' })
    expect(n0.featureNames).toEqual(['x1', 'x2'])
    expect(n0.layers.map((l) => [l.name, l.inFeatures, l.outFeatures, l.activation, l.weight.length, l.sampled])).toEqual([
      ['layers.0', 2, 5, 'tanh', 10, false],
      ['layers.1', 5, 3, 'tanh', 15, false],
      ['layers.2', 3, 2, 'linear', 6, false],
    ])
    const w1 = Array.from(session().trainer.model.layers[1].weight.dataSync())
    expect(n0.layers[1].weight).toEqual(w1)
    expect(n0.layers[1].from.slice(0, 4)).toEqual([0, 0, 0, 1])
    expect(n0.layers[1].to.slice(0, 4)).toEqual([0, 1, 2, 0])
    expect(n0.layers.every((l) => l.update.every((u) => u === 0))).toBe(true)
    expect(n0.neurons.map((n) => [n.activation.length, n.gradActivation.length])).toEqual([
      [2, 2],
      [5, 5],
      [3, 3],
      [2, 2],
    ])
    // Input means are the column means of the first 256 training rows (all 140 here).
    const { train } = session().trainer.data
    const mean0 = Array.from({ length: train.n }, (_, i) => train.x[2 * i]).reduce((a, b) => a + b, 0) / train.n
    expect(n0.neurons[0].activation[0]).toBeCloseTo(mean0, 5)
    // For softmax cross-entropy, the mean ∂loss/∂logit per example is mean(p - onehot): it sums to 0.
    expect(n0.neurons[3].gradActivation[0] + n0.neurons[3].gradActivation[1]).toBeCloseTo(0, 6)
    expect(Math.abs(n0.neurons[3].gradActivation[0])).toBeGreaterThan(0)

    const before = session()
      .trainer.model.parameters()
      .map((p) => Array.from(p.dataSync()))
    await ok('session.step', { sessionId: 's1', steps: 1 })
    const after = session()
      .trainer.model.parameters()
      .map((p) => Array.from(p.dataSync()))
    const n1 = await valid('session.network', { sessionId: 's1' })
    expect(n1.step).toBe(1)
    n1.layers.forEach((l, i) => l.update.forEach((u, k) => expect(u).toBeCloseTo(after[2 * i][k] - before[2 * i][k], 7)))
    expect(n1.layers[0].update.some((u) => u !== 0)).toBe(true)
    expect((await fail('session.network', { sessionId: 's2' })).code).toBe('not_found')
  })

  it('samples the strongest edges when a layer has more than maxEdgesPerLayer', async () => {
    const { ok } = make()
    await ok('session.create', spec({ model: { hidden: [40, 30] } }))
    const n = await valid('session.network', { sessionId: 's1', maxEdgesPerLayer: 50 })
    expect(n.layers.map((l) => [l.weight.length, l.sampled])).toEqual([
      [50, true],
      [50, true],
      [50, true],
    ])
    const all = Array.from(session().trainer.model.layers[1].weight.dataSync(), Math.abs).sort((a, b) => b - a)
    const l1 = n.layers[1]
    expect(l1.weight.map(Math.abs).sort((a, b) => b - a)).toEqual(all.slice(0, 50))
    l1.from.forEach((f, k) => expect(session().trainer.model.layers[1].weight.dataSync()[f * 30 + l1.to[k]]).toBe(l1.weight[k]))
    expect(l1.bias).toHaveLength(30)
    expect(l1.biasGrad).toHaveLength(30)
  })
})

describe('session.neuronMap', () => {
  it('a hidden neuron and the output probabilities over the padded data range', async () => {
    const { ok } = make()
    await ok(
      'session.create',
      spec({ model: { hidden: [6] }, data: { generator: 'xor', n: 200, seed: 1, features: ['x1', 'x2', 'x1x2'] } }),
    )
    await ok('session.step', { sessionId: 's1', steps: 20 })
    const raw = session().trainer.data.raw
    const xs = Array.from({ length: raw.n }, (_, i) => raw.x[2 * i])
    const m = await valid('session.neuronMap', { sessionId: 's1', layer: 0, neuron: 2, resolution: 8 })
    expect(m.values).toHaveLength(64)
    expect(m.xRange[0]).toBeLessThan(Math.min(...xs))
    expect(m.xRange[1]).toBeGreaterThan(Math.max(...xs))
    expect(m.min).toBe(Math.min(...m.values))
    expect(m.max).toBe(Math.max(...m.values))
    expect(m.min).toBeGreaterThanOrEqual(-1) // tanh
    // The top-left value is the neuron at (xMin, yMax), featurized as the session's inputs are.
    const model = session().trainer.model
    const f = data.featurizeRows(Float32Array.of(m.xRange[0], m.yRange[1]), ['x1', 'x2', 'x1x2'])
    const h = noGrad(() => nn.activate(model.layers[0].forward(tensor(f, { shape: [1, 3] })), 'tanh'))
    expect(m.values[0]).toBeCloseTo(h.dataSync()[2], 6)

    const p0 = await valid('session.neuronMap', { sessionId: 's1', layer: 1, neuron: 0, resolution: 4 })
    const p1 = await valid('session.neuronMap', { sessionId: 's1', layer: 1, neuron: 1, resolution: 4 })
    p0.values.forEach((v, i) => expect(v + p1.values[i]).toBeCloseTo(1, 6))
    expect(p0.min).toBeGreaterThanOrEqual(0)
    expect(p0.max).toBeLessThanOrEqual(1)
  })

  it('refuses a layer or neuron that does not exist, and data that is not 2-D', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ model: { hidden: [6] } }))
    expect(await fail('session.neuronMap', { sessionId: 's1', layer: 2, neuron: 0 })).toEqual({
      code: 'invalid_payload',
      message: 'session.neuronMap: layer 2 does not exist; the model has 2 layers (0..1, the last is the output)',
    })
    expect(await fail('session.neuronMap', { sessionId: 's1', layer: 0, neuron: 6 })).toEqual({
      code: 'invalid_payload',
      message: 'session.neuronMap: neuron 6 does not exist; layer 0 has 6 neurons (0..5)',
    })
    expect((await fail('session.neuronMap', { sessionId: 's7', layer: 0, neuron: 0 })).code).toBe('not_found')
    const split = session().trainer.data
    split.raw = { ...split.raw, name: 'three-d', nFeatures: 3, x: new Float32Array(split.raw.n * 3), featureNames: ['a', 'b', 'c'] }
    expect(await fail('session.neuronMap', { sessionId: 's1', layer: 0, neuron: 0 })).toEqual({
      code: 'invalid_payload',
      message: 'session.neuronMap: needs a dataset of 2-D points to draw over the plane, but "three-d" has 3 raw features',
    })
  })
})

describe('session.gradcheck', () => {
  it('agrees with central differences for weights and biases, evenly spread over the tensor', async () => {
    const { ok } = make()
    await ok('session.create', spec({ model: { hidden: [8, 8] } }))
    await ok('session.step', { sessionId: 's1', steps: 10 })
    const r = await valid('session.gradcheck', { sessionId: 's1', param: 'layers.1.weight' })
    expect(r).toMatchObject({ param: 'layers.1.weight', checked: 50, total: 64 })
    expect(r.maxRelError).toBeLessThan(1e-6)
    expect(r.samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 10, 11])
    expect(r.samples.some((s) => Math.abs(s.analytic) > 1e-4)).toBe(true)
    expect(r.method).toMatch(
      /central differences .* ε = 1e-6, .* float64 copy of the model at step 10, loss over the first 16 training rows; 50 of 64 elements/,
    )
    const b = await valid('session.gradcheck', { sessionId: 's1', param: 'layers.2.bias', maxElements: 500 })
    expect(b).toMatchObject({ checked: 2, total: 2 })
    expect(b.maxRelError).toBeLessThan(1e-6)
  })

  it('works for every loss', async () => {
    const { ok } = make()
    await ok('session.create', spec({ data: { generator: 'reg-gauss', n: 100 }, model: { hidden: [6], activation: 'sigmoid' } }))
    await ok('session.create', spec({ model: { hidden: [6], loss: 'bceWithLogits', activation: 'gelu' } }))
    await ok('session.create', spec({ model: { hidden: [6], loss: 'hinge' } }))
    await ok('session.create', spec({ data: { generator: 'spiral3', n: 120, classes: 3 }, model: { hidden: [6] } }))
    for (const id of ['s1', 's2', 's3', 's4']) {
      const r = await valid('session.gradcheck', { sessionId: id, param: 'layers.0.weight', maxElements: 12 })
      expect(r.maxRelError, id).toBeLessThan(1e-6)
      expect(r.checked).toBe(12)
    }
  })

  it('names the valid parameters when asked for one that does not exist', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec())
    expect(await fail('session.gradcheck', { sessionId: 's1', param: 'layers.5.weight' })).toEqual({
      code: 'not_found',
      message:
        'session.gradcheck: no parameter "layers.5.weight"; the model\'s parameters are layers.0.weight, layers.0.bias, layers.1.weight, layers.1.bias',
    })
    expect((await fail('session.gradcheck', { sessionId: 's3', param: 'layers.0.weight' })).code).toBe('not_found')
  })
})

describe('inspection of a big model stays within its time budget', () => {
  it('fewer rows, elements or grid points, and the results say so', async () => {
    const { ok } = make()
    await ok('session.create', spec({ model: { hidden: [512, 512] } }))
    const g = await valid('session.graph', { sessionId: 's1', batchSize: 64 })
    expect(g.batchSize).toBeLessThan(64)
    expect(g.batchSize).toBeGreaterThan(8)
    const c = await valid('session.gradcheck', { sessionId: 's1', param: 'layers.1.weight' })
    expect(c.checked).toBeLessThan(50)
    expect(c.checked).toBeGreaterThan(0)
    expect(c.maxRelError).toBeLessThan(1e-6)
    expect(c.method).toMatch(/capped at \d+ to bound the time a model this size may take/)
    const m = await valid('session.neuronMap', { sessionId: 's1', layer: 2, neuron: 0, resolution: 64 })
    expect(m.resolution).toBeLessThan(64)
    expect(m.values).toHaveLength(m.resolution ** 2)
    // 512-wide columns show 64 neurons spread evenly; the input (2) and output columns show all.
    const n = await valid('session.network', { sessionId: 's1', maxEdgesPerLayer: 1000 })
    expect(n.layers.map((l) => [l.weight.length, l.sampled])).toEqual([
      [128, true],
      [1000, true],
      [128, true],
    ])
    expect(n.shown?.map((c) => c.length)).toEqual([2, 64, 64, 2])
    expect(n.shown?.[1].slice(0, 3)).toEqual([4, 12, 20])
    expect(n.neurons[1].activation).toHaveLength(64)
    expect(n.layers[0].bias).toHaveLength(64)
    const w1 = session().trainer.model.layers[1].weight.dataSync()
    n.layers[1].from.forEach((f, k) => expect(w1[n.shown![1][f] * 512 + n.shown![2][n.layers[1].to[k]]]).toBe(n.layers[1].weight[k]))
    const all = await valid('session.network', { sessionId: 's1', maxEdgesPerLayer: 10, maxNeurons: 512 })
    expect(all.shown).toBeUndefined()
    expect(all.neurons[1].activation).toHaveLength(512)
  })
})
