// A residual block y = x + relu(x·W1)·W2 needs only add: x is used twice, so autograd sums the
// skip path's gradient (the upstream one) and the branch's into x. The golden case checks the total
// on every backend (ops.test.ts); this test shows it is that sum.
import { describe, expect, it } from 'vitest'
import { GOLDEN, fromEncoded, mismatch } from '../testing/golden.js'
import type { Tensor } from '../index.js'

describe('residual block', () => {
  it("x's gradient is the upstream gradient (skip path) plus the branch's, as PyTorch computes it", async () => {
    const c = GOLDEN.ops.find((o) => o.op === 'residual')!
    const branch = (x: Tensor, w1: Tensor, w2: Tensor): Tensor => x.matmul(w1).relu().matmul(w2)
    const [x, w1, w2] = c.inputs.map((e) => fromEncoded(e, 'float64', true))
    const y = x.add(branch(x, w1, w2))
    y.backward(fromEncoded(c.upstream, 'float64'))
    expect(mismatch(await y.data(), c.out.data, 1e-12, 1e-12)).toBeNull()
    expect(mismatch(await x.grad!.data(), c.grads[0]!.data, 1e-12, 1e-12)).toBeNull()

    // The branch alone, from a separate leaf with the same values.
    const xb = fromEncoded(c.inputs[0], 'float64', true)
    branch(xb, w1.detach(), w2.detach()).backward(fromEncoded(c.upstream, 'float64'))
    const viaBranch = await xb.grad!.data()
    const sum = c.upstream.data.map((u, i) => u + viaBranch[i])
    expect(mismatch(await x.grad!.data(), sum, 1e-12, 1e-12)).toBeNull()
    // Both paths matter here: neither alone is the total.
    expect(mismatch(viaBranch, c.grads[0]!.data, 1e-6, 0)).not.toBeNull()
    expect(mismatch(c.upstream.data, c.grads[0]!.data, 1e-6, 0)).not.toBeNull()
  })
})
