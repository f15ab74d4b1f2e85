// LayerNorm and BatchNorm1d as modules: PyTorch's numbers for three BatchNorm1d training steps and
// eval mode on every backend (running statistics updated on the device), train/eval switching,
// buffers named as PyTorch's state_dict names them, clone/to carrying buffers, and the errors.
// The functional forms' values and gradients are in the op suite (ops.test.ts, golden cases).
import { describe, expect, it } from 'vitest'
import type { Backend } from '../backends/backend.js'
import { cpuBackend } from '../backends/cpu/index.js'
import { describeEachBackend, timeoutFor } from '../testing/backends.js'
import { GOLDEN, fromEncoded, mismatch, type Encoded } from '../testing/golden.js'
import { EngineError, nn, tensor, type Tensor } from '../index.js'
import { updateRunningStats } from './normalization.js'

/** Another backend object: the CPU's kernels under another name. */
const other = Object.create(cpuBackend, { name: { value: 'other' } }) as Backend

function thrown(fn: () => unknown): EngineError {
  try {
    fn()
  } catch (e) {
    if (e instanceof EngineError) return e
    throw e
  }
  throw new Error('expected an EngineError')
}

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data())

describeEachBackend('BatchNorm1d and LayerNorm modules match PyTorch', (be) => {
  for (const dtype of be.dtypes) {
    const [atol, rtol] = dtype === 'float64' ? [1e-10, 1e-9] : [be.atol32 * 10, be.rtol32 * 10]
    const close = async (t: Tensor, want: Encoded, what: string): Promise<void> => {
      expect(t.shape, what).toEqual(want.shape)
      expect(mismatch(await t.data(), want.data, atol, rtol), what).toBeNull()
    }

    it(
      `BatchNorm1d: three training steps (batches 6, 5, 8), then eval on the running statistics (${dtype})`,
      async () => {
        const g = GOLDEN.layers.batchNorm1d
        const bn = new nn.BatchNorm1d(g.features, { dtype, momentum: g.momentum, eps: g.eps })
        bn.weight.assign(fromEncoded(g.weight, dtype))
        bn.bias.assign(fromEncoded(g.bias, dtype))
        for (const [k, s] of [...g.train, g.eval].entries()) {
          if (k === g.train.length) bn.eval()
          const step = `${bn.training ? 'train' : 'eval'} step ${k + 1}`
          bn.zeroGrad()
          const x = fromEncoded(s.x, dtype, true)
          const y = bn.forward(x)
          y.backward(fromEncoded(s.upstream, dtype))
          await close(y, s.out, `${step}: output`)
          await close(x.grad!, s.grads[0], `${step}: input gradient`)
          await close(bn.weight.grad!, s.grads[1], `${step}: weight gradient`)
          await close(bn.bias.grad!, s.grads[2], `${step}: bias gradient`)
          await close(bn.runningMean, s.runningMean, `${step}: running_mean`)
          await close(bn.runningVar, s.runningVar, `${step}: running_var`)
          expect(await values(bn.numBatchesTracked), `${step}: num_batches_tracked`).toEqual([s.numBatchesTracked])
        }
        expect(g.eval.numBatchesTracked).toBe(3)
      },
      timeoutFor(be, 10_000),
    ) // first use compiles the norm pipelines: seconds on SwiftShader under load

    it(
      `LayerNorm: the module's output and its γ, β gradients are the functional case's (${dtype})`,
      async () => {
        const c = GOLDEN.ops.find((o) => o.name === 'layerNorm [2, 3, 4]')!
        const ln = new nn.LayerNorm(4, { dtype })
        ln.weight.assign(fromEncoded(c.inputs[1], dtype))
        ln.bias.assign(fromEncoded(c.inputs[2], dtype))
        const x = fromEncoded(c.inputs[0], dtype, true)
        const y = ln.forward(x)
        y.backward(fromEncoded(c.upstream, dtype))
        await close(y, c.out, 'output')
        await close(x.grad!, c.grads[0]!, 'input gradient')
        await close(ln.weight.grad!, c.grads[1]!, 'weight gradient')
        await close(ln.bias.grad!, c.grads[2]!, 'bias gradient')
      },
      timeoutFor(be, 10_000),
    )
  }

  it('clone and to(backend) carry the running statistics, the count and the mode here', async () => {
    const here = tensor([0]).backend
    const bn = new nn.BatchNorm1d(3, { backend: other })
    for (const rows of [
      [
        [1, 2, 3],
        [3, 0, -1],
      ],
      [
        [0, 4, 1],
        [2, 2, 5],
        [-1, 0, 0],
      ],
    ])
      bn.forward(tensor(rows, { backend: other }))
    bn.eval()
    const moved = bn.to(here)
    expect(moved).not.toBe(bn)
    expect([...moved.parameters(), ...moved.buffers()].every((t) => t.backend === here)).toBe(true)
    expect(moved.training).toBe(false)
    for (const [[name, a], [, b]] of moved.namedBuffers().map((e, i) => [e, bn.namedBuffers()[i]])) {
      expect(await values(a), name).toEqual(await values(b))
      expect(a.requiresGrad, name).toBe(false)
    }
    expect(await values(moved.numBatchesTracked)).toEqual([2])
    expect(moved.to(here)).toBe(moved)
  })
})

describe('train and eval modes', () => {
  it('modules start in train mode; eval() and train() switch it and return the module; MLP switches its layers', () => {
    const bn = new nn.BatchNorm1d(2)
    expect(bn.training).toBe(true)
    expect(bn.eval()).toBe(bn)
    expect(bn.training).toBe(false)
    expect(bn.train().training).toBe(true)
    expect(bn.train(false).training).toBe(false)
    const mlp = new nn.MLP([2, 3, 1], { seed: 1 })
    mlp.eval()
    expect([mlp.training, ...mlp.layers.map((l) => l.training)]).toEqual([false, false, false])
    expect(mlp.clone().training).toBe(false)
    mlp.train()
    expect(mlp.layers.map((l) => l.training)).toEqual([true, true])
  })

  it('the fused running-statistics update gives the composed update bit for bit (float32 and float64)', () => {
    const composed = Object.create(cpuBackend, { name: { value: 'composed' }, runningStats: { value: undefined } }) as Backend
    const [rm, rv, m, v] = [
      [0.1, -2.5, 3e3, 7],
      [1.7, 0.3, 4e-3, 2],
      [-0.9, 1.1, 0.5, 1e-6],
      [0.2, 5.5, 3.1, 0.7],
    ]
    for (const dtype of ['float32', 'float64'] as const) {
      const run = (backend: Backend): number[][] => {
        const t = (a: number[]) => tensor(a, { dtype, backend })
        const [runningMean, runningVar] = [t(rm), t(rv)]
        updateRunningStats(runningMean, runningVar, t(m), t(v), 0.1, 7)
        return [Array.from(runningMean.dataSync()), Array.from(runningVar.dataSync())]
      }
      expect(cpuBackend.runningStats).toBeTypeOf('function')
      expect(run(cpuBackend), dtype).toEqual(run(composed))
    }
  })

  it('train mode moves the running statistics with the unbiased batch variance; eval mode uses them and leaves them', () => {
    const bn = new nn.BatchNorm1d(2, { dtype: 'float64' })
    const x = tensor(
      [
        [1, 10],
        [3, 20],
        [5, 60],
      ],
      { dtype: 'float64' },
    )
    const yTrain = Array.from(bn.forward(x).dataSync())
    // Batch mean [3, 30], unbiased variance [4, 700]; momentum 0.1 from (0, 1).
    const rounded = (t: Tensor) => Array.from(t.dataSync(), (v) => +v.toFixed(12))
    expect(rounded(bn.runningMean)).toEqual([0.3, 3])
    expect(rounded(bn.runningVar)).toEqual([1.3, 70.9])
    expect(rounded(bn.numBatchesTracked)).toEqual([1])
    // Normalised with the biased variance [8/3, 1400/3]: the first column is (x − 3)/√(8/3 + 1e-5).
    expect(yTrain[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-5), 12)
    bn.eval()
    const before = bn.buffers().map((b) => Array.from(b.dataSync()))
    const yEval = Array.from(bn.forward(tensor([[1, 10]], { dtype: 'float64' })).dataSync())
    expect(yEval[0]).toBeCloseTo((1 - 0.3) / Math.sqrt(1.3 + 1e-5), 12)
    expect(yEval[1]).toBeCloseTo((10 - 3) / Math.sqrt(70.9 + 1e-5), 12)
    expect(bn.buffers().map((b) => Array.from(b.dataSync()))).toEqual(before)
  })
})

describe('buffers', () => {
  it('are named as PyTorch names the state_dict, need no gradient, and restore in place with assign', () => {
    const bn = new nn.BatchNorm1d(3)
    const names = (m: nn.Module) => [...m.namedParameters(), ...m.namedBuffers()].map(([n]) => n)
    expect(names(bn)).toEqual(GOLDEN.layers.batchNorm1d.stateDictKeys)
    expect(names(new nn.LayerNorm(5))).toEqual(GOLDEN.layers.layerNorm.stateDictKeys)
    expect(names(new nn.Dropout(0.5))).toEqual(GOLDEN.layers.dropout.stateDictKeys)
    expect(bn.namedBuffers().map(([n, b]) => [n, b.shape, b.requiresGrad])).toEqual([
      ['running_mean', [3], false],
      ['running_var', [3], false],
      ['num_batches_tracked', [], false],
    ])
    expect(bn.parameters().every((p) => p.requiresGrad)).toBe(true)
    expect(new nn.MLP([2, 2]).namedBuffers()).toEqual([])
    // A checkpoint's values go back in place, and eval mode then normalises with them.
    bn.runningMean.assign(tensor([1, 2, 3]))
    bn.runningVar.assign(tensor([4, 4, 4]))
    bn.eval()
    expect(Array.from(bn.forward(tensor([[3, 2, 1]])).dataSync()).map((v) => +v.toFixed(5))).toEqual([1, 0, -1])
  })

  it('a clone has its own copies: training it leaves the original untouched; dtype converts', () => {
    const bn = new nn.BatchNorm1d(2)
    bn.forward(
      tensor([
        [1, 2],
        [3, 5],
      ]),
    )
    const copy = bn.clone({ dtype: 'float64' })
    expect(copy.buffers().map((b) => b.dtype)).toEqual(['float64', 'float64', 'float64'])
    expect(copy.buffers().map((b) => Array.from(b.dataSync()))).toEqual(bn.buffers().map((b) => Array.from(b.dataSync())))
    copy.forward(
      tensor(
        [
          [9, 9],
          [0, 1],
        ],
        { dtype: 'float64' },
      ),
    )
    expect(Array.from(bn.numBatchesTracked.dataSync())).toEqual([1])
    expect(Array.from(copy.numBatchesTracked.dataSync())).toEqual([2])
    expect(Array.from(bn.runningMean.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.2, 0.35])
  })
})

describe('normalisation layers refuse bad arguments, naming the layer, the argument and the shape', () => {
  it('features, eps and momentum', () => {
    for (const [make, message] of [
      [() => new nn.LayerNorm(0), 'LayerNorm: features must be a positive integer, got 0'],
      [() => new nn.LayerNorm(2.5), 'LayerNorm: features must be a positive integer, got 2.5'],
      [() => new nn.BatchNorm1d(-1), 'BatchNorm1d: features must be a positive integer, got -1'],
      [() => new nn.BatchNorm1d(3, { momentum: 1.5 }), 'BatchNorm1d: momentum must be in [0, 1], got 1.5'],
      [() => new nn.LayerNorm(3, { eps: 0 }), 'LayerNorm: eps must be a positive number, got 0'],
    ] as const) {
      const e = thrown(make)
      expect([e.message, e.code]).toEqual([message, 'argument'])
    }
  })

  it('an input of the wrong width, rank or dtype, and a one-sample batch in train mode', () => {
    for (const [run, message, code] of [
      [
        () => new nn.LayerNorm(4).forward(tensor([[1, 2, 3]])),
        'LayerNorm: input has shape [1,3], expected [..., 4] (the last dimension is normalised)',
        'shape',
      ],
      [
        () =>
          new nn.BatchNorm1d(4).forward(
            tensor([
              [1, 2, 3],
              [4, 5, 6],
            ]),
          ),
        'BatchNorm1d: input has shape [2,3], expected [batch, 4]',
        'shape',
      ],
      [
        () => new nn.BatchNorm1d(2).forward(tensor([[[1, 2]], [[3, 4]]])),
        'BatchNorm1d: input has shape [2,1,2], expected [batch, 2]',
        'shape',
      ],
      [
        () => new nn.BatchNorm1d(2).forward(tensor([[1, 2]])),
        'BatchNorm1d: input has shape [1,2]; train mode needs more than one sample per feature (use eval() to run single samples)',
        'shape',
      ],
      [
        () =>
          new nn.BatchNorm1d(2).forward(
            tensor(
              [
                [1, 2],
                [3, 4],
              ],
              { dtype: 'float64' },
            ),
          ),
        "BatchNorm1d: input [2,2] is float64, the layer's parameters float32",
        'dtype',
      ],
      [
        () => nn.layerNorm(tensor([1, 2, 3]), tensor([1, 1]), null),
        'layerNorm: weight has shape [2], expected [3] for an input of shape [3]',
        'shape',
      ],
      [
        () =>
          nn.batchNorm(
            tensor([
              [1, 2],
              [3, 4],
            ]),
            null,
            null,
            null,
            null,
          ),
        'batchNorm: eval mode needs runningMean and runningVar',
        'argument',
      ],
    ] as const) {
      const e = thrown(run)
      expect([e.message, e.code]).toEqual([message, code])
    }
    expect(new nn.BatchNorm1d(2).eval().forward(tensor([[1, 2]])).shape).toEqual([1, 2])
  })
})
