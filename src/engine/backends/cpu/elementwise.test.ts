// The strided fast paths (coalesced to at most 2-D) against index-by-index broadcasting.
import { describe, expect, it } from 'vitest'
import type { Shape } from '../backend.js'
import { broadcastShapes, sizeOf } from '../../shape.js'
import { binaryInto } from './elementwise.js'
import { activationGradInto } from './strided.js'

function reference(a: Float64Array, aShape: Shape, b: Float64Array, bShape: Shape, outShape: Shape): Float64Array {
  const out = new Float64Array(sizeOf(outShape))
  const at = (x: Float64Array, shape: Shape, idx: number[]): number => {
    let off = 0
    const lead = outShape.length - shape.length
    for (let d = 0; d < shape.length; d++) off = off * shape[d] + (shape[d] === 1 ? 0 : idx[d + lead])
    return x[off]
  }
  const idx = new Array<number>(outShape.length).fill(0)
  for (let i = 0; i < out.length; i++) {
    out[i] = at(a, aShape, idx) - 2 * at(b, bShape, idx)
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break
      idx[d] = 0
    }
  }
  return out
}

const PAIRS: [Shape, Shape][] = [
  [
    [7, 5],
    [7, 5],
  ],
  [[7, 5], [5]],
  [
    [7, 5],
    [1, 5],
  ],
  [
    [7, 5],
    [7, 1],
  ],
  [[5], [7, 5]],
  [
    [7, 1],
    [1, 5],
  ],
  [[], [3, 4]],
  [[3, 4], []],
  [
    [1, 1],
    [3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [
    [2, 3, 4],
    [2, 1, 4],
  ],
  [
    [2, 1, 3, 4],
    [5, 1, 4],
  ],
  [[1], [1]],
  [
    [6, 1, 1],
    [6, 1, 1],
  ],
  [
    [2, 3, 1, 4],
    [1, 3, 5, 1],
  ],
]

describe('cpu binary kernels (strided fast paths vs reference broadcasting)', () => {
  for (const [aShape, bShape] of PAIRS) {
    it(`[${aShape.join(',')}] and [${bShape.join(',')}]`, () => {
      const outShape = broadcastShapes('test', aShape, bShape)
      const a = Float64Array.from({ length: sizeOf(aShape) }, (_, i) => i * 0.5 - 1)
      const b = Float64Array.from({ length: sizeOf(bShape) }, (_, i) => i * 0.25 + 3)
      // a - 2b = a + (-2)·b, composed from three kernels so add, mul and sub all run.
      const twoB = new Float64Array(b.length)
      binaryInto('mul', b, bShape, new Float64Array([2]), [], twoB, bShape)
      const out = new Float64Array(sizeOf(outShape))
      binaryInto('sub', a, aShape, twoB, bShape, out, outShape)
      expect(Array.from(out)).toEqual(Array.from(reference(a, aShape, b, bShape, outShape)))
      const viaAdd = new Float64Array(out.length)
      const negTwoB = twoB.map((v) => -v)
      binaryInto('add', a, aShape, negTwoB, bShape, viaAdd, outShape)
      expect(Array.from(viaAdd)).toEqual(Array.from(out))
    })
  }
})

describe('cpu fused activation gradients', () => {
  it('match the composed rules, NaN included', () => {
    const g = new Float64Array([1, -2, 0.5, NaN, 3])
    const v = new Float64Array([0.3, -0.7, 0, 0.2, -1])
    const out = new Float64Array(5)
    activationGradInto('tanh', g, v, out)
    expect(Array.from(out)).toEqual(Array.from(g, (gi, i) => gi * (1 - v[i] * v[i])))
    activationGradInto('sigmoid', g, v, out)
    expect(Array.from(out)).toEqual(Array.from(g, (gi, i) => gi * (v[i] * (1 - v[i]))))
    activationGradInto('relu', g, v, out)
    expect(Array.from(out)).toEqual([1, -0, 0, NaN, 0])
  })
})
