// Dropout as a module: the same seed draws the same mask on every backend, a captured Rng state
// replays the masks, p = 0 and eval mode are the identity, kept values are scaled by 1/(1−p), and
// bad arguments are named. The scaling law's values and gradients against PyTorch (with the mask
// given) are golden cases of the op suite.
import { describe, expect, it } from 'vitest'
import { describeEachBackend } from '../testing/backends.js'
import { EngineError, nn, Rng, tensor, type Tensor } from '../index.js'

function thrown(fn: () => unknown): EngineError {
  try {
    fn()
  } catch (e) {
    if (e instanceof EngineError) return e
    throw e
  }
  throw new Error('expected an EngineError')
}

const input = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 5 + 0.25)

describeEachBackend("Dropout draws the seed's mask here", () => {
  it('values and gradient: kept elements scaled by 1/(1−p), dropped ones zero, where a CPU-side Rng(42) says', async () => {
    const p = 0.3
    const xs = input(8 * 16)
    const x = tensor(xs, { shape: [8, 16], requiresGrad: true })
    const y = new nn.Dropout(p, { rng: new Rng(42) }).forward(x)
    const up = xs.map((_, i) => 1 + (i % 3))
    y.backward(tensor(up, { shape: [8, 16] }))
    const ref = new Rng(42)
    const keep = xs.map(() => (ref.next() < p ? 0 : 1))
    expect(keep.filter((k) => k === 0).length).toBeGreaterThan(20) // the mask drops something
    const got = Array.from(await y.data())
    const grad = Array.from(await x.grad!.data())
    xs.forEach((v, i) => {
      expect(got[i]).toBeCloseTo((v * keep[i]) / (1 - p), 5)
      expect(grad[i]).toBeCloseTo((up[i] * keep[i]) / (1 - p), 5)
    })
  })
})

describe('Dropout', () => {
  it('a captured Rng state replays the same masks, also through JSON (a checkpoint)', () => {
    const rng = new Rng(7)
    const d = new nn.Dropout(0.5, { rng })
    const x = tensor(input(64))
    d.forward(x) // some steps before the checkpoint
    const saved = JSON.parse(JSON.stringify(rng.getState()))
    const first = Array.from(d.forward(x).dataSync())
    const second = Array.from(d.forward(x).dataSync())
    expect(second).not.toEqual(first)
    rng.setState(saved)
    expect(Array.from(d.forward(x).dataSync())).toEqual(first)
    expect(Array.from(d.forward(x).dataSync())).toEqual(second)
    // A fresh module on a restored generator draws the same too: the masks live in the Rng only.
    const resumed = new nn.Dropout(0.5, { rng: new Rng(999) })
    resumed.rng.setState(saved)
    expect(Array.from(resumed.forward(x).dataSync())).toEqual(first)
  })

  it('p = 0 and eval mode return the input itself and draw nothing', () => {
    const rng = new Rng(3)
    const x = tensor([1, -2, 3], { requiresGrad: true })
    const state = rng.getState()
    expect(new nn.Dropout(0, { rng }).forward(x)).toBe(x)
    const d = new nn.Dropout(0.9, { rng }).eval()
    expect(d.forward(x)).toBe(x)
    expect(rng.getState()).toEqual(state)
    d.train()
    d.forward(x)
    expect(rng.getState()).not.toEqual(state)
  })

  it('drops a fraction p and keeps the mean: the inverted scaling law on 10,000 elements', () => {
    const p = 0.3
    const y = Array.from(
      new nn.Dropout(p, { rng: new Rng(1) }).forward(tensor(new Float64Array(10_000).fill(1), { dtype: 'float64' })).dataSync(),
    )
    const dropped = y.filter((v) => v === 0).length / y.length
    expect(Math.abs(dropped - p)).toBeLessThan(0.02)
    expect(new Set(y.filter((v) => v !== 0))).toEqual(new Set([1 / (1 - p)]))
    expect(Math.abs(y.reduce((a, b) => a + b, 0) / y.length - 1)).toBeLessThan(0.03)
  })

  it('has no parameters or buffers; clone keeps p, mode and generator; to() is itself', () => {
    const rng = new Rng(5)
    const d = new nn.Dropout(0.25, { rng }).eval()
    const c = d.clone()
    expect([c.p, c.training, c.rng === rng]).toEqual([0.25, false, true])
    expect([d.namedParameters(), d.namedBuffers(), d.parameterCount()]).toEqual([[], [], 0])
    expect(d.to(tensor([0]).backend)).toBe(d)
  })

  it('refuses p outside [0, 1) and a mask of another shape, naming the layer and the argument', () => {
    for (const p of [1, -0.1, Number.NaN, 1.5]) {
      const e = thrown(() => new nn.Dropout(p))
      expect([e.message, e.code, e.op]).toEqual([`Dropout: p must be a probability in [0, 1), got ${p}`, 'argument', 'Dropout'])
    }
    expect(thrown(() => new nn.Dropout('0.5' as never)).message).toBe('Dropout: p must be a probability in [0, 1), got 0.5')
    const x: Tensor = tensor([
      [1, 2],
      [3, 4],
    ])
    expect(thrown(() => nn.dropout(x, 0.5, tensor([1, 0]))).message).toBe('dropout: mask has shape [2], the input [2,2]')
    expect(thrown(() => nn.dropoutMask([2], 1, new Rng(0))).message).toBe('dropoutMask: p must be a probability in [0, 1), got 1')
  })
})
