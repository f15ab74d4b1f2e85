import { describe, expect, it } from 'vitest'
import { mseLoss, nn, tensor, Tensor } from '../engine'
import { deadFraction, layerStats, MetricsCollector, saturatedFraction } from './metrics'

function set(t: Tensor, values: number[]): void {
  t.assign(tensor(values, { shape: t.shape }))
}

describe('layerStats', () => {
  it('matches a hand computation on a 2-2-1 linear network', () => {
    // y = (x·W1 + b1)·W2 + b2, loss = (y - t)², one row.
    const model = new nn.MLP([2, 2, 1], { activation: 'linear', seed: 1 })
    const [l1, l2] = model.layers
    set(l1.weight, [1, -2, 0.5, 3]) // [[1, -2], [0.5, 3]]
    set(l1.bias!, [0, 0])
    set(l2.weight, [2, -1]) // [[2], [-1]]
    set(l2.bias!, [0])
    const x = [1, 2]
    const target = -1
    mseLoss(model.forward(tensor([x])), [target]).backward()
    // By hand: h = x·W1 = [1·1 + 2·0.5, 1·(-2) + 2·3] = [2, 4]; y = h·W2 = 2·2 + 4·(-1) = 0;
    // dL/dy = 2(y - t) = 2; dW2 = hᵀ·dy; dh = dy·W2ᵀ; dW1 = xᵀ·dh.
    const dy = 2
    const h = [2, 4]
    const gW2 = [h[0] * dy, h[1] * dy] // [4, 8]
    const dh = [2 * dy, -1 * dy] // W2ᵀ·dy = [4, -2]
    const gW1 = [x[0] * dh[0], x[0] * dh[1], x[1] * dh[0], x[1] * dh[1]] // [4, -2, 8, -4]
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0))
    const lr = 0.1
    const want = [
      { g: gW1, w: [1, -2, 0.5, 3] },
      { g: gW2, w: [2, -1] },
    ].map(({ g, w }) => ({
      gradNorm: norm(g),
      meanAbsGrad: g.reduce((s, a) => s + Math.abs(a), 0) / g.length,
      maxAbsGrad: Math.max(...g.map(Math.abs)),
      weightNorm: norm(w),
      updateRatio: (lr * norm(g)) / norm(w),
    }))
    const got = layerStats(model, lr)
    expect(got).toHaveLength(2)
    got.forEach((s, i) => {
      for (const k of Object.keys(want[i]) as (keyof (typeof want)[number])[]) expect(s[k], `layer ${i} ${k}`).toBeCloseTo(want[i][k], 5)
    })
  })

  it('reports an update ratio of 0 rather than Infinity for all-zero weights', () => {
    const model = new nn.MLP([2, 3, 1], { init: 'zeros', seed: 1 })
    mseLoss(model.forward(tensor([[1, 2]])), [1]).backward()
    for (const s of layerStats(model, 0.1)) {
      expect(s.weightNorm).toBe(0)
      expect(s.updateRatio).toBe(0)
    }
  })
})

describe('health fractions', () => {
  it('dead: units ≤ 0 on every row of the batch', () => {
    // 3 rows × 4 units: unit 0 always 0, unit 1 positive once, unit 2 always negative, unit 3 positive.
    const h = new Float32Array([0, -1, -0.5, 2, 0, 0.1, -0.2, 3, 0, -2, -0.1, 1])
    expect(deadFraction(h, 3, 4)).toBe(0.5)
    expect(deadFraction(new Float32Array([1, 1]), 1, 2)).toBe(0)
  })

  it('saturated: tanh beyond ±0.99, sigmoid under 0.01 or over 0.99', () => {
    expect(saturatedFraction(new Float64Array([0.995, -0.999, 0.5, 0.99]), 'tanh')).toBe(0.5)
    expect(saturatedFraction(new Float64Array([0.005, 0.995, 0.5, 0.01, 0.99]), 'sigmoid')).toBe(0.4)
  })

  it('layerStats reports them per layer from the outputs, null where they do not apply', () => {
    const model = new nn.MLP([2, 2, 2, 1], { activation: ['relu', 'tanh', 'linear'], seed: 1 })
    mseLoss(model.forward(tensor([[1, 2]])), [1]).backward()
    const outputs = { rows: 1, values: [new Float32Array([0, 1]), new Float32Array([0.999, 0.1]), new Float32Array([0.3])] }
    const got = layerStats(model, 0.1, outputs)
    expect(got.map((s) => [s.deadFraction, s.saturatedFraction])).toEqual([
      [0.5, null],
      [null, 0.5],
      [null, null],
    ])
    expect(layerStats(model, 0.1).every((s) => s.deadFraction === null && s.saturatedFraction === null)).toBe(true)
  })
})

describe('MetricsCollector', () => {
  const stats = [
    { gradNorm: 1, meanAbsGrad: 1, maxAbsGrad: 1, weightNorm: 1, updateRatio: 0.1, deadFraction: null, saturatedFraction: null },
  ]

  it('batches every step once, with at most one layer sample per batch', () => {
    const m = new MetricsCollector('s1', 0)
    expect(m.flush(10, 0, 0)).toBeNull()
    m.startWindow(0, 0)
    for (let s = 1; s <= 5; s++) m.recordStep(s, 1 / s, m.layerSampleDue ? stats : null, 0.01 * s)
    expect(m.layerSampleDue).toBe(false)
    m.recordEval({ step: 5, trainLoss: 0.2, testLoss: 0.3, trainAccuracy: 0.9, testAccuracy: 0.8 })
    const b = m.flush(50, 5, 0)!
    expect(b.steps).toEqual([1, 2, 3, 4, 5])
    expect(b.trainLoss).toEqual([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    expect(b.layers).toEqual([{ step: 1, stats }])
    expect(b.evals).toHaveLength(1)
    expect(b.stepsPerSecond).toBeCloseTo(100, 6) // 5 steps in 50 ms
    expect(b.lr).toBe(0.05) // the rate of the batch's last step
    expect(m.layerSampleDue).toBe(true)
    m.recordStep(6, 0.1, stats, 0.06)
    expect(m.flush(100, 6, 0)!.steps).toEqual([6])
    expect(m.lastFlushAt).toBe(100)
  })

  it('takes layer statistics once per batch, and no sooner than statsTaken allows', () => {
    const m = new MetricsCollector('s1', 0)
    m.startWindow(0, 0)
    expect(m.statsDue(1)).toBe(true)
    m.recordStep(1, 1, stats, 0.01)
    m.statsTaken(1, 5) // a 15.7M-parameter model's: every 5th step
    expect(m.statsDue(2)).toBe(false)
    m.flush(300, 1, 0)
    for (const step of [2, 3, 4, 5]) expect(m.statsDue(step)).toBe(false)
    expect(m.statsDue(6)).toBe(true)
    m.statsTaken(6, 1) // a small model's: every batch
    m.flush(350, 6, 0)
    expect(m.statsDue(7)).toBe(true)
  })

  it('measures steps per second over about the last second', () => {
    const m = new MetricsCollector('s1', 0)
    m.startWindow(0, 0)
    let step = 0
    // 1000 steps/s for 2 s, then 100 steps/s: after a further 1.5 s the rate shows the new speed.
    for (let t = 50; t <= 2000; t += 50) {
      for (let k = 0; k < 50; k++) m.recordStep(++step, 1, null, 0.1)
      m.flush(t, step, 0)
    }
    let last = 0
    for (let t = 2050; t <= 3500; t += 50) {
      for (let k = 0; k < 5; k++) m.recordStep(++step, 1, null, 0.1)
      last = m.flush(t, step, 0)!.stepsPerSecond
    }
    expect(last).toBeCloseTo(100, 0)
  })
})
