import { describe, expect, it } from 'vitest'
import { SessionSpec } from '../../../shared/protocol'
import { lossUnitsNote } from './loss-units'

const FILE = 'f0123456789abcdef'
const info = (data: object, loss: 'mse' | 'huber' | 'softmaxCrossEntropy', task: 'regression' | 'multiclass') =>
  ({
    spec: SessionSpec.parse({ model: { hidden: [4] }, data, optimizer: { type: 'sgd', lr: 0.1 } }),
    loss,
    task,
  }) as unknown as Parameters<typeof lossUnitsNote>[0]

describe('lossUnitsNote', () => {
  it('says regression losses are in the target’s units, and how a standardised target is reported', () => {
    const csv = { source: 'csv', fileId: FILE, target: 'y' }
    expect(lossUnitsNote(info(csv, 'mse', 'regression'))).toMatch(
      /^MSE in the target's units² \(the target trains standardised; reported × σ²\)$/,
    )
    expect(lossUnitsNote(info({ ...csv, standardizeTarget: false }, 'mse', 'regression'))).toBe("MSE in the target's units²")
    expect(lossUnitsNote(info(csv, 'huber', 'regression'))).toMatch(/δ = one standard deviation/)
    expect(lossUnitsNote(info({ generator: 'reg-plane' }, 'mse', 'regression'))).toBe("MSE in the target's units²")
    expect(lossUnitsNote(info({ generator: 'spiral' }, 'softmaxCrossEntropy', 'multiclass'))).toBeNull()
    expect(lossUnitsNote(null)).toBeNull()
  })
})
