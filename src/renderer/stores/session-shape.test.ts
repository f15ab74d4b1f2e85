// What the form describes before the host builds it: losses by task, the network's shape and
// parameter count (from the form, or the preview's columns), and the schedule's lr curve.
import { describe, expect, it } from 'vitest'
import { FAKE_DATASETS, FAKE_GENERATORS } from '../engine/fake-host'
import { defaultForm } from './session-form'
import { formDescription, lossChoices, networkShape, scheduleCurve } from './session-shape'

describe('session shape: losses, shape, parameters', () => {
  const hello = {
    protocolVersion: 1,
    generators: FAKE_GENERATORS.map((g) => ({ ...g })),
    datasets: FAKE_DATASETS.map((d) => ({ ...d })),
    activations: [],
    initializers: [],
    limits: { maxHiddenLayers: 16, maxWidth: 1024, maxSamples: 100000, maxBatchSize: 4096, maxStepsPerRequest: 100000, maxSessions: 8 },
  }

  it('offers the losses that fit the task and says why the others do not', () => {
    const byName = (task: Parameters<typeof lossChoices>[0]) => Object.fromEntries(lossChoices(task).map((c) => [c.name, c.disabled]))
    expect(byName('regression')).toMatchObject({ auto: null, mse: null })
    expect(byName('regression').softmaxCrossEntropy).toMatch(/binary or multiclass dataset; this one is regression/)
    expect(byName('binary')).toMatchObject({ auto: null, softmaxCrossEntropy: null, bceWithLogits: null, hinge: null })
    expect(byName('binary').mse).toMatch(/regression/)
    expect(byName('multiclass')).toMatchObject({ auto: null, softmaxCrossEntropy: null })
    expect(byName('multiclass').hinge).toMatch(/needs a binary dataset/)
    expect(lossChoices('multiclass')[0]!.label).toBe('auto (softmax cross-entropy)')
  })

  it('counts parameters from the form: features in, classes out (softmax) or one out', () => {
    const form = defaultForm() // spiral (binary), x1 x2, [8, 8], auto → softmax with 2 outputs
    expect(networkShape(form, hello, null)).toEqual({
      inputs: 2,
      hidden: [8, 8],
      outputs: 2,
      paramCount: 2 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2,
    })
    form.loss = 'bceWithLogits'
    form.data.features = ['x1', 'x2', 'x1x2']
    expect(networkShape(form, hello, null)).toMatchObject({ inputs: 3, outputs: 1, paramCount: 3 * 8 + 8 + 8 * 8 + 8 + 8 + 1 })
    form.source = 'bundled'
    form.loss = 'auto'
    form.hidden = [10, 10, 10, 10]
    expect(networkShape(form, hello, null)).toMatchObject({
      inputs: 4,
      outputs: 3,
      paramCount: 4 * 10 + 10 + 3 * (10 * 10 + 10) + 10 * 3 + 3,
    })
    form.source = 'csv' // nothing known about the file yet
    expect(networkShape(form, hello, null)).toBeNull()
  })

  it("says the architecture and counts the norms' γ and β as the user edits the blocks (shared describeModel)", () => {
    const form = defaultForm() // spiral: 2 in, 2 out (softmax CE), Adam
    form.hidden = [16, 16]
    const plain = 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
    expect(formDescription(form, hello, null)?.summary).toBe(`2 → 16 tanh → 16 tanh → 2 (softmax CE) · ${plain} parameters · Adam`)
    form.blocks = [
      { norm: 'batch', normAt: 'mid', dropout: 0, residual: false },
      { norm: 'none', normAt: 'mid', dropout: 0, residual: true },
    ]
    const d = formDescription(form, hello, null)!
    expect(d.architecture).toBe('2 → 16 BN tanh → 16 tanh +skip → 2 (softmax CE)')
    expect(d.paramCount).toBe(plain + 2 * 16)
    expect(d.summary).toBe('2 → 16 BN tanh → 16 tanh +skip → 2 (softmax CE) · 386 parameters · Adam')
    expect(networkShape(form, hello, null)?.paramCount).toBe(386)
    // LayerNorm before the layer normalises its input (2 features): 4 more parameters, not 32.
    form.blocks[0] = { norm: 'layer', normAt: 'pre', dropout: 0.2, residual: false }
    expect(formDescription(form, hello, null)).toMatchObject({
      architecture: '2 → LN 16 tanh drop 0.2 → 16 tanh +skip → 2 (softmax CE)',
      paramCount: plain + 4,
    })
    // Unknown shape, or a width that is not one: nothing to describe (the field says why).
    form.hidden = [16, Number.NaN]
    expect(formDescription(form, hello, null)).toBeNull()
    form.hidden = [16, 16]
    form.source = 'csv'
    expect(formDescription(form, hello, null)).toBeNull()
  })

  it("uses the preview's columns and classes when it has them", () => {
    const form = defaultForm()
    form.source = 'csv'
    const preview = { task: 'multiclass', nClasses: 4, featureNames: ['a', 'b', 'c'] } as Parameters<typeof networkShape>[2]
    expect(networkShape(form, hello, preview)).toMatchObject({ inputs: 3, outputs: 4 })
  })

  it('draws the lr schedule as the engine applies it: warmup first, then step decay or cosine', () => {
    const form = defaultForm()
    form.optimizer.lr = 1
    expect(scheduleCurve(form, 3)).toEqual([1, 1, 1])
    form.schedule = { ...form.schedule, type: 'step', stepSize: 2, gamma: 0.5 }
    expect(scheduleCurve(form, 5)).toEqual([1, 1, 0.5, 0.5, 0.25])
    form.schedule = { ...form.schedule, type: 'cosine', periodSteps: 4, minLr: 0, warmupSteps: 0 }
    const cos = scheduleCurve(form, 6)
    expect(cos[0]).toBe(1)
    expect(cos[2]).toBeCloseTo(0.5)
    expect(cos[4]).toBeCloseTo(0)
    expect(cos[5]).toBeCloseTo(0)
    // Warmup to the base rate, then the schedule starts (step decay counted from there).
    form.schedule = { ...form.schedule, type: 'step', stepSize: 2, gamma: 0.5, warmupSteps: 4 }
    expect(scheduleCurve(form, 8)).toEqual([0.25, 0.5, 0.75, 1, 1, 1, 0.5, 0.5])
    form.schedule.stepSize = 0
    expect(scheduleCurve(form, 8)).toEqual([])
  })
})
