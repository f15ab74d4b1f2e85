import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { scheduledLr } from './schedule.js'

// Reference values from PyTorch 1.13: the lr in effect for each of the first updates, with the
// scheduler stepped after every optimizer.step().
//   StepLR(SGD(lr=0.1), step_size=3, gamma=0.5)
const STEP_LR = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
//   CosineAnnealingLR(SGD(lr=0.1), T_max=4, eta_min=0.01), updates 0..4
const COSINE_LR = [0.1, 0.08681980515339464, 0.05500000000000001, 0.023180194846605363, 0.01]

describe('scheduledLr', () => {
  it('constant is the base rate at every step', () => {
    for (const t of [0, 1, 1000]) expect(scheduledLr({ type: 'constant' }, 0.3, t)).toBe(0.3)
  })

  it('step matches PyTorch StepLR', () => {
    STEP_LR.forEach((want, t) => expect(scheduledLr({ type: 'step', stepSize: 3, gamma: 0.5 }, 0.1, t)).toBeCloseTo(want, 15))
  })

  it('cosine matches PyTorch CosineAnnealingLR over its period, then stays at minLr', () => {
    COSINE_LR.forEach((want, t) => expect(scheduledLr({ type: 'cosine', periodSteps: 4, minLr: 0.01 }, 0.1, t)).toBeCloseTo(want, 15))
    // PyTorch's recursive form climbs back after T_max; ours holds the floor, as the protocol says.
    for (const t of [5, 6, 100]) expect(scheduledLr({ type: 'cosine', periodSteps: 4, minLr: 0.01 }, 0.1, t)).toBe(0.01)
  })

  it('warms up linearly to the base over warmupSteps, then starts the decay from its beginning', () => {
    const s = { type: 'step', stepSize: 2, gamma: 0.1, warmupSteps: 4 } as const
    expect([0, 1, 2, 3].map((t) => scheduledLr(s, 1, t))).toEqual([0.25, 0.5, 0.75, 1])
    expect([4, 5, 6, 7].map((t) => scheduledLr(s, 1, t))).toEqual([1, 1, 0.1, 0.1].map((v, i) => (i < 2 ? v : expect.closeTo(v, 15))))
    const c = { type: 'cosine', periodSteps: 2, minLr: 0, warmupSteps: 2 } as const
    expect([0, 1, 2, 3, 4].map((t) => scheduledLr(c, 2, t))).toEqual([1, 2, 2, expect.closeTo(1, 12), 0])
    expect(scheduledLr({ type: 'constant', warmupSteps: 10 }, 0.5, 4)).toBeCloseTo(0.25, 15)
  })

  it('refuses a step count that is not a whole number >= 0', () => {
    expect(() => scheduledLr({ type: 'constant' }, 0.1, -1)).toThrow(EngineError)
    expect(() => scheduledLr({ type: 'constant' }, 0.1, 1.5)).toThrow(/t must be a whole number of steps >= 0, got 1.5/)
  })
})
