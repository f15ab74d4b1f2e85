// The lab presets: every spec is one the host accepts (the shared SessionSpec, no block the shared
// rules refuse for its input width and batch size), each story's variants differ only in their
// blocks, and loading one through the form store sets the whole form (the architecture line shows
// the blocks) while keeping the user's backend choice.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { blockProblems, blocksOf } from '../../../shared/model-blocks'
import { SessionSpec } from '../../../shared/protocol'
import { createEngineClient } from '../../engine/engine-client'
import { FakeHost } from '../../engine/fake-host'
import { setEngineClient } from '../../engine'
import { useConnectionStore } from '../../stores/connection'
import { useFormStore } from '../../stores/form'
import { useSessionStore } from '../../stores/session'
import { formDescription } from '../../stores/session-shape'
import { DEEP_STEPS, LAB_PRESETS, LAB_STORIES } from './lab-presets'

beforeEach(() => {
  vi.useFakeTimers()
  setEngineClient(createEngineClient(new FakeHost().transport()))
  setActivePinia(createPinia())
})
afterEach(() => {
  setEngineClient(null)
  vi.useRealTimers()
})

async function ready() {
  await useSessionStore().init()
  await vi.advanceTimersByTimeAsync(0)
  return useFormStore()
}

describe('lab presets', () => {
  it('every preset is a valid session spec with no refused block for its inputs and batch size', () => {
    expect(new Set(LAB_PRESETS.map((p) => p.id)).size).toBe(LAB_PRESETS.length)
    for (const p of LAB_PRESETS) {
      const spec = SessionSpec.parse(p.spec)
      const data = spec.data
      if (!('generator' in data)) throw new Error(`${p.id}: every preset draws from a 2-D generator`)
      // Two input features in; every preset's generator is binary, so two outputs (softmax CE).
      const inputs = data.features.length
      expect(inputs, p.id).toBe(2)
      expect(['spiral', 'moons'], p.id).toContain(data.generator)
      const sizes = [inputs, ...spec.model.hidden, 2]
      expect(blockProblems(sizes, blocksOf(spec.model.hidden.length, spec.model.blocks), spec.train.batchSize), p.id).toEqual([])
      expect(p.caption, p.id).toMatch(/^[^\n]+[.]$/)
      expect(data.testRatio, p.id).toBeGreaterThanOrEqual(0.3)
    }
  })

  it("a story's variants share data, optimiser and training settings and differ in their blocks only", () => {
    for (const s of LAB_STORIES) {
      const [first, ...rest] = s.presets.map((p) => SessionSpec.parse(p.spec))
      for (const other of rest) {
        expect(other.data).toEqual(first!.data)
        expect(other.optimizer).toEqual(first!.optimizer)
        expect(other.train).toEqual(first!.train)
        expect({ ...other.model, blocks: null }).toEqual({ ...first!.model, blocks: null })
        expect(other.model.blocks).not.toEqual(first!.model.blocks)
      }
    }
  })

  it('the deep-sigmoid story: 12 × 16 sigmoid on a 2-D generator, Adam 0.01, alarms that do not pause, the same steps', () => {
    const [plain, bn, res] = LAB_STORIES[0]!.presets.map((p) => SessionSpec.parse(p.spec))
    expect(plain!.model.hidden).toEqual(Array(12).fill(16))
    expect(plain!.model.activation).toBe('sigmoid')
    expect(plain!.optimizer).toMatchObject({ type: 'adam', lr: 0.01 })
    expect(plain!.train.alarms).toEqual({ explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: false })
    expect(plain!.train.stop.maxSteps).toBe(DEEP_STEPS)
    expect(plain!.model.blocks!.every((b) => b.norm === 'none' && !b.residual)).toBe(true)
    expect(bn!.model.blocks!.every((b) => b.norm === 'batch' && b.normAt === 'mid' && !b.residual)).toBe(true)
    expect(res!.model.blocks!.map((b) => b.residual)).toEqual([false, ...Array(11).fill(true)])
    expect(res!.model.blocks!.every((b) => b.norm === 'batch')).toBe(true)
  })

  it('loading a preset sets the whole form through the form store; the architecture line shows the blocks', async () => {
    const f = await ready()
    // The fake host offers no moons; the real one does (a binary 2-D set, as the spiral).
    const fake = useConnectionStore().hello!
    const hello = {
      ...fake,
      generators: [...fake.generators, { name: 'moons' as const, label: 'Moons', task: 'binary' as const, description: '' }],
    }
    f.form.backend = 'cpu'
    f.form.l2 = 0.5 // not named by the preset: back to the default
    const res = LAB_PRESETS.find((p) => p.id === 'deep-sigmoid-res-bn')!
    f.mirror({ ...res.spec, backend: f.form.backend })
    expect(f.form.hidden).toEqual(Array(12).fill(16))
    expect(f.form.activations).toEqual(Array(12).fill('sigmoid'))
    expect(f.form.blocks[0]).toEqual({ norm: 'batch', normAt: 'mid', dropout: 0, residual: false })
    expect(f.form.blocks[11]).toEqual({ norm: 'batch', normAt: 'mid', dropout: 0, residual: true })
    expect(f.form.l2).toBe(0)
    expect(f.form.backend).toBe('cpu')
    expect(f.form.stop.maxSteps).toBe(DEEP_STEPS)
    expect(f.formError).toBeNull()
    const line = formDescription(f.form, hello, null)!.summary
    const layers = ['16 BN sigmoid', ...Array<string>(11).fill('16 BN sigmoid +skip')]
    // 2·16+16 + 11·(16·16+16) + 16·2+2 weights and biases, and γ, β of 16 for each of the 12 norms.
    expect(line).toBe(`2 → ${layers.join(' → ')} → 2 (softmax CE) · 3,458 parameters · Adam`)

    f.mirror({ ...LAB_PRESETS.find((p) => p.id === 'overfit-dropout')!.spec, backend: f.form.backend })
    expect(formDescription(f.form, hello, null)!.summary).toMatch(/^2 → 256 relu drop 0\.3 → 256 relu drop 0\.3 → 2 \(softmax CE\)/)
    expect(f.form.data).toMatchObject({ generator: 'moons', n: 60, noise: 0.5 })
    f.mirror({ ...LAB_PRESETS.find((p) => p.id === 'dead-relu-ln')!.spec, backend: f.form.backend })
    expect(formDescription(f.form, hello, null)!.summary).toContain('→ 32 relu LN →')
    expect(f.formError).toBeNull()
  })
})
