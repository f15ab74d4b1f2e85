import { describe, expect, it } from 'vitest'
import { CLASS_COLORS, NO_CLASS, classColor, css, diverging, logPosition, positiveExtent, sequential } from './color-scales'

describe('colour scales', () => {
  it('sequential runs from viridis purple to yellow and clamps outside [0, 1]', () => {
    expect(sequential(0)).toEqual([68, 1, 84])
    expect(sequential(1)).toEqual([253, 231, 37])
    expect(sequential(-3)).toEqual(sequential(0))
    expect(sequential(7)).toEqual(sequential(1))
    expect(sequential(0.5)).toEqual([33, 145, 140])
  })

  it('diverging is orange for class 0, neutral at 0.5, blue for class 1 (the class colours agree)', () => {
    expect(diverging(0)).toEqual(CLASS_COLORS[0])
    expect(diverging(1)).toEqual(CLASS_COLORS[1])
    expect(diverging(0.5)).toEqual([232, 234, 235])
  })

  it('class colours fade to the background with confidence and cycle past the palette', () => {
    expect(classColor(2, 1)).toEqual(CLASS_COLORS[2])
    expect(classColor(2, 0, [0, 0, 0])).toEqual([0, 0, 0])
    expect(classColor(CLASS_COLORS.length + 1)).toEqual(CLASS_COLORS[1])
    expect(classColor(-1)).toEqual(CLASS_COLORS[CLASS_COLORS.length - 1])
    expect(classColor(0.37)).toEqual(NO_CLASS) // a regression target is not a class
    expect(classColor(Number.NaN)).toEqual(NO_CLASS)
  })

  it('places values on a log scale and refuses what cannot be drawn', () => {
    expect(logPosition(1e-3, 1e-6, 1)).toBeCloseTo(0.5)
    expect(logPosition(10, 1e-6, 1)).toBe(1)
    expect(logPosition(0, 1e-6, 1)).toBeNull()
    expect(logPosition(Number.NaN, 1e-6, 1)).toBeNull()
    expect(logPosition(2, 2, 2)).toBe(0.5)
    expect(() => logPosition(1, 0, 1)).toThrow(/lo, hi > 0/)
    expect(positiveExtent([0, -1, 3, 1e-4, Number.POSITIVE_INFINITY])).toEqual({ lo: 1e-4, hi: 3 })
    expect(positiveExtent([0, Number.NaN])).toBeNull()
  })

  it('writes CSS colours', () => {
    expect(css([1, 2, 3])).toBe('rgb(1 2 3)')
    expect(css([1, 2, 3], 0.5)).toBe('rgb(1 2 3 / 0.5)')
  })
})
