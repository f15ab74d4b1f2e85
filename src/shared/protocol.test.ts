import { describe, expect, it } from 'vitest'
import * as engine from '../engine'
import {
  ACTIVATION_NAMES,
  ERROR_CODES,
  errorReply,
  eventMessage,
  FEATURE_NAMES,
  GENERATOR_NAMES,
  INIT_NAMES,
  LIMITS,
  LOSS_NAMES,
  okReply,
  parseEvent,
  parseReply,
  parseRequest,
  PROTOCOL_VERSION,
  REQUEST_KINDS,
  type RequestKind,
  type RequestPayload,
} from './protocol'

describe('protocol vocabulary matches the engine', () => {
  it('activations, initialisers, generators and features', () => {
    expect([...ACTIVATION_NAMES]).toEqual([...engine.nn.ACTIVATIONS])
    expect([...INIT_NAMES]).toEqual([...engine.nn.INITIALIZERS])
    expect([...GENERATOR_NAMES]).toEqual(engine.data.listGenerators().map((g) => g.name))
    expect([...FEATURE_NAMES]).toEqual(engine.data.listFeatures().map((f) => f.name))
  })

  it('every named loss exists in the engine, and the limits are within the engine', () => {
    const fns: Record<Exclude<(typeof LOSS_NAMES)[number], 'auto'>, unknown> = {
      mse: engine.mseLoss,
      huber: engine.huberLoss,
      softmaxCrossEntropy: engine.softmaxCrossEntropy,
      bceWithLogits: engine.bceWithLogits,
      hinge: engine.hingeLoss,
    }
    for (const name of LOSS_NAMES.filter((n) => n !== 'auto')) expect(typeof fns[name as keyof typeof fns], name).toBe('function')
    expect(LIMITS.maxSamples).toBeLessThanOrEqual(engine.data.MAX_SAMPLES)
  })
})

const GOOD: { [K in RequestKind]: RequestPayload<K> } = {
  'host.hello': {},
  'dataset.preview': { generator: 'spiral' },
  'session.create': { model: { hidden: [8, 8] }, data: { generator: 'xor' }, optimizer: { type: 'adam', lr: 0.01 } },
  'session.start': { sessionId: 's1' },
  'session.pause': { sessionId: 's1' },
  'session.step': { sessionId: 's1' },
  'session.reset': { sessionId: 's1' },
  'session.update': { sessionId: 's1', optimizer: { lr: 0.1 }, batchSize: 64 },
  'session.dispose': { sessionId: 's1' },
  'session.info': { sessionId: 's1' },
  'session.attach': { sessionId: 's1' },
  'scalar.evaluate': { source: 'a = 2; b = -3\nL = a*b' },
  'session.graph': { sessionId: 's1' },
  'session.network': { sessionId: 's1', maxEdgesPerLayer: 500 },
  'session.neuronMap': { sessionId: 's1', layer: 0, neuron: 3 },
  'session.neuronMaps': { sessionId: 's1' },
  'session.gradcheck': { sessionId: 's1', param: 'layers.0.weight' },
  'session.saliency': { sessionId: 's1' },
  'runs.list': {},
  'runs.metrics': { runId: 'rmiabc12-x8f2k1' },
  'runs.rename': { runId: 'rmiabc12-x8f2k1', name: 'xor, 8 hidden' },
  'runs.tag': { runId: 'rmiabc12-x8f2k1', tags: ['baseline', 'adam'] },
  'runs.delete': { runId: 'rmiabc12-x8f2k1' },
  'runs.restore': { runId: 'rmiabc12-x8f2k1' },
  'runs.open': { runId: 'rmiabc12-x8f2k1', checkpointStep: 250 },
  'runs.export': { runId: 'rmiabc12-x8f2k1', format: 'pytorch' },
  'runs.save': { sessionId: 's1', name: 'deep sigmoid · BatchNorm', tags: ['compare 1'] },
  'session.importWeights': { sessionId: 's1', safetensorsBase64: 'AAAAAAAAAAA=' },
  'runs.import': {
    base: { model: { hidden: [] }, data: { generator: 'xor' }, optimizer: { type: 'sgd', lr: 0.1 } },
    safetensorsBase64: 'AAAAAAAAAAA=',
  },
  'watch.report': { watchId: 'abcdefgh', name: 'torch', layers: ['net.0'], points: [{ step: 1, loss: 0.5 }] },
  'files.upload': { uploadId: 'uabc123', name: 'data.csv', index: 0, total: 1, bytes: 4, chunkBase64: 'YSxiCg==' },
  'files.info': { fileId: 'f0123456789abcdef' },
  'session.histograms': { sessionId: 's1', bins: 20, range: { lo: -1, hi: 1 } },
  'session.boundary': { sessionId: 's1', resolution: 50 },
  'session.predictions': { sessionId: 's1', split: 'test' },
  'session.describe': { sessionId: 's1' },
}

const req = (kind: string, payload: unknown, extra: object = {}) => ({ v: PROTOCOL_VERSION, id: 3, kind, payload, ...extra })

describe('parseRequest', () => {
  it('accepts a good message of every kind and fills in defaults', () => {
    expect(Object.keys(GOOD).sort()).toEqual([...REQUEST_KINDS].sort())
    for (const kind of REQUEST_KINDS) {
      const r = parseRequest(req(kind, GOOD[kind]))
      expect(r, kind).toMatchObject({ ok: true, value: { id: 3, kind } })
    }
    const create = parseRequest(req('session.create', GOOD['session.create']))
    expect(create.ok && create.value.payload).toEqual({
      model: { hidden: [8, 8], activation: 'tanh', init: 'xavier-uniform', loss: 'auto' },
      data: { generator: 'xor', n: 500, noise: 0, testRatio: 0.3, seed: 0, features: ['x1', 'x2'] },
      optimizer: { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
      train: {
        batchSize: 32,
        evalEvery: 50,
        seed: 0,
        schedule: { type: 'constant', warmupSteps: 0 },
        l1: 0,
        l2: 0,
        clipNorm: null,
        stop: { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null },
        alarms: { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true },
        maxStepsPerSecond: null,
      },
      backend: 'auto',
    })
    const step = parseRequest(req('session.step', { sessionId: 's1' }))
    expect(step.ok && step.value.payload).toEqual({ sessionId: 's1', steps: 1 })
    const adamw = parseRequest(req('session.create', { ...GOOD['session.create'], optimizer: { type: 'adamw', lr: 0.01 } }))
    expect(adamw.ok && (adamw.value.payload as { optimizer: object }).optimizer).toMatchObject({ weightDecay: 0.01 })
  })

  it('fills in the defaults of the inspection requests', () => {
    const payload = (kind: RequestKind, p: unknown) => {
      const r = parseRequest(req(kind, p))
      return r.ok ? r.value.payload : r.error
    }
    expect(payload('session.graph', { sessionId: 's1' })).toEqual({ sessionId: 's1', batchSize: 4 })
    expect(payload('session.network', { sessionId: 's1' })).toEqual({ sessionId: 's1', maxEdgesPerLayer: 2000, maxNeurons: 64 })
    expect(payload('session.neuronMap', { sessionId: 's1', layer: 1, neuron: 0 })).toEqual({
      sessionId: 's1',
      layer: 1,
      neuron: 0,
      resolution: 32,
    })
    expect(payload('session.gradcheck', { sessionId: 's1', param: 'layers.1.bias' })).toEqual({
      sessionId: 's1',
      param: 'layers.1.bias',
      maxElements: 50,
    })
  })

  it('fills in the defaults of the runs requests and refuses what is not a run id', () => {
    const payload = (kind: RequestKind, p: unknown) => {
      const r = parseRequest(req(kind, p))
      return r.ok ? r.value.payload : r.error
    }
    expect(payload('runs.list', {})).toEqual({ includeDeleted: false, limit: 200 })
    expect(payload('runs.metrics', { runId: 'rmiabc12-x8f2k1' })).toEqual({ runId: 'rmiabc12-x8f2k1', maxPoints: 2000 })
    expect(payload('runs.rename', { runId: 'rmiabc12-x8f2k1', name: '  spaced  ' })).toEqual({ runId: 'rmiabc12-x8f2k1', name: 'spaced' })
    for (const runId of ['../etc', 'r/abc/def', 'R123456', 'rabc', 'r' + 'a'.repeat(41)]) {
      expect(payload('runs.open', { runId }), runId).toMatchObject({
        code: 'invalid_payload',
        message: expect.stringContaining('is not a run id'),
      })
    }
    expect(payload('runs.export', { runId: 'rmiabc12-x8f2k1', format: 'pickle' })).toMatchObject({ code: 'invalid_payload' })
  })

  it('rejects malformed envelopes, keeping the id when it can be read', () => {
    const cases: [unknown, number | null][] = [
      [null, null],
      ['text', null],
      [[], null],
      [{ v: 1, kind: 'host.hello', payload: {} }, null],
      [{ v: 1, id: -1, kind: 'host.hello', payload: {} }, -1],
      [{ v: 1, id: 1.5, kind: 'host.hello', payload: {} }, null],
      [{ v: 1, id: 4, kind: 'host.hello', payload: {}, extra: true }, 4],
      [{ v: 1, id: 4, kind: 'x'.repeat(65), payload: {} }, 4],
    ]
    for (const [raw, id] of cases) {
      const r = parseRequest(raw)
      expect(r, JSON.stringify(raw)).toMatchObject({ ok: false, id, error: { code: 'invalid_message' } })
      expect(!r.ok && r.error.message).toMatch(/^malformed request: /)
    }
  })

  it('rejects another version and unknown kinds (including inherited property names)', () => {
    expect(parseRequest({ v: 2, id: 1, kind: 'host.hello', payload: {} })).toEqual({
      ok: false,
      id: 1,
      error: { code: 'version_mismatch', message: 'protocol version 2 is not supported (this host speaks 1)' },
    })
    for (const kind of ['session.fly', 'constructor', '__proto__', 'hasOwnProperty', '']) {
      expect(parseRequest(req(kind, {})), kind).toMatchObject({
        ok: false,
        id: 3,
        error: { code: 'unknown_kind', message: `unknown request kind "${kind}"` },
      })
    }
  })

  it('rejects bad payloads with messages that name the field', () => {
    const bad: [RequestKind, unknown, RegExp][] = [
      ['host.hello', null, /^host\.hello: Invalid input/],
      ['session.create', { ...GOOD['session.create'], model: { hidden: [8, 0] } }, /^session\.create: model\.hidden\[1\]: Too small/],
      [
        'session.create',
        { ...GOOD['session.create'], model: { hidden: Array(LIMITS.maxHiddenLayers + 1).fill(2) } },
        /model\.hidden: Too big/,
      ],
      ['session.create', { ...GOOD['session.create'], optimizer: { type: 'sgd', lr: Infinity } }, /optimizer\.lr/],
      ['session.create', { ...GOOD['session.create'], optimizer: { type: 'lbfgs', lr: 1 } }, /optimizer\.type/],
      ['session.create', { ...GOOD['session.create'], data: { generator: 'xor', testRatio: 0.95 } }, /data\.testRatio: Too big/],
      ['session.create', { ...GOOD['session.create'], data: { generator: 'xor', features: ['x3'] } }, /data\.features\[0\]/],
      ['session.create', { ...GOOD['session.create'], train: { batchSize: LIMITS.maxBatchSize + 1 } }, /train\.batchSize/],
      ['session.create', { ...GOOD['session.create'], backend: 'tpu' }, /backend/],
      ['session.create', { ...GOOD['session.create'], extra: 1 }, /Unrecognized key/],
      ['session.create', { ...GOOD['session.create'], record: 'no' }, /record: Invalid input/],
      ['runs.save', { sessionId: 's1', name: '  ' }, /^runs\.save: name: Too small/],
      ['session.step', { sessionId: 's1', steps: LIMITS.maxStepsPerRequest + 1 }, /steps: Too big/],
      ['session.start', { sessionId: 's1; rm -rf' }, /sessionId: is not a session id/],
      ['session.update', { sessionId: 's1', optimizer: { lr: 0 } }, /optimizer\.lr: Too small/],
      ['session.update', { sessionId: 's1', optimizer: { dampening: 0.5 } }, /Unrecognized key.*dampening/],
      ['session.update', { sessionId: 's1', schedule: { type: 'step', stepSize: 0 } }, /schedule.stepSize: Too small/],
      ['session.update', { sessionId: 's1', clipNorm: 0 }, /clipNorm: /],
      [
        'session.create',
        { model: { hidden: [8, 8], activations: ['relu'] }, data: { generator: 'xor' }, optimizer: { type: 'sgd', lr: 0.1 } },
        /model.activations: gives 1 activations for 2 hidden layers/,
      ],
      [
        'session.create',
        { model: { hidden: [8] }, data: { source: 'csv', fileId: 'nope', target: 'y' }, optimizer: { type: 'sgd', lr: 0.1 } },
        /data.fileId: is not a file id/,
      ],
      ['dataset.preview', { source: 'bundled', name: 'mnist' }, /name: /],
      ['dataset.preview', { source: 'parquet' }, /source: Invalid discriminator/],
      [
        'files.upload',
        { uploadId: 'uabc123', name: 'x.csv', index: 0, total: 1, bytes: 65 * 1024 * 1024, chunkBase64: '' },
        /bytes: Too big/,
      ],
      [
        'files.upload',
        { uploadId: 'uabc123', name: 'x.csv', index: 0, total: 1, bytes: 3, chunkBase64: 'A'.repeat(700_001) },
        /chunkBase64: Too big/,
      ],
      ['session.histograms', { sessionId: 's1', range: { lo: 1, hi: 1 } }, /range/],
      ['dataset.preview', { generator: 'xor', noise: NaN }, /noise: /],
      ['scalar.evaluate', { source: 'a = 1\n'.repeat(1000) }, /source: Too big/],
      ['scalar.evaluate', { source: 42 }, /source: /],
      ['session.graph', { sessionId: 's1', batchSize: 65 }, /batchSize: Too big/],
      ['session.network', { sessionId: 's1', maxEdgesPerLayer: 0 }, /maxEdgesPerLayer: Too small/],
      ['session.neuronMap', { sessionId: 's1', layer: -1, neuron: 0 }, /layer: Too small/],
      ['session.neuronMap', { sessionId: 's1', layer: 0, neuron: 0, resolution: 65 }, /resolution: Too big/],
      ['session.neuronMap', { sessionId: 's1', layer: 0 }, /neuron: /],
      ['session.gradcheck', { sessionId: 's1', param: 'x'.repeat(65) }, /param: Too big/],
      ['session.gradcheck', { sessionId: 's1', param: 'layers.0.weight', maxElements: 501 }, /maxElements: Too big/],
    ]
    for (const [kind, payload, msg] of bad) {
      const r = parseRequest(req(kind, payload))
      expect(r.ok, `${kind} ${JSON.stringify(payload)}`).toBe(false)
      expect(!r.ok && r.error.code).toBe('invalid_payload')
      expect(!r.ok && r.error.message, kind).toMatch(msg)
    }
  })

  it('summarises at most five issues', () => {
    const r = parseRequest(req('session.create', { model: 1, data: 2, optimizer: 3, train: 4, backend: 5, x: 6, y: 7 }))
    expect(!r.ok && r.error.message.split('; ').length).toBeLessThanOrEqual(5)
  })
})

describe('parseReply and parseEvent', () => {
  const state = { sessionId: 's1', status: 'paused', step: 3, epoch: 0, backend: { name: 'cpu', reason: 'requested' } }

  it('accepts good replies and passes errors through', () => {
    expect(parseReply('session.start', okReply(1, state))).toEqual({ ok: true, result: state })
    expect(parseReply('session.start', errorReply(1, 'not_found', 'no session "s9"'))).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no session "s9"' },
    })
    for (const code of ERROR_CODES)
      expect(parseReply('host.hello', errorReply(0, code, 'x'))).toEqual({ ok: false, error: { code, message: 'x' } })
  })

  it('rejects malformed replies and results that break the protocol', () => {
    expect(parseReply('session.start', { v: 1, id: 1, ok: true })).toMatchObject({
      ok: false,
      error: { code: 'invalid_message', message: expect.stringMatching(/^malformed reply to session\.start/) },
    })
    expect(parseReply('session.start', { v: 1, id: 1, ok: false, error: { code: 'oops', message: 'x' } }).ok).toBe(false)
    expect(parseReply('session.start', okReply(1, { ...state, status: 'exploded' }))).toMatchObject({
      ok: false,
      error: { code: 'invalid_message', message: expect.stringMatching(/^reply to session\.start does not match the protocol: status/) },
    })
  })

  it('inspection results carry finite numbers only', () => {
    const stats = { mean: 0.1, std: 1, min: -2, max: 2, norm: 3, nonFinite: 0 }
    const graph = {
      sessionId: 's1',
      step: 7,
      batchSize: 4,
      nodes: [
        { id: 0, op: '', label: 'input x', kind: 'input', shape: [4, 2], value: stats, grad: null },
        { id: 1, op: 'matmul', label: '', kind: 'op', shape: [4, 8], value: stats, grad: stats, transA: false, transB: false },
      ],
      edges: [{ from: 0, to: 1, inputIndex: 0 }],
      rootId: 1,
    }
    expect(parseReply('session.graph', okReply(1, graph)).ok).toBe(true)
    expect(
      parseReply('session.graph', okReply(1, { ...graph, nodes: [{ ...graph.nodes[0], value: { ...stats, std: NaN } }] })),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_message', message: expect.stringContaining('nodes[0].value.std') },
    })
    const scalar = {
      nodes: [
        { id: 0, label: 'a', op: '', data: 3, grad: 2, inputs: [] },
        { id: 1, label: 'b', op: 'add', data: 6, grad: 1, inputs: [0, 0] },
      ],
      rootId: 1,
      variables: [
        { name: 'a', nodeId: 0 },
        { name: 'b', nodeId: 1 },
      ],
      steps: [
        {
          nodeId: 1,
          inputId: 0,
          inputIndex: 0,
          upstream: 1,
          localDerivative: 1,
          contribution: 1,
          gradBefore: 0,
          gradAfter: 1,
          rule: 'add distributes',
        },
      ],
      wrongSteps: [],
      wrongGrads: [{ nodeId: 0, grad: 1 }],
    }
    expect(parseReply('scalar.evaluate', okReply(1, scalar)).ok).toBe(true)
    expect(parseReply('scalar.evaluate', okReply(1, { ...scalar, nodes: [{ ...scalar.nodes[0], op: 'sin' }] })).ok).toBe(false)
  })

  it('accepts good events and rejects bad ones', () => {
    const metrics = {
      sessionId: 's1',
      steps: [1, 2],
      trainLoss: [0.7, 0.6],
      epoch: 0,
      evals: [{ step: 0, trainLoss: 0.7, testLoss: 0.71, trainAccuracy: 0.5, testAccuracy: null }],
      layers: [
        {
          step: 1,
          stats: [
            {
              gradNorm: 1,
              meanAbsGrad: 0.1,
              maxAbsGrad: 0.5,
              weightNorm: 2,
              updateRatio: 0.05,
              deadFraction: 0.25,
              saturatedFraction: null,
            },
          ],
        },
      ],
      stepsPerSecond: 1000,
      lr: 0.01,
    }
    expect(parseEvent(eventMessage('train.metrics', metrics))).toEqual({ ok: true, value: { event: 'train.metrics', payload: metrics } })
    expect(parseEvent(eventMessage('session.state', state as never)).ok).toBe(true)
    expect(parseEvent(eventMessage('host.status', { status: 'crashed', message: 'worker exited with code 1' })).ok).toBe(true)
    expect(parseEvent({ v: 1, event: 'train.magic', payload: {} })).toMatchObject({ ok: false, error: { code: 'unknown_kind' } })
    // Non-finite numbers are not data: a NaN loss must never reach a chart.
    expect(parseEvent({ v: 1, event: 'train.metrics', payload: { ...metrics, trainLoss: [NaN, 1] } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload', message: expect.stringContaining('trainLoss[0]') },
    })
    expect(parseEvent({ v: 2, event: 'session.state', payload: state })).toMatchObject({ ok: false, error: { code: 'invalid_message' } })
    expect(parseEvent('x')).toMatchObject({ ok: false, error: { code: 'invalid_message' } })
  })
})
