import { describe, expect, it } from 'vitest'
import { allFinite, sumOfSquares } from './scan'

describe('per-step scans', () => {
  it('sums squares exactly like the plain loop, for every length remainder', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 1001]) {
      const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 3)
      let plain = 0
      for (const x of v) plain += x * x
      expect(sumOfSquares(v)).toBeCloseTo(plain, 9)
    }
    expect(sumOfSquares(new Float64Array([3, 4]))).toBe(25)
  })

  it('finds a non-finite value wherever it is, and passes finite arrays (huge values included)', () => {
    const v = new Float32Array(13).fill(1)
    expect(allFinite(v)).toBe(true)
    expect(allFinite(new Float32Array([3.4e38, -3.4e38, 0]))).toBe(true)
    for (let i = 0; i < v.length; i++) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const w = v.slice()
        w[i] = bad
        expect(allFinite(w), `index ${i} = ${bad}`).toBe(false)
      }
    }
    expect(allFinite(new Float64Array(0))).toBe(true)
  })
})
