import { describe, expect, it } from 'vitest'
import { alarmDetail, alarmTitle } from './alarm-text'

describe('alarm text', () => {
  it('drops the step the message starts with, and only that step', () => {
    const message = 'step 52804: exploding gradients — layers.2 gradient norm 1.2e+3 exceeds 1e+3; training paused.'
    expect(alarmDetail({ step: 52804, message })).toBe('exploding gradients — layers.2 gradient norm 1.2e+3 exceeds 1e+3; training paused.')
    expect(alarmDetail({ step: 5280, message })).toBe(message)
    expect(alarmDetail({ step: 3, message: 'loss became NaN' })).toBe('loss became NaN')
  })

  it('titles an alarm by kind, step and layer', () => {
    expect(alarmTitle({ kind: 'exploding', step: 52, layer: 'layers.2' })).toBe('Exploding gradients at step 52 in layers.2')
    expect(alarmTitle({ kind: 'nan', step: 1, layer: null })).toBe('NaN at step 1')
  })
})
