import { describe, expect, it } from 'vitest'
import { GradHistory, HISTORY_WARMUP, HISTORY_WINDOW } from './grad-history'

const push = (h: GradHistory, name: string, norms: number[]) => norms.forEach((norm) => h.push([{ name, norm }]))

describe('GradHistory', () => {
  it('has no reference until a layer has HISTORY_WARMUP steps, then its median', () => {
    const h = new GradHistory()
    push(h, 'layers.0', [3, 1, 2, 5, 4, 9, 7, 8, 6].slice(0, HISTORY_WARMUP - 1))
    expect(h.reference('layers.0')).toBeNull()
    push(h, 'layers.0', [10])
    expect(h.reference('layers.0')).toBe(5.5)
    expect(h.reference('layers.1')).toBeNull()
  })

  it('follows the recent median upwards, but never below the first steps’ median; non-finite norms are not history', () => {
    const h = new GradHistory()
    push(h, 'l', Array(HISTORY_WARMUP).fill(2))
    push(h, 'l', Array(HISTORY_WINDOW).fill(1e-6)) // a trained layer's tiny gradients
    expect(h.reference('l')).toBe(2)
    push(h, 'l', Array(HISTORY_WINDOW).fill(40)) // a layer whose gradients grew steadily
    push(h, 'l', [NaN, Infinity])
    expect(h.reference('l')).toBe(40)
    h.clear()
    expect(h.reference('l')).toBeNull()
  })
})
