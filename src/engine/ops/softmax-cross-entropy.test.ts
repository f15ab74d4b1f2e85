// The fused softmax cross-entropy against the composed one (values and gradients) and against
// central finite differences in float64.
import { describe, expect, it } from 'vitest'
import { gradcheck } from '../gradcheck.js'
import { softmaxCrossEntropy, tensor, type Tensor } from '../index.js'

const LOGITS = [
  [0.5, -1, 2],
  [1, 2, -3],
  [-0.3, 0.1, 0.2],
  [20, -20, 0],
  [0, 0, 0],
]
const LABELS = [2, 0, 1, 0, 1]

async function lossAndGrad(fused: boolean, dtype: 'float32' | 'float64'): Promise<[number, number[]]> {
  const x = tensor(LOGITS, { dtype, requiresGrad: true })
  const loss = softmaxCrossEntropy(x, LABELS, { fused })
  loss.backward()
  return [(await loss.data())[0], Array.from(await x.grad!.data())]
}

describe('fused softmaxCrossEntropy (cpu)', () => {
  it('is one graph node', () => {
    const loss = softmaxCrossEntropy(tensor(LOGITS, { requiresGrad: true }), LABELS)
    expect(loss._op).toBe('softmaxCrossEntropy')
  })
  for (const dtype of ['float64', 'float32'] as const) {
    it(`matches the composed loss and gradient (${dtype})`, async () => {
      const [lf, gf] = await lossAndGrad(true, dtype)
      const [lc, gc] = await lossAndGrad(false, dtype)
      const tol = dtype === 'float64' ? 1e-14 : 1e-6
      expect(Math.abs(lf - lc)).toBeLessThan(tol * 10)
      gf.forEach((g, i) => expect(Math.abs(g - gc[i]), `grad ${i}`).toBeLessThan(tol))
    })
  }
  it('passes a finite-difference gradient check (float64)', () => {
    const r = gradcheck((x: Tensor) => softmaxCrossEntropy(x, LABELS), [tensor(LOGITS, { dtype: 'float64' })])
    expect(r.maxRelError).toBeLessThan(1e-6)
  })
})
