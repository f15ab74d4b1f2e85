import { describe, expect, it } from 'vitest'
import { countStop, evalStop, explodingAlarm, freshMonitor, sci, vanishingAlarm, VANISHING_STREAK } from './train-guards'

const alarms = { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true }
/** Per-layer gradient norms from [weight, bias] pairs. */
const g = (...pairs: [number, number][]) => pairs.map(([weight, bias]) => ({ layer: Math.hypot(weight, bias), weight, bias }))
/** Layers whose gradient is all in the weight. */
const w = (...norms: number[]) => g(...norms.map((n): [number, number] => [n, 0]))
const noStop = { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null }

describe('sci', () => {
  it('writes short scientific numbers with two-digit exponents', () => {
    expect([34_000, 1e3, 1e-7, 2.05e-9, 0.5, -1234].map(sci)).toEqual(['3.4e+04', '1e+03', '1e-07', '2.1e-09', '5e-01', '-1.2e+03'])
  })
})

describe('explodingAlarm', () => {
  it('names the worst layer above the threshold, and says whether training pauses', () => {
    expect(explodingAlarm(12, w(5, 999, 1000), alarms)).toBeNull()
    expect(explodingAlarm(12, w(2000, 34_000, 10), alarms)).toEqual({
      step: 12,
      kind: 'exploding',
      layer: 'layers.1',
      parameter: 'layers.1.weight',
      message:
        'step 12: exploding gradients — layers.1 gradient norm 3.4e+04 exceeds 1e+03; training paused. Lower the learning rate or enable gradient clipping.',
    })
    expect(explodingAlarm(3, w(2000), { ...alarms, pause: false })!.message).toBe(
      'step 3: exploding gradients — layers.0 gradient norm 2e+03 exceeds 1e+03; training continues.',
    )
  })

  it('counts the bias: a layer whose bias gradient explodes is named with its bias', () => {
    expect(explodingAlarm(4, g([0, 0], [600, 800], [1, 1200]), alarms)).toMatchObject({ layer: 'layers.2', parameter: 'layers.2.bias' })
    expect(explodingAlarm(4, g([0, 0], [900, 600]), alarms)).toMatchObject({
      parameter: 'layers.1.weight',
      message: expect.stringContaining('layers.1 gradient norm 1.1e+03 exceeds'),
    })
    // Neither part alone is over 1e3, and together they are exactly at it: no alarm.
    expect(explodingAlarm(4, g([0, 0], [600, 800]), alarms)).toBeNull()
  })

  it('leaves non-finite norms to the NaN/Inf guard', () => {
    expect(explodingAlarm(1, w(Infinity, 5e3), alarms)).toBeNull()
    expect(explodingAlarm(1, w(NaN, 5e3), alarms)).toBeNull()
  })
})

describe('vanishingAlarm', () => {
  it('fires once, after VANISHING_STREAK steps in a row of a tiny first layer under a live output layer', () => {
    const m = freshMonitor()
    const low = w(1e-9, 1e-3, 0.5)
    for (let s = 1; s < VANISHING_STREAK; s++) expect(vanishingAlarm(s, low, alarms, m)).toBeNull()
    // A normal step breaks the streak.
    expect(vanishingAlarm(VANISHING_STREAK, w(1, 1, 1), alarms, m)).toBeNull()
    expect(m.vanishingStreak).toBe(0)
    let fired = null
    for (let s = 1; s <= VANISHING_STREAK; s++) fired = vanishingAlarm(100 + s, low, alarms, m)
    expect(fired).toEqual({
      step: 100 + VANISHING_STREAK,
      kind: 'vanishing',
      layer: 'layers.0',
      parameter: null,
      message: `step ${100 + VANISHING_STREAK}: vanishing gradients — layers.0 gradient norm 1e-09 is below 1e-07 while layers.2 has 5e-01 (${VANISHING_STREAK} steps in a row); training paused. Try relu or leakyRelu, a he init, or fewer layers.`,
    })
    for (let s = 0; s < 2 * VANISHING_STREAK; s++) expect(vanishingAlarm(200 + s, low, alarms, m)).toBeNull()
  })

  it('does not fire at convergence (every gradient small) or without a hidden layer', () => {
    const m = freshMonitor()
    for (let s = 1; s < 5 * VANISHING_STREAK; s++) expect(vanishingAlarm(s, w(1e-9, 1e-9), alarms, m)).toBeNull()
    for (let s = 1; s < 5 * VANISHING_STREAK; s++) expect(vanishingAlarm(s, w(1e-9), alarms, m)).toBeNull()
  })
})

describe('stop conditions', () => {
  it('maxSteps and maxEpochs', () => {
    expect(countStop(noStop, 1000, 3)).toBeNull()
    expect(countStop({ ...noStop, maxSteps: 100 }, 99, 0)).toBeNull()
    expect(countStop({ ...noStop, maxSteps: 100 }, 100, 0)).toBe('stopped: reached 100 steps (maxSteps)')
    expect(countStop({ ...noStop, maxEpochs: 5 }, 349, 4)).toBeNull()
    expect(countStop({ ...noStop, maxEpochs: 5 }, 350, 5)).toBe('stopped: reached 5 epochs (maxEpochs) at step 350')
  })

  it('targetLoss stops at the first evaluation at or below it', () => {
    const m = freshMonitor()
    const stop = { ...noStop, targetLoss: 0.1 }
    expect(evalStop(stop, m, 0.5, 0, 'test')).toBeNull()
    expect(evalStop(stop, m, 0.1, 50, 'train')).toBe('stopped: train loss 0.1000 reached the target 0.1 at step 50')
  })

  it('early stopping counts evaluations without an improvement beyond minDelta, then restarts its patience', () => {
    const m = freshMonitor()
    const stop = { ...noStop, earlyStopping: { patience: 3, minDelta: 0.01 } }
    // 0.295 and 0.292 are within minDelta of the best 0.3, so they do not count as improvements.
    expect([0.5, 0.3, 0.295, 0.31].map((l, i) => evalStop(stop, m, l, i * 50, 'test'))).toEqual([null, null, null, null])
    expect(evalStop(stop, m, 0.292, 200, 'test')).toBe(
      'stopped: early stopping — test loss has not improved for 3 evaluations (best 0.3000 at step 50)',
    )
    expect(m).toMatchObject({ bestLoss: 0.3, bestStep: 50, sinceBest: 0 })
    // Continuing: patience starts over, and a real improvement resets the best.
    expect(evalStop(stop, m, 0.3, 250, 'test')).toBeNull()
    expect(evalStop(stop, m, 0.2, 300, 'test')).toBeNull()
    expect(m).toMatchObject({ bestLoss: 0.2, bestStep: 300, sinceBest: 0 })
  })
})
