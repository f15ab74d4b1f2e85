import { afterEach, describe, expect, it } from 'vitest'
import { noGrad, Tensor } from '../engine'
import { parseReply, okReply } from '../shared/protocol'
import { histogram, niceCeil } from './inspect-histograms'
import { predictionsOf } from './inspect-studio'
import { view } from './metrics'
import { spec, testHost } from './test-helpers'

let current: ReturnType<typeof testHost> | null = null
function make() {
  current = testHost()
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
})

describe('histogram', () => {
  it('bins honestly over a user range: edges, under/overflow, non-finite counted apart', () => {
    const h = histogram([-1, -0.5, 0, 0.49, 0.5, 1, 1.01, -2, NaN, Infinity], 4, { lo: -1, hi: 1 })
    // Bins [-1,-0.5) [-0.5,0) [0,0.5) [0.5,1]: hi itself belongs to the last bin.
    expect(h.counts).toEqual([1, 1, 2, 2])
    expect(h).toMatchObject({ lo: -1, hi: 1, underflow: 1, overflow: 1, count: 8, nonFinite: 2, min: -2, max: 1.01 })
    const finite = [-1, -0.5, 0, 0.49, 0.5, 1, 1.01, -2]
    const mean = finite.reduce((a, b) => a + b) / 8
    expect(h.mean).toBeCloseTo(mean, 12)
    expect(h.std).toBeCloseTo(Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / 8), 12)
    expect(h.counts.reduce((a, b) => a + b) + h.underflow + h.overflow).toBe(h.count)
  })

  it("'auto' is symmetric around 0 up to max |x| rounded to 1, 2 or 5 × 10^k", () => {
    expect([0.003, 0.2, 0.21, 1, 3, 7, 12].map(niceCeil)).toEqual([0.005, 0.2, 0.5, 1, 5, 10, 20])
    const h = histogram([0.1, -0.13, 0.05], 10, 'auto')
    expect([h.lo, h.hi]).toEqual([-0.2, 0.2])
    expect(h.underflow + h.overflow).toBe(0)
    // Drifting values keep the same bins while max |x| stays under the same nice number.
    expect(histogram([0.11, -0.16], 10, 'auto').hi).toBe(0.2)
  })

  it('handles a single element, all-equal values, zeros and no finite values', () => {
    const one = histogram([0.37], 5, 'auto')
    expect(one.lo).toBeLessThan(0.37)
    expect(one.hi).toBeGreaterThan(0.37)
    expect(one.hi - one.lo).toBeCloseTo(0.1, 12)
    expect(one.counts.reduce((a, b) => a + b)).toBe(1)
    expect(one).toMatchObject({ count: 1, min: 0.37, max: 0.37, mean: 0.37, std: 0 })
    const zeros = histogram(new Float32Array(6), 4, 'auto')
    expect([zeros.lo, zeros.hi]).toEqual([-0.01, 0.01])
    expect(zeros.counts).toEqual([0, 0, 6, 0])
    const none = histogram([NaN, -Infinity], 4, 'auto')
    expect(none).toMatchObject({ lo: -1, hi: 1, counts: [0, 0, 0, 0], count: 0, nonFinite: 2, min: 0, max: 0, mean: 0, std: 0 })
    expect(histogram([], 4, 'auto')).toMatchObject({ count: 0, nonFinite: 0 })
  })
})

describe('histogram over ranges near the largest float64 (issue 17: ±1e308 put every count in bin 0)', () => {
  it('bins by position whatever the width: the range is halved before dividing, so hi − lo never overflows', () => {
    const h = histogram([-1.5e308, -0.5e308, 0.5e308, 1.5e308], 4, { lo: -1.7e308, hi: 1.7e308 })
    expect(h.counts).toEqual([1, 1, 1, 1])
    const auto = histogram([-1.7e308, 1e300, 1.7e308], 2, 'auto')
    expect([auto.lo, auto.hi]).toEqual([-Number.MAX_VALUE, Number.MAX_VALUE])
    expect(auto.counts).toEqual([1, 2])
  })

  it('session.histograms refuses a range whose width is not a finite float64, naming it', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec())
    const e = await fail('session.histograms', { sessionId: 's1', range: { lo: -1e308, hi: 1e308 } })
    expect(e).toEqual({
      code: 'invalid_payload',
      message:
        'session.histograms: range [-1e+308, 1e+308] is wider than a 64-bit float can hold (hi − lo overflows); use a narrower range',
    })
  })
})

describe('session.histograms', () => {
  it('weights, biases and (after a step) gradients per layer; a user range applies to all', async () => {
    const { ok } = make()
    await ok('session.create', spec({ model: { hidden: [8, 4] } }))
    const before = await ok('session.histograms', { sessionId: 's1', bins: 10 })
    expect(parseReply('session.histograms', okReply(1, before)).ok).toBe(true)
    expect(before.step).toBe(0)
    expect(before.layers.map((l) => l.name)).toEqual(['layers.0', 'layers.1', 'layers.2'])
    expect(before.layers.every((l) => l.grads === null)).toBe(true)
    expect(before.layers.map((l) => l.weights.count)).toEqual([16, 32, 8])
    expect(before.layers[0].weights.counts).toHaveLength(10)
    await ok('session.step', { sessionId: 's1', steps: 3 })
    const after = await ok('session.histograms', { sessionId: 's1', bins: 8, range: { lo: -0.5, hi: 0.5 } })
    expect(after.step).toBe(3)
    for (const l of after.layers) {
      expect(l.grads).not.toBeNull()
      for (const h of [l.weights, l.grads!, l.biases]) {
        expect([h.lo, h.hi]).toEqual([-0.5, 0.5])
        expect(h.counts.reduce((a, b) => a + b) + h.underflow + h.overflow).toBe(h.count)
      }
    }
  })
})

describe('session.boundary', () => {
  it('binary: P(class 1) over the data extent plus 10%, row-major from the top left', async () => {
    const { ok } = make()
    await ok('session.create', spec({ model: { hidden: [8] } }))
    await ok('session.step', { sessionId: 's1', steps: 200 })
    const b = await ok('session.boundary', { sessionId: 's1', resolution: 16 })
    expect(parseReply('session.boundary', okReply(1, b)).ok).toBe(true)
    expect(b).toMatchObject({ step: 200, resolution: 16, kind: 'probability', confidence: [] })
    expect(b.values).toHaveLength(256)
    for (const v of b.values) expect(v >= 0 && v <= 1).toBe(true)
    const session = current!.host['sessions'].get('s1')!
    const raw = session.trainer.data.raw
    const xs = Array.from({ length: raw.n }, (_, i) => raw.x[2 * i])
    const span = Math.max(...xs) - Math.min(...xs)
    expect(b.xRange[0]).toBeCloseTo(Math.min(...xs) - 0.1 * span, 5)
    expect(b.xRange[1]).toBeCloseTo(Math.max(...xs) + 0.1 * span, 5)
    // XOR: the top-left and bottom-left corners (x < 0; y > 0 vs y < 0) fall on different sides.
    expect(Math.round(b.values[0])).not.toBe(Math.round(b.values[15 * 16]))
    expect(b.min).toBe(Math.min(...b.values))
    expect(b.max).toBe(Math.max(...b.values))
  })

  it('multiclass gives classes and confidences; regression gives values; non-planar data is refused', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ data: { generator: 'blobs', n: 300, classes: 4 } }))
    const m = await ok('session.boundary', { sessionId: 's1', resolution: 8 })
    expect(m.kind).toBe('class')
    expect(m.values.every((v) => Number.isInteger(v) && v >= 0 && v < 4)).toBe(true)
    expect(m.confidence).toHaveLength(64)
    expect(m.confidence.every((c) => c >= 0.25 && c <= 1)).toBe(true)
    await ok('session.create', spec({ data: { generator: 'reg-plane', n: 100 } }))
    const r = await ok('session.boundary', { sessionId: 's2', resolution: 8 })
    expect(r.kind).toBe('value')
    expect(r.min).toBeLessThanOrEqual(r.max)
    await ok('session.create', spec({ data: { source: 'bundled', name: 'iris' } }))
    const e = await fail('session.boundary', { sessionId: 's3' })
    expect(e.code).toBe('invalid_payload')
    expect(e.message).toMatch(/^session\.boundary: a decision boundary needs data with 2 raw input columns, but "[^"]+" has 4$/)
  })
})

describe('session.predictions', () => {
  it('classification: the first rows and the confusion matrix over the whole split', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ data: { generator: 'blobs', n: 300, classes: 3 }, optimizer: { type: 'adam', lr: 0.05 } }))
    await ok('session.step', { sessionId: 's1', steps: 100 })
    const p = await ok('session.predictions', { sessionId: 's1', split: 'test', max: 20 })
    expect(parseReply('session.predictions', okReply(1, p)).ok).toBe(true)
    expect(p).toMatchObject({ step: 100, split: 'test' })
    expect(p.actual).toHaveLength(20)
    expect(p.predicted).toHaveLength(20)
    const c = p.confusion!
    expect(c).toHaveLength(3)
    expect(c.flat().reduce((a, b) => a + b)).toBe(90) // the whole test split
    const session = current!.host['sessions'].get('s1')!
    const y = Array.from(session.trainer.data.test.y)
    for (let k = 0; k < 3; k++) expect(c[k].reduce((a, b) => a + b)).toBe(y.filter((v) => v === k).length)
    expect(p.actual).toEqual(y.slice(0, 20))
    const right = c[0][0] + c[1][1] + c[2][2]
    expect(right / 90).toBeGreaterThan(0.8)
    await ok('session.create', spec({ data: { generator: 'xor', n: 50, testRatio: 0 } }))
    expect((await fail('session.predictions', { sessionId: 's2' })).message).toMatch(/has no test rows/)
    const tr = await ok('session.predictions', { sessionId: 's2', split: 'train', max: 1000 })
    expect(tr.actual).toHaveLength(50)
  })

  it('regression: actual and predicted values, no confusion matrix', async () => {
    const { ok } = make()
    await ok('session.create', spec({ data: { generator: 'reg-plane', n: 200 }, optimizer: { type: 'adam', lr: 0.05 } }))
    await ok('session.step', { sessionId: 's1', steps: 300 })
    const p = await ok('session.predictions', { sessionId: 's1', split: 'train', max: 30 })
    expect(p.confusion).toBeNull()
    expect(p.actual).toHaveLength(30)
    const err = p.actual.reduce((s, a, i) => s + (a - p.predicted[i]) ** 2, 0) / 30
    const variance = p.actual.reduce((s, a) => s + a * a, 0) / 30
    expect(err).toBeLessThan(0.2 * variance)
  })
})

/**
 * Runs `fn` (synchronous) with Float32Array and Float64Array replaced by subclasses that record each
 * new array's length; `instanceof` still answers for arrays made before. The largest length seen.
 */
function largestTypedArrayDuring<T>(fn: () => T): { result: T; largest: number } {
  const g = globalThis as unknown as Record<'Float32Array' | 'Float64Array', Float32ArrayConstructor | Float64ArrayConstructor>
  const real = { Float32Array: g.Float32Array, Float64Array: g.Float64Array }
  let largest = 0
  const spy = (Base: Float32ArrayConstructor | Float64ArrayConstructor) =>
    class extends (Base as Float64ArrayConstructor) {
      constructor(...a: ConstructorParameters<Float64ArrayConstructor>) {
        super(...a)
        largest = Math.max(largest, this.length)
      }
      static override [Symbol.hasInstance](x: unknown): boolean {
        return x instanceof Base
      }
    }
  g.Float32Array = spy(real.Float32Array) as unknown as Float32ArrayConstructor
  g.Float64Array = spy(real.Float64Array)
  try {
    return { result: fn(), largest }
  } finally {
    Object.assign(g, real)
  }
}

describe('session.predictions memory (issue 17: every row × class was kept, ~200 MB at 100k rows × 256 classes)', () => {
  it('classification: the same sample and confusion as one whole-split pass, from chunks, with no buffer of rows × classes', async () => {
    const { ok } = make()
    await ok(
      'session.create',
      spec({ data: { generator: 'blobs', n: 600, classes: 5, seed: 3 }, model: { hidden: [8] }, optimizer: { type: 'adam', lr: 0.05 } }),
    )
    await ok('session.step', { sessionId: 's1', steps: 30 })
    const session = current!.host['sessions'].get('s1')!
    const { model, data } = session.trainer
    const ds = data.test
    const k = 5
    // The old computation: every row's outputs in one buffer, then each row's argmax.
    const w = model.layers[0].weight
    const all = view(noGrad(() => model.forward(new Tensor(w.backend.fromArray(ds.x.slice()), [ds.n, ds.nFeatures], w.backend))))
    const classes = Array.from({ length: ds.n }, (_, i) => {
      let best = 0
      for (let j = 1; j < k; j++) if (all[i * k + j] > all[i * k + best]) best = j
      return best
    })
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0))
    classes.forEach((c, i) => confusion[ds.y[i]][c]++)
    expect(ds.n).toBe(180)

    // Chunks of 7 rows: the split takes 26 of them, the last one partial.
    const { result, largest } = largestTypedArrayDuring(() => predictionsOf(session, 'test', 25, 7))
    expect(result).toEqual({
      step: 30,
      split: 'test',
      actual: Array.from(ds.y.subarray(0, 25)),
      predicted: classes.slice(0, 25),
      confusion,
    })
    // Nothing as big as the split's outputs (180 × 5 = 900 values) was made: the biggest buffer is
    // a chunk's activations (7 rows × 8 hidden units). The old code made a Float64Array of 900.
    expect(largest).toBeGreaterThan(0)
    expect(largest).toBeLessThanOrEqual(7 * 8)
    // The same answer from the default chunk size, and `max` caps the sample, not the tally.
    expect(predictionsOf(session, 'test', 25)).toEqual(result)
    expect(predictionsOf(session, 'test', 3, 7)).toEqual({
      ...result,
      actual: result.actual.slice(0, 3),
      predicted: result.predicted.slice(0, 3),
    })
  })

  it('regression: runs only the first `max` rows, in chunks', async () => {
    const { ok } = make()
    await ok('session.create', spec({ data: { generator: 'reg-plane', n: 400 }, model: { hidden: [8] } }))
    const session = current!.host['sessions'].get('s1')!
    const whole = predictionsOf(session, 'train', 30)
    const { result, largest } = largestTypedArrayDuring(() => predictionsOf(session, 'train', 30, 4))
    // Equal up to float rounding: a product over 4 rows may sum in another order than over 30.
    expect(result).toMatchObject({ step: 0, split: 'train', actual: whole.actual, confusion: null })
    expect(result.predicted).toHaveLength(30)
    result.predicted.forEach((v, i) => expect(v).toBeCloseTo(whole.predicted[i], 5))
    expect(largest).toBeLessThanOrEqual(4 * 8)
  })
})
