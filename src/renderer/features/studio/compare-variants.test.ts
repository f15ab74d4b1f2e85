// Compare live's variant derivation: one setting changed, everything else shared, each variant
// checked with the host's own rules before anything starts.
import { describe, expect, it } from 'vitest'
import {
  COMPARE_SETTINGS,
  currentValue,
  defaultValues,
  deriveVariants,
  settingChoices,
  variantLabel,
  variantSpec,
} from './compare-variants'
import { LAB_PRESETS } from './lab-presets'
import type { CreatePayload } from '../../stores/session-form'

const preset = (id: string): CreatePayload => LAB_PRESETS.find((p) => p.id === id)!.spec
const deep = preset('deep-sigmoid')
const MOONS_INPUTS = 2

const small = (over: Partial<CreatePayload['model']> = {}, batchSize = 16): CreatePayload => ({
  model: { hidden: [8, 8], activation: 'tanh', ...over },
  data: { generator: 'xor', n: 200, seed: 4 },
  optimizer: { type: 'adam', lr: 0.01 },
  train: { batchSize, seed: 9 },
})

describe('variantSpec', () => {
  it("turns the deep-sigmoid preset into its story's BatchNorm and residual + BatchNorm presets exactly", () => {
    expect(variantSpec(deep, 'blocks', 'batch', MOONS_INPUTS)).toEqual(preset('deep-sigmoid-bn'))
    expect(variantSpec(deep, 'blocks', 'residual+batch', MOONS_INPUTS)).toEqual(preset('deep-sigmoid-res-bn'))
    expect(variantSpec(preset('deep-sigmoid-bn'), 'blocks', 'none', MOONS_INPUTS)).toEqual(deep)
  })

  it('changes only the named setting: data, seeds, stop and alarms stay', () => {
    for (const [setting, value] of [
      ['init', 'he-normal'],
      ['activation', 'relu'],
      ['optimizer', 'sgd'],
      ['lr', '0.1'],
      ['norm', 'layer'],
    ] as const) {
      const v = variantSpec(deep, setting, value, MOONS_INPUTS)
      expect(v.data, setting).toEqual(deep.data)
      expect(v.train, setting).toEqual(deep.train)
    }
    expect(variantSpec(deep, 'init', 'he-normal', 2).model).toEqual({ ...deep.model, init: 'he-normal' })
    expect(variantSpec(deep, 'optimizer', 'sgd', 2).optimizer).toEqual({ type: 'sgd', lr: 0.01 })
    expect(variantSpec(deep, 'lr', '0.1', 2).optimizer).toEqual({ type: 'adam', lr: 0.1 })
    expect(variantSpec(deep, 'norm', 'layer', 2).model.blocks!.every((b) => b.norm === 'layer' && !b.residual)).toBe(true)
    // One activation for every layer: a per-layer list would override it, so it goes.
    expect(variantSpec(small({ activations: ['relu', 'tanh'] }), 'activation', 'gelu', 2).model).toEqual({
      hidden: [8, 8],
      activation: 'gelu',
    })
  })

  it('puts residuals only where a layer is as wide as its input, and refuses a net where none is', () => {
    const res = variantSpec(small({ hidden: [8, 8, 4] }), 'residual', 'on', 8)
    expect(res.model.blocks!.map((b) => b.residual)).toEqual([true, true, false])
    expect(() => variantSpec(small({ hidden: [8, 4] }), 'residual', 'on', 2)).toThrow(/no hidden layer is as wide as its input/)
    expect(() => variantSpec(small({ hidden: [] }), 'norm', 'batch', 2)).toThrow(/no hidden layers/)
  })
})

describe('deriveVariants', () => {
  it('derives 2–4 labelled variants that pass the protocol and the block rules', () => {
    const d = deriveVariants(deep, 'blocks', ['none', 'batch', 'residual+batch'], MOONS_INPUTS)
    expect(d.ok).toBe(true)
    if (!d.ok) return
    expect(d.variants.map((v) => v.label)).toEqual(['no norm', 'BatchNorm', 'residual + BatchNorm'])
  })

  it('refuses an impossible variant with the shared rule’s reason, before anything starts', () => {
    const d = deriveVariants(small({}, 1), 'norm', ['none', 'batch'], 2)
    expect(d).toEqual({
      ok: false,
      problems: expect.arrayContaining([expect.stringMatching(/^BatchNorm: BatchNorm on hidden layer 1 needs batches of at least 2 rows/)]),
    })
    const lr = deriveVariants(deep, 'lr', ['0.01', '50', 'fast'], 2)
    expect(lr.ok).toBe(false)
    if (lr.ok) return
    expect(lr.problems).toEqual([expect.stringMatching(/^lr 50: optimizer\.lr: Too big/), 'lr fast: learning rate "fast" is not a number'])
  })

  it('refuses too few or too many values and two values that make the same network', () => {
    expect(deriveVariants(deep, 'init', ['pytorch'], 2)).toMatchObject({ ok: false, problems: ['compare 2 to 4 variants (1 given)'] })
    expect(deriveVariants(deep, 'lr', ['0.1', '0.2', '0.3', '0.4', '0.5'], 2).ok).toBe(false)
    expect(deriveVariants(deep, 'lr', ['0.1', '0.10'], 2)).toMatchObject({
      ok: false,
      problems: ['lr 0.10 is the same configuration as lr 0.1; pick values that differ'],
    })
  })
})

describe('choices, labels and defaults', () => {
  it('prefills the current value first, then the usual alternatives', () => {
    expect(defaultValues(deep, 'blocks')).toEqual(['none', 'batch', 'residual+batch'])
    expect(defaultValues(preset('deep-sigmoid-res-bn'), 'blocks')).toEqual(['residual+batch', 'none', 'batch'])
    expect(defaultValues(deep, 'lr')).toEqual(['0.01', '0.001', '0.1'])
    expect(defaultValues(deep, 'optimizer')).toEqual(['adam', 'sgd'])
    expect(defaultValues(deep, 'activation')).toEqual(['sigmoid', 'relu', 'tanh'])
    expect(defaultValues(deep, 'residual')).toEqual(['off', 'on'])
  })

  it('every setting’s defaults derive on the deep-sigmoid preset, and every choice has a label', () => {
    for (const s of COMPARE_SETTINGS) {
      expect(deriveVariants(deep, s, defaultValues(deep, s), MOONS_INPUTS), s).toMatchObject({ ok: true })
      for (const c of settingChoices(s) ?? []) expect(c.label).toBe(variantLabel(s, c.value))
    }
    expect(currentValue(preset('dead-relu-ln'), 'norm')).toBe('layer')
    expect(variantLabel('blocks', 'residual+layer')).toBe('residual + LayerNorm')
  })
})
