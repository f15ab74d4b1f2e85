// The shared model rules: what they say (fit matrix, widths, class counts), and that they agree
// with the engine they stand in for on the renderer's side (generators, MLP sizes; that every
// loss is an engine loss is protocol.test.ts's check).
import { describe, expect, it } from 'vitest'
import * as engine from '../engine'
import {
  autoLoss,
  GENERATOR_CLASSES,
  GENERATOR_CLASS_RANGE,
  generatorClassCount,
  LOSS_NAMES,
  LOSS_RULES,
  LOSSES,
  lossFits,
  lossMismatch,
  mlpParamCount,
  outputWidth,
  resolveLoss,
  takesClasses,
  type Task,
} from './model-rules'
import { GENERATOR_NAMES } from './protocol-data'

const TASKS: Task[] = ['binary', 'multiclass', 'regression']

describe('loss rules', () => {
  it('which loss fits which task (regression: MSE, Huber; binary: CE, BCE, hinge; multiclass: CE)', () => {
    const fits = Object.fromEntries(LOSSES.map((l) => [l, TASKS.filter((t) => lossFits(l, t))]))
    expect(fits).toEqual({
      mse: ['regression'],
      huber: ['regression'],
      softmaxCrossEntropy: ['binary', 'multiclass'],
      bceWithLogits: ['binary'],
      hinge: ['binary'],
    })
    expect([...LOSS_NAMES]).toEqual(['auto', ...LOSSES])
  })

  it('auto: MSE for regression, softmax cross-entropy for classes; a named loss stays', () => {
    expect(TASKS.map(autoLoss)).toEqual(['softmaxCrossEntropy', 'softmaxCrossEntropy', 'mse'])
    expect(resolveLoss('auto', 'regression')).toBe('mse')
    expect(resolveLoss('hinge', 'binary')).toBe('hinge')
  })

  it('says what a loss needs when it does not fit, with the hint the host adds', () => {
    expect(lossMismatch('hinge', 'binary')).toBeNull()
    expect(lossMismatch('hinge', 'multiclass')).toBe('needs a binary dataset')
    expect(lossMismatch('softmaxCrossEntropy', 'regression')).toBe('needs a classification dataset')
    expect(lossMismatch('mse', 'binary')).toBe('needs a regression dataset (use softmaxCrossEntropy or auto for classes)')
    expect(lossMismatch('huber', 'multiclass')).toBe('needs a regression dataset (use softmaxCrossEntropy or auto for classes)')
    for (const l of LOSSES) expect(LOSS_RULES[l].why.length, l).toBeGreaterThan(10)
  })

  it('output width: one logit per class for softmax cross-entropy, else one', () => {
    expect(LOSSES.map((l) => outputWidth(l, 4))).toEqual([1, 1, 4, 1, 1])
  })
})

describe('generator class counts agree with the engine', () => {
  it('which generators take a class count, with the same default and range', () => {
    const engineRanges = Object.fromEntries(
      engine.data
        .listGenerators()
        .filter((g) => g.classesRange)
        .map((g) => [g.name, { default: g.defaults.classes, min: g.classesRange![0], max: g.classesRange![1] }]),
    )
    expect(GENERATOR_CLASSES).toEqual(engineRanges)
    for (const r of Object.values(GENERATOR_CLASSES))
      expect(r.min >= GENERATOR_CLASS_RANGE.min && r.max <= GENERATOR_CLASS_RANGE.max).toBe(true)
  })

  it('every generator: the count the rule gives is the one the engine generates (default and chosen)', () => {
    for (const name of GENERATOR_NAMES) {
      const info = engine.data.listGenerators().find((g) => g.name === name)!
      const made = engine.data.generate(name, { n: 60, seed: 1 })
      expect(generatorClassCount(name, info.task), name).toBe(info.task === 'regression' ? 1 : made.nClasses)
      if (takesClasses(name))
        expect(engine.data.generate(name, { n: 60, seed: 1, classes: 5 }).nClasses).toBe(generatorClassCount(name, info.task, 5))
      else expect(() => engine.data.generate(name, { n: 60, seed: 1, classes: 5 }), name).toThrow(/not supported/)
    }
  })
})

describe('parameter count', () => {
  it("is the engine MLP's", () => {
    for (const sizes of [
      [2, 16, 16, 2],
      [4, 1],
      [784, 32, 10],
      [3, 8, 8, 8, 1],
    ])
      expect(mlpParamCount(sizes)).toBe(new engine.nn.MLP(sizes).parameterCount())
    expect(mlpParamCount([2, 16, 16, 2])).toBe(354)
  })
})
