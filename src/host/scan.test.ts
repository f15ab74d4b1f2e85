import { describe, expect, it } from 'vitest'
import { absStats, allFinite, sumOfSquares } from './scan'

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

  it('takes Σv², Σ|v| and max |v| in one pass like the plain loops, for every length remainder', () => {
    for (const n of [0, 1, 2, 3, 5, 1001]) {
      const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 3 * (i % 7 === 3 ? -10 : 1))
      let [q, a, m] = [0, 0, 0]
      for (const x of v) {
        q += x * x
        a += Math.abs(x)
        m = Math.max(m, Math.abs(x))
      }
      const r = absStats(v)
      expect(r.sumSq).toBeCloseTo(q, 9)
      expect(r.sumAbs).toBeCloseTo(a, 9)
      expect(r.maxAbs).toBe(m)
    }
    expect(absStats(new Float64Array([-5, 2, 1]))).toEqual({ sumSq: 30, sumAbs: 8, maxAbs: 5 })
  })
})
