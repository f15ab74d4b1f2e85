// The form ↔ SessionSpec rules: every source and option round-trips, what is live and what is
// structural, and validation messages by field.
import { describe, expect, it } from 'vitest'
import { SessionSpec } from '../../shared/protocol'
import { buildSpec, defaultForm, livePatch, liveSettings, structuralKey, type CreatePayload, type SessionForm } from './session-form'
import { formFromSpec } from './session-form-load'
import { formIssues, issueAt, validateForm } from './session-form-issues'

const FILE = 'f0123456789abcdef'
const FILE2 = 'ffedcba9876543210'

/** Specs that use every source and every option away from its default. */
const SPECS: Record<string, CreatePayload> = {
  generator: {
    model: {
      hidden: [16, 8, 4, 2],
      activation: 'relu',
      activations: ['relu', 'tanh', 'gelu', 'leakyRelu'],
      init: 'he-normal',
      loss: 'hinge',
    },
    data: { generator: 'spiral3', n: 900, noise: 0.25, testRatio: 0.2, seed: 5, classes: 4, features: ['x1', 'x2', 'x1sq', 'sinx2'] },
    optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001 },
    train: {
      batchSize: 64,
      evalEvery: 25,
      seed: 99,
      schedule: { type: 'step', stepSize: 200, gamma: 0.3, warmupSteps: 10 },
      l1: 0.001,
      l2: 0.01,
      clipNorm: 5,
      stop: { maxEpochs: 40, maxSteps: 5000, targetLoss: 0.05, earlyStopping: { patience: 6, minDelta: 0.001 } },
      alarms: { explodingGradNorm: 500, vanishingGradNorm: 1e-6, pause: false },
      maxStepsPerSecond: 20,
    },
    backend: 'cpu',
  },
  bundled: {
    model: { hidden: [32], activation: 'gelu', activations: ['gelu'], init: 'xavier-normal', loss: 'softmaxCrossEntropy' },
    data: { source: 'bundled', name: 'wine', testRatio: 0.25, seed: 3, standardize: false },
    optimizer: { type: 'adamw', lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05 },
    train: {
      batchSize: 16,
      evalEvery: 10,
      seed: 3,
      schedule: { type: 'cosine', periodSteps: 3000, minLr: 0.0001, warmupSteps: 100 },
      l1: 0,
      l2: 0,
      clipNorm: null,
      stop: { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null },
      alarms: { explodingGradNorm: 1000, vanishingGradNorm: 1e-7, pause: true },
      maxStepsPerSecond: null,
    },
    backend: 'webgpu',
  },
  csv: {
    model: { hidden: [8, 8], activation: 'sigmoid', activations: ['sigmoid', 'linear'], init: 'pytorch', loss: 'mse' },
    data: {
      source: 'csv',
      fileId: FILE,
      target: 'price',
      features: ['rooms', 'area'],
      task: 'regression',
      standardize: true,
      testRatio: 0.1,
      seed: 8,
    },
    optimizer: { type: 'rmsprop', lr: 0.001, alpha: 0.9, eps: 1e-7, momentum: 0.5, weightDecay: 0.0001 },
    train: { batchSize: 128, seed: 8 },
    backend: 'auto',
  },
  'csv (default features)': {
    model: { hidden: [4], activation: 'tanh', init: 'zeros', loss: 'auto' },
    data: { source: 'csv', fileId: FILE, target: 'species', task: 'auto', standardize: false, testRatio: 0.3, seed: 0 },
    optimizer: { type: 'adam', lr: 0.01 },
  },
  idx: {
    model: { hidden: [128, 64], activation: 'relu', loss: 'auto' },
    data: { source: 'idx', imagesFileId: FILE, labelsFileId: FILE2, limit: 2000, scale: false, testRatio: 0.15, seed: 2 },
    optimizer: { type: 'adam', lr: 0.001, beta1: 0.85 },
  },
  'older run (no source, one activation)': {
    model: { hidden: [4], activation: 'relu' },
    data: { generator: 'circle', n: 300, noise: 0.2, seed: 7, testRatio: 0.25 },
    optimizer: { type: 'sgd', lr: 0.1 },
    train: { batchSize: 16, evalEvery: 50, seed: 7 },
  },
}

/** A spec as the host reads it (defaults filled in, one activation per layer). */
function parsed(spec: CreatePayload) {
  const s = SessionSpec.parse(spec)
  const activations = s.model.hidden.map((_, i) => s.model.activations?.[i] ?? s.model.activation)
  const { source: _source, ...data } = s.data as typeof s.data & { source?: string }
  return { ...s, data, model: { ...s.model, activation: activations[0] ?? s.model.activation, activations } }
}

describe('session form: spec round trip', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`formFromSpec then buildSpec gives the same session: ${name}`, () => {
      const form = formFromSpec(spec)
      const rebuilt = buildSpec(form)
      expect(SessionSpec.safeParse(rebuilt).success).toBe(true)
      expect(parsed(rebuilt)).toEqual(parsed(spec))
      // And the form is not seen as edited when it is built again.
      expect(structuralKey(formFromSpec(rebuilt))).toBe(structuralKey(form))
      expect(liveSettings(formFromSpec(rebuilt))).toEqual(liveSettings(form))
    })
  }

  it('the default form is a valid spec that sends one activation per hidden layer', () => {
    const spec = buildSpec(defaultForm())
    expect(validateForm(defaultForm())).toBeNull()
    expect(spec.model).toMatchObject({ hidden: [8, 8], activation: 'tanh', activations: ['tanh', 'tanh'], loss: 'auto' })
    expect(spec.data).toMatchObject({ generator: 'spiral', features: ['x1', 'x2'] })
    expect(spec.train?.seed).toBe(1) // follows the data's seed until set on its own
  })

  it('sends only the optimiser fields its type takes', () => {
    const form = defaultForm()
    form.optimizer = { ...form.optimizer, type: 'sgd', momentum: 0.9, nesterov: true, beta1: 0.5 }
    expect(buildSpec(form).optimizer).toEqual({ type: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0 })
    form.optimizer.type = 'rmsprop'
    expect(buildSpec(form).optimizer).toEqual({ type: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0.9, weightDecay: 0 })
  })

  it('sends classes only to generators that take them', () => {
    const form = defaultForm()
    form.data.classes = 5
    expect(buildSpec(form).data).not.toHaveProperty('classes')
    form.data.generator = 'blobs'
    expect(buildSpec(form).data).toMatchObject({ generator: 'blobs', classes: 5 })
  })
})

describe('session form: live and structural', () => {
  const edits: [string, (f: SessionForm) => void][] = [
    ['lr', (f) => (f.optimizer.lr = 0.5)],
    ['β1', (f) => (f.optimizer.beta1 = 0.7)],
    ['weight decay', (f) => (f.optimizer.weightDecay = 0.1)],
    ['batch size', (f) => (f.batchSize = 8)],
    ['eval every', (f) => (f.evalEvery = 5)],
    ['schedule', (f) => (f.schedule.type = 'cosine')],
    ['l1', (f) => (f.l1 = 0.1)],
    ['l2', (f) => (f.l2 = 0.1)],
    ['clipping', (f) => (f.clipNorm = 1)],
    ['stop', (f) => (f.stop.maxSteps = 100)],
    ['alarms', (f) => (f.alarms.pause = false)],
    ['speed', (f) => (f.maxStepsPerSecond = 5)],
  ]
  for (const [name, edit] of edits) {
    it(`${name} changes live (no new session)`, () => {
      const form = defaultForm()
      const key = structuralKey(form)
      const before = liveSettings(form)
      edit(form)
      expect(structuralKey(form)).toBe(key)
      expect(livePatch(before, liveSettings(form))).not.toBeNull()
    })
  }

  const structural: [string, (f: SessionForm) => void][] = [
    ['a layer', (f) => f.hidden.push(4)],
    ['a width', (f) => (f.hidden[0] = 3)],
    ['an activation', (f) => (f.activations[1] = 'gelu')],
    ['the init', (f) => (f.init = 'he-uniform')],
    ['the loss', (f) => (f.loss = 'hinge')],
    ['the optimiser type', (f) => (f.optimizer.type = 'sgd')],
    ['the data', (f) => (f.data.noise = 0.3)],
    ['the features', (f) => f.data.features.push('x1x2')],
    ['the source', (f) => (f.source = 'bundled')],
    ['the backend', (f) => (f.backend = 'cpu')],
  ]
  for (const [name, edit] of structural) {
    it(`changing ${name} needs a new session`, () => {
      const form = defaultForm()
      const key = structuralKey(form)
      edit(form)
      expect(structuralKey(form)).not.toBe(key)
    })
  }

  it('patches only what changed, optimiser fields one by one', () => {
    const form = defaultForm()
    const before = liveSettings(form)
    form.optimizer.lr = 0.2
    form.l2 = 0.01
    form.schedule = { ...form.schedule, type: 'step', stepSize: 100, gamma: 0.5 }
    expect(livePatch(before, liveSettings(form))).toEqual({
      optimizer: { lr: 0.2 },
      l2: 0.01,
      schedule: { type: 'step', stepSize: 100, gamma: 0.5, warmupSteps: 0 },
    })
    expect(livePatch(before, before)).toBeNull()
  })
})

describe('session form: validation', () => {
  it('names the field of each problem, in words for people (the limit and the value), never the schema’s', () => {
    const form = defaultForm()
    form.hidden[1] = 2000
    form.optimizer.lr = 0
    const issues = formIssues(form)
    expect(issueAt(issues, 'model.hidden')).toMatch(/1024/)
    expect(issueAt(issues, 'model.hidden[1]')).toMatch(/1024/)
    expect(issueAt(issues, 'model.hidden[0]')).toBeNull()
    expect(issueAt(issues, 'model.hidden[1]')).toBe('must be at most 1024 (it is 2000)')
    expect(issueAt(issues, 'optimizer.lr')).toBe('must be greater than 0 (it is 0)')
    expect(validateForm(form)).toBe(
      "Hidden layer 2's width must be at most 1024 (it is 2000); Learning rate must be greater than 0 (it is 0)",
    )
  })

  it('explains a source with nothing chosen instead of a regex failure', () => {
    const form = defaultForm()
    form.source = 'csv'
    expect(formIssues(form)).toEqual({ 'data.fileId': 'upload a CSV file first' })
    form.csv.fileId = FILE
    expect(formIssues(form)).toEqual({ 'data.target': 'choose the target column' })
    form.csv.target = 'y'
    form.csv.features = ['y', 'x']
    expect(formIssues(form)['data.features']).toBe('"y" is the target, so it cannot also be a feature')
    form.csv.features = []
    expect(validateForm(form)).toBe('Input features: choose at least one feature column')
    form.source = 'idx'
    form.idx.imagesFileId = FILE
    expect(validateForm(form)).toBe('IDX labels file: upload an IDX labels file first')
    form.source = 'generator'
    form.data.features = []
    expect(formIssues(form)).toEqual({ 'data.features': 'choose at least one input feature' })
  })

  it('refuses bad live values too (a schedule without a period, a negative clip)', () => {
    const form = defaultForm()
    form.schedule = { ...form.schedule, type: 'cosine', periodSteps: 0 }
    form.clipNorm = -1
    const issues = formIssues(form)
    expect(issueAt(issues, 'train.schedule')).not.toBeNull()
    expect(issueAt(issues, 'train.clipNorm')).not.toBeNull()
  })
})
