// Making tensors and choosing a backend: shapes inferred or given, dtypes kept, seeded randomness.
import { describe, expect, it } from 'vitest'
import { tensor, zeros, ones, full, randn, uniform, manualSeed, setBackend, getBackend, Rng, EngineError } from './index.js'

describe('tensor()', () => {
  it('takes a number, nested arrays, or a flat array/typed array with a shape', async () => {
    expect(tensor(3).shape).toEqual([])
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(t.shape).toEqual([2, 3])
    expect(t.dtype).toBe('float32')
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6])
    expect(tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2], dtype: 'float64' }).shape).toEqual([2, 2])
    expect(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).shape).toEqual([3, 2])
    expect(tensor([]).shape).toEqual([0])
  })

  it('keeps float64 precision when asked', async () => {
    const t = tensor([0.1], { dtype: 'float64' })
    expect((await t.data())[0]).toBe(0.1)
    expect((await tensor([0.1]).data())[0]).not.toBe(0.1)
  })

  it('data() returns a copy the caller may change', async () => {
    const t = tensor([1, 2])
    const d = await t.data()
    d[0] = 99
    expect(Array.from(await t.data())).toEqual([1, 2])
  })
})

describe('filled and random tensors', () => {
  it('zeros, ones, full', async () => {
    expect(Array.from(await zeros([2, 2]).data())).toEqual([0, 0, 0, 0])
    expect(Array.from(await ones([3], { dtype: 'float64' }).data())).toEqual([1, 1, 1])
    expect(Array.from(await full([2], 7).data())).toEqual([7, 7])
  })

  it('randn and uniform are reproducible from a seed and have the right moments', async () => {
    const a = Array.from(await randn([10000], { seed: 42 }).data())
    const b = Array.from(await randn([10000], { seed: 42 }).data())
    expect(a).toEqual(b)
    const mean = a.reduce((s, v) => s + v, 0) / a.length
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length)
    expect(Math.abs(mean)).toBeLessThan(0.05)
    expect(Math.abs(std - 1)).toBeLessThan(0.05)
    const u = await uniform([10000], { low: -2, high: 3, rng: new Rng(1) }).data()
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2)
    expect(Math.max(...u)).toBeLessThan(3)
    manualSeed(5)
    const c = await randn([4]).data()
    manualSeed(5)
    expect(await randn([4]).data()).toEqual(c)
    expect(await randn([4], { seed: 43 }).data()).not.toEqual(await randn([4], { seed: 42 }).data())
  })

  it('rejects a bad range', () => {
    expect(() => uniform([2], { low: 1, high: 0 })).toThrow(EngineError)
  })
})

describe('backend selection', () => {
  it('cpu on request; auto falls back to the CPU and says why', async () => {
    expect(await setBackend('cpu')).toEqual({ name: 'cpu', reason: 'requested' })
    const info = await setBackend('auto')
    expect(info.name).toBe('cpu')
    expect(info.reason).toMatch(/^auto: /)
    expect(getBackend()).toEqual(info)
    await expect(setBackend('tpu' as never)).rejects.toThrow(/unknown backend "tpu"/)
    await setBackend('cpu')
  })
})
