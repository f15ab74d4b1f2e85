// The MLP's blocks: each norm position computes what the header of mlp.ts says (checked against
// the layers composed by hand), dropout sits on the activation's output before the residual sum,
// parameters and buffers are named as PyTorch's state_dict names them, train/eval reach every
// layer, clone carries running statistics and shares the dropout generator, and a residual across
// widths is refused. On every backend a block MLP's forward and gradients match the CPU's in float64.
import { describe, expect, it } from 'vitest'
import { describeEachBackend, timeoutFor } from '../testing/backends.js'
import { EngineError, nn, Rng, tensor, type Tensor } from '../index.js'
import { cpuBackend } from '../backends/cpu/index.js'

const rows = (n: number, f: number, seed: number): Tensor => {
  const r = new Rng(seed)
  return tensor(
    Array.from({ length: n * f }, () => r.normal()),
    { shape: [n, f], dtype: 'float64', backend: cpuBackend },
  )
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])))
}

const model = (blocks: Partial<nn.Block>[], sizes = [4, 4, 4, 2], seed = 3): nn.MLP =>
  new nn.MLP(sizes, {
    activation: ['tanh', 'relu', 'linear'],
    dtype: 'float64',
    seed,
    blocks,
    dropoutRng: new Rng(11),
    backend: cpuBackend,
  })

describe('MLP blocks', () => {
  for (const normAt of nn.NORM_PLACES) {
    for (const norm of ['batch', 'layer'] as const) {
      it(`${norm} norm at ${normAt} with a residual: layer 0 is the documented composition`, () => {
        const m = model([{ norm, normAt, residual: true }, {}])
        const x = rows(6, 4, 1)
        const [first] = m.forwardLayers(x, 0, 1)
        // The same layers applied by hand (a second forward moves BatchNorm's statistics, so compare on a clone).
        const c = m.clone()
        const n = c.norms[0]!
        const lin = c.layers[0]
        let want: Tensor
        if (normAt === 'pre') want = x.add(lin.forward(n.forward(x)).tanh())
        else if (normAt === 'mid') want = x.add(n.forward(lin.forward(x)).tanh())
        else want = n.forward(x.add(lin.forward(x).tanh()))
        close(first.output.dataSync(), want.dataSync())
        expect(m.norms[0]!.features).toBe(4)
      })
    }
  }

  it('dropout acts on the activation output before the residual sum; the mask comes from the dropout generator', () => {
    const m = model([{ dropout: 0.5, residual: true }, {}])
    const x = rows(5, 4, 2)
    const { activation, output } = m.forwardLayer(0, x)
    const mask = nn.dropoutMask([5, 4], 0.5, new Rng(11), { dtype: 'float64', backend: cpuBackend }).dataSync()
    const a = activation.dataSync()
    close(
      output.dataSync(),
      Array.from(x.dataSync(), (v, k) => v + (a[k] * mask[k]) / 0.5),
    )
    // Eval mode: no mask, nothing drawn.
    const state = m.dropoutRng!.getState()
    m.eval()
    const e = m.forwardLayer(0, x)
    close(
      e.output.dataSync(),
      Array.from(x.dataSync(), (v, k) => v + e.activation.dataSync()[k]),
    )
    expect(m.dropoutRng!.getState()).toEqual(state)
  })

  it('names parameters and buffers as PyTorch does; counts γ and β at the norm width', () => {
    const m = new nn.MLP([3, 5, 5, 2], { blocks: [{ norm: 'layer', normAt: 'pre' }, { norm: 'batch' }] })
    expect(m.namedParameters().map(([k]) => k)).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
      'layers.2.weight',
      'layers.2.bias',
      'norms.0.weight',
      'norms.0.bias',
      'norms.1.weight',
      'norms.1.bias',
    ])
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['norms.1.running_mean', 'norms.1.running_var', 'norms.1.num_batches_tracked'])
    expect(m.parameterCount()).toBe(3 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2 + 2 * 3 + 2 * 5)
    expect(m.norms[0]).toBeInstanceOf(nn.LayerNorm)
    expect(m.dropouts).toEqual([null, null])
    expect(m.dropoutRng).toBeNull()
  })

  it('train() and eval() reach the norms and dropouts; BatchNorm moves its statistics only in train mode', () => {
    const m = model([
      { norm: 'batch', dropout: 0.2 },
      { norm: 'layer', normAt: 'post' },
    ])
    m.eval()
    expect(m.children().every((c) => !c.training)).toBe(true)
    const bn = m.norms[0] as nn.BatchNorm1d
    m.forward(rows(8, 4, 3))
    expect(Array.from(bn.runningMean.dataSync())).toEqual([0, 0, 0, 0])
    m.train()
    m.forward(rows(8, 4, 3))
    expect(Array.from(bn.runningMean.dataSync()).some((v) => v !== 0)).toBe(true)
    expect(Array.from(bn.numBatchesTracked.dataSync())).toEqual([1])
  })

  it('clone copies parameters and running statistics, keeps the mode, and shares the dropout generator', () => {
    const m = model([{ norm: 'batch', dropout: 0.3 }, { residual: true }])
    m.forward(rows(8, 4, 4))
    m.eval()
    const c = m.clone({ dtype: 'float32' })
    expect(c.training).toBe(false)
    expect(c.dropoutRng).toBe(m.dropoutRng)
    expect(c.blocks).toEqual(m.blocks)
    for (const [[, a], [, b]] of m.namedBuffers().map((e, i) => [e, c.namedBuffers()[i]] as const)) close(b.dataSync(), a.dataSync(), 1e-6)
    expect(c.namedBuffers()[0][1]).not.toBe(m.namedBuffers()[0][1])
    close(c.forward(rows(3, 4, 5).to(cpuBackend, 'float32')).dataSync(), m.forward(rows(3, 4, 5)).dataSync(), 1e-5)
  })

  it('takes over the layers it is given (no copy, nothing drawn) and refuses layers that do not fit', () => {
    const m = model([{ norm: 'batch' }, { residual: true }])
    const layers = m.layers.map((l) => l.clone())
    const rng = new Rng(9)
    const before = rng.getState()
    const c = new nn.MLP(m.sizes, { activation: m.activations, blocks: m.blocks, fromNorms: m.norms, layers, rng })
    expect(c.layers).toEqual(layers)
    c.layers.forEach((l, i) => expect(l).toBe(layers[i]))
    expect(rng.getState()).toEqual(before)
    close(c.forward(rows(3, 4, 5)).dataSync(), m.forward(rows(3, 4, 5)).dataSync())
    const other = new nn.MLP([4, 6, 3], { dtype: 'float64', seed: 1 })
    expect(() => new nn.MLP(m.sizes, { layers: other.layers })).toThrow(/layers has 2 layers, sizes \[4,4,4,2\] make 3/)
    expect(() => new nn.MLP([4, 6, 3], { layers: [layers[0], other.layers[1]] })).toThrow(/layers\[0\] is 4→4, sizes make it 4→6/)
    expect(() => new nn.MLP([4, 6, 3], { layers: other.layers, from: other.layers })).toThrow(/not both/)
    const f32 = other.layers[1].clone({ dtype: 'float32' })
    expect(() => new nn.MLP([4, 6, 3], { layers: [other.layers[0], f32] })).toThrow(
      /layers\[1\] is float32 on cpu, layers\[0\] float64 on cpu/,
    )
  })

  it('refuses a residual across widths, and blocks that do not fit, naming the layer', () => {
    const err = (fn: () => unknown): EngineError => {
      try {
        fn()
      } catch (e) {
        if (e instanceof EngineError) return e
        throw e
      }
      throw new Error('expected an EngineError')
    }
    expect(err(() => new nn.MLP([2, 8, 2], { blocks: [{ residual: true }] })).message).toMatch(
      /blocks\[0\]\.residual adds hidden layer 1's input \(width 2\) to its output \(width 8\)/,
    )
    expect(err(() => new nn.MLP([2, 8, 2], { blocks: [{}, {}] })).message).toMatch(/2 blocks for 1 hidden layers/)
    expect(err(() => new nn.MLP([2, 8, 2], { blocks: [{ dropout: 1 }] })).message).toMatch(/blocks\[0\]\.dropout must be a probability/)
    expect(err(() => new nn.MLP([2, 8, 2], { blocks: [{ norm: 'group' as nn.NormKind }] })).message).toMatch(/blocks\[0\]\.norm is "group"/)
  })
})

describeEachBackend('a block MLP agrees with the CPU in float64', (be) => {
  it('forward and every gradient, BatchNorm (mid) + dropout + residual, LayerNorm (pre)', { timeout: timeoutFor(be, 10_000) }, async () => {
    const blocks: Partial<nn.Block>[] = [
      { norm: 'batch', dropout: 0.25, residual: true },
      { norm: 'layer', normAt: 'pre', residual: true },
    ]
    const ref = new nn.MLP([4, 4, 4, 3], {
      activation: 'tanh',
      dtype: 'float64',
      seed: 5,
      blocks,
      dropoutRng: new Rng(9),
      backend: cpuBackend,
    })
    const dtype = be.dtypes.includes('float64') ? 'float64' : 'float32'
    const here = new nn.MLP([4, 4, 4, 3], { activation: 'tanh', dtype, seed: 5, blocks, dropoutRng: new Rng(9) })
    const x = rows(7, 4, 6)
    const yRef = ref.forward(x)
    yRef.sum().backward()
    const y = here.forward(tensor(x.dataSync(), { shape: x.shape, dtype }))
    y.sum().backward()
    const tol = dtype === 'float64' ? 1e-10 : 1e-4
    close(await y.data(), yRef.dataSync(), tol)
    for (const [[k, p], [, q]] of here.namedParameters().map((e, i) => [e, ref.namedParameters()[i]] as const)) {
      expect(p.grad, k).not.toBeNull()
      close(await p.grad!.data(), q.grad!.dataSync(), tol)
    }
    for (const [[, b], [, c]] of here.namedBuffers().map((e, i) => [e, ref.namedBuffers()[i]] as const))
      close(await b.data(), c.dataSync(), tol)
  })
})
