import { describe, expect, it } from 'vitest'
import { smoothEma } from './smoothing'

const pts = (ys: number[]) => ys.map((y, i) => ({ x: i + 1, y }))

describe('smoothEma', () => {
  it('is debiased: a constant series stays constant from the first point', () => {
    expect(smoothEma(pts([3, 3, 3]), 0.9).map((p) => p.y)).toEqual([3, 3, 3].map(() => expect.closeTo(3, 12)))
  })

  it('matches the debiased EMA by hand', () => {
    const w = 0.6
    const ys = smoothEma(pts([1, 0, 4]), w).map((p) => p.y)
    // ema_n = w·ema_{n−1} + (1−w)·y_n; divided by 1 − wⁿ.
    const e1 = 0.4 * 1
    const e2 = w * e1 + 0.4 * 0
    const e3 = w * e2 + 0.4 * 4
    expect(ys[0]).toBeCloseTo(e1 / (1 - w), 12)
    expect(ys[1]).toBeCloseTo(e2 / (1 - w ** 2), 12)
    expect(ys[2]).toBeCloseTo(e3 / (1 - w ** 3), 12)
  })

  it('returns a copy for weight 0, skips non-finite values, and refuses weights outside [0, 1)', () => {
    const input = pts([1, 2])
    const out = smoothEma(input, 0)
    expect(out).toEqual(input)
    expect(out).not.toBe(input)
    expect(smoothEma(pts([1, Number.NaN, 1]), 0.5).map((p) => p.x)).toEqual([1, 3])
    expect(() => smoothEma(input, 1)).toThrow(/smoothing weight must be in \[0, 1\), got 1/)
    expect(() => smoothEma(input, -0.1)).toThrow(/got -0.1/)
  })
})
