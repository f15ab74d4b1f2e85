import { describe, expect, it } from 'vitest'
import { FitTally, regressionFit } from './regression-fit'

// Expected values from scikit-learn 1.2 (r2_score, sqrt(mean_squared_error), mean_absolute_error).
describe('regression fit: R², RMSE, MAE', () => {
  it('matches scikit-learn on its r2_score example', () => {
    const f = regressionFit([2.5, 0.0, 2, 8], [3, -0.5, 2, 7])
    expect(f.r2).toBeCloseTo(0.9486081370449679, 12)
    expect(f.rmse).toBeCloseTo(0.6123724356957945, 12)
    expect(f.mae).toBeCloseTo(0.5, 12)
  })

  it('by hand: a perfect fit is R² 1, predicting the mean is R² 0, a constant target has no R²', () => {
    expect(regressionFit([1, 2, 3], [1, 2, 3])).toEqual({ r2: 1, rmse: 0, mae: 0 })
    expect(regressionFit([2, 2, 2], [1, 2, 3])).toEqual({ r2: 0, rmse: Math.sqrt(2 / 3), mae: 2 / 3 })
    expect(regressionFit([1, 3], [5, 5])).toEqual({ r2: null, rmse: Math.sqrt(10), mae: 3 })
  })

  it('tallied over chunks of a standardised target, reports in the target’s units (scikit-learn’s figures)', () => {
    const actual = [151, 75, 141, 206, 135]
    const predicted = [160, 90, 120, 190, 150]
    const s = { mean: 140, std: 40 }
    const z = (v: number) => (v - s.mean) / s.std
    const t = new FitTally()
    t.add(predicted.slice(0, 2).map(z), actual.slice(0, 2).map(z), 2)
    t.add(predicted.slice(2).map(z), actual.slice(2).map(z), 3)
    const f = t.result(s)
    expect(f.r2).toBeCloseTo(0.859096750504865, 10)
    expect(f.rmse).toBeCloseTo(15.671630419327785, 9)
    expect(f.mae).toBeCloseTo(15.2, 9)
  })
})
