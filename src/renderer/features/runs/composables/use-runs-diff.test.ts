import { describe, expect, it } from 'vitest'
import { MISSING, diffSpecs, flattenSpec } from './use-runs-diff'

const spec = (lr: number, hidden: number[], extra: Record<string, unknown> = {}) => ({
  model: { hidden, activation: 'tanh' },
  data: { generator: 'spiral', noise: 0.1 },
  optimizer: { type: 'adam', lr, ...extra },
  backend: 'auto',
})

describe('flattenSpec', () => {
  it('turns nested objects into dotted paths and keeps arrays whole', () => {
    expect(flattenSpec(spec(0.01, [8, 4]))).toEqual({
      'model.hidden': '[8, 4]',
      'model.activation': 'tanh',
      'data.generator': 'spiral',
      'data.noise': '0.1',
      'optimizer.type': 'adam',
      'optimizer.lr': '0.01',
      backend: 'auto',
    })
  })

  it('gives nothing for a spec that is not an object', () => {
    expect(flattenSpec(null)).toEqual({})
    expect(flattenSpec('x')).toEqual({})
  })
})

describe('diffSpecs', () => {
  it('lists only the fields that differ, with one value per run', () => {
    expect(diffSpecs([spec(0.01, [8, 8]), spec(0.1, [8, 8]), spec(0.01, [8, 8])])).toEqual([
      { path: 'optimizer.lr', values: ['0.01', '0.1', '0.01'] },
    ])
  })

  it('shows a field that only some runs have as missing in the others', () => {
    expect(diffSpecs([spec(0.01, [8]), spec(0.01, [8, 8], { momentum: 0.9 })])).toEqual([
      { path: 'model.hidden', values: ['[8]', '[8, 8]'] },
      { path: 'optimizer.momentum', values: [MISSING, '0.9'] },
    ])
  })

  it('finds nothing to show for identical specs or a single run', () => {
    expect(diffSpecs([spec(0.01, [8]), spec(0.01, [8])])).toEqual([])
    expect(diffSpecs([spec(0.01, [8])])).toEqual([])
  })
})
