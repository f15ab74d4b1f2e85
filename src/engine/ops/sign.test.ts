// sign at and around its jump, on every backend: the golden case (ops.test.ts) keeps away from 0,
// where finite differences would see the jump; here sign(±0) = 0 and its gradient is zero, also
// at 0 (the L1 penalty relies on both: PyTorch's subgradient of |w| at 0 is 0).
import { expect, it } from 'vitest'
import { tensor } from '../creation.js'
import { describeEachBackend } from '../testing/backends.js'
import { sign } from './sign.js'

describeEachBackend('sign', (be) => {
  for (const dtype of be.dtypes) {
    it(`is -1, 0 or 1, zero at ±0, with a zero gradient everywhere (${dtype})`, async () => {
      const x = tensor([-3e38, -2, -1e-30, -0, 0, 1e-30, 0.5, 7], { dtype, requiresGrad: true })
      const y = sign(x)
      // v + 0 reads -0 as 0: which zero a kernel returns at -0 does not matter.
      expect(Array.from(await y.data(), (v) => v + 0)).toEqual([-1, -1, -1, 0, 0, 1, 1, 1])
      y.backward(tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype }))
      expect(Array.from(await x.grad!.data(), (v) => v + 0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    })
  }
})
