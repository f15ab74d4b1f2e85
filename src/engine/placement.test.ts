// Explicit placement: tensors and modules live on the backend a call names, ops run where their
// inputs live and refuse mixed backends, and none of it touches the default (setBackend's).
// A second CPU backend object stands in for "another backend" (fast, same numbers); the last suite
// does the same on the real WebGPU backend (Dawn on SwiftShader).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Backend } from './backends/backend.js'
import { cpuBackend } from './backends/cpu/index.js'
import { SKIP_WEBGPU, useWebGpu } from './testing/backends.js'
import {
  add,
  backends,
  bceWithLogits,
  EngineError,
  full,
  getBackend,
  hingeLoss,
  matmul,
  mseLoss,
  nn,
  ones,
  oneHot,
  randn,
  setBackend,
  softmaxCrossEntropy,
  tensor,
  uniform,
  zeros,
  type Tensor,
} from './index.js'

/** Another backend object: the CPU's kernels under another name. */
const other = Object.create(cpuBackend, { name: { value: 'other' } }) as Backend

const on = (ts: Tensor[]) => [...new Set(ts.map((t) => t.backend))]

function thrown(fn: () => unknown): EngineError {
  try {
    fn()
  } catch (e) {
    if (e instanceof EngineError) return e
    throw e
  }
  throw new Error('expected an EngineError')
}

describe('placement: creation', () => {
  it('every creation function puts the tensor on the backend it names; the default stays', async () => {
    const made = [
      tensor([1, 2, 3], { backend: other }),
      zeros([2], { backend: other }),
      ones([2], { backend: other }),
      full([2], 7, { backend: other }),
      randn([2], { seed: 1, backend: other }),
      uniform([2], { seed: 1, backend: other }),
    ]
    expect(on(made)).toEqual([other])
    expect(getBackend().name).toBe('cpu')
    expect(tensor([1]).backend).toBe(cpuBackend)
    // Ops run there too, and the values are the CPU's.
    const y = made[0].mul(2).add(made[0])
    expect(y.backend).toBe(other)
    expect(Array.from(await y.data())).toEqual([3, 6, 9])
  })

  it('backends.get and backends.resolve hand out backend objects without changing the default', async () => {
    expect(backends.get('cpu')).toBe(cpuBackend)
    expect((await backends.resolve('cpu')).backend).toBe(cpuBackend)
    expect(getBackend()).toEqual({ name: 'cpu', reason: 'default backend' })
    expect(() => backends.get('tpu' as never)).toThrow(/backends.get: unknown backend "tpu"/)
    await expect(backends.resolve('tpu' as never)).rejects.toThrow(/backends.resolve: unknown backend "tpu"/)
  })

  it('refuses something that is not a backend, naming the option', () => {
    const e = thrown(() => zeros([2], { backend: 'webgpu' as never }))
    expect(e.message).toBe("full: options.backend must be a Backend (backends.get('cpu'), a tensor's .backend), got string")
  })
})

describe('placement: modules', () => {
  it('nn.MLP builds its parameters on the named backend, with the values a default one draws', async () => {
    const here = new nn.MLP([2, 3, 1], { seed: 4 })
    const there = new nn.MLP([2, 3, 1], { seed: 4, backend: other })
    expect(on(there.parameters())).toEqual([other])
    expect(there.parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true)
    for (const [i, p] of there.parameters().entries()) expect(p.dataSync()).toEqual(here.parameters()[i].dataSync())
    const loss = mseLoss(there.forward(tensor([[1, 2]], { backend: other })), [0.5])
    loss.backward()
    expect(on(there.parameters().map((p) => p.grad!))).toEqual([other])
  })

  it('to() keeps a module already there and copies it elsewhere; clone() copies values only', () => {
    const m = new nn.MLP([2, 3, 2], { seed: 1 })
    expect(m.to(cpuBackend)).toBe(m)
    m.forward(tensor([[1, 1]]))
      .sum()
      .backward()
    const moved = m.to(other)
    expect(moved).not.toBe(m)
    expect(moved).toBeInstanceOf(nn.MLP)
    expect(moved.activations).toEqual(m.activations)
    expect(on(moved.parameters())).toEqual([other])
    expect(moved.parameters().map((p) => [p.label, p.requiresGrad, p.grad])).toEqual(m.parameters().map((p) => [p.label, true, null]))
    expect(moved.layers[0].weight.dataSync()).toEqual(m.layers[0].weight.dataSync())
    // Independent copies: an update of the original does not reach the clone.
    const before = moved.layers[0].weight.dataSync()
    m.layers[0].weight.assign(m.layers[0].weight.mul(0).detach())
    expect(moved.layers[0].weight.dataSync()).toEqual(before)
    const f64 = m.clone({ dtype: 'float64' })
    expect(f64.parameters().map((p) => [p.dtype, p.backend])).toEqual(m.parameters().map(() => ['float64', cpuBackend]))
  })

  it('Tensor.to returns the tensor itself when nothing changes, else a leaf copy cut from the graph', () => {
    const w = tensor([1, 2], { requiresGrad: true })
    w.label = 'w'
    expect(w.to(cpuBackend)).toBe(w)
    const moved = w.to(other)
    expect([moved.backend, moved.label, moved.requiresGrad, moved.isLeaf]).toEqual([other, 'w', true, true])
    const y = w.mul(2)
    expect(y.to(other).requiresGrad).toBe(false) // no gradient flows back through a move
    expect(y.to(cpuBackend, 'float64').dtype).toBe('float64')
  })
})

describe('placement: mixed backends are refused', () => {
  it('an op names itself, the argument and both backends, and says how to fix it', () => {
    const a = tensor([1, 2])
    const b = tensor([3, 4], { backend: other })
    for (const [fn, msg] of [
      [() => add(a, b), 'add: b lives on the other backend, the other operand on cpu; move one with .to(backend)'],
      [() => b.mul(a), 'mul: b lives on the cpu backend, the other operand on other; move one with .to(backend)'],
      [
        () => matmul(a.reshape([1, 2]), b.reshape([2, 1])),
        'matmul: b lives on the other backend, the other operand on cpu; move one with .to(backend)',
      ],
    ] as const) {
      const e = thrown(fn)
      expect([e.code, e.message]).toEqual(['backend', msg])
    }
    const model = new nn.MLP([2, 1], { seed: 1, backend: other })
    expect(thrown(() => model.forward(a.reshape([1, 2]))).message).toMatch(
      /^matmul: b lives on the other backend, the other operand on cpu/,
    )
  })
})

describe('placement: losses follow their inputs', () => {
  it('each loss, its targets and its gradient live where the predictions do, whatever the default', () => {
    const pred = () => tensor([[0.2], [-0.4]], { backend: other, requiresGrad: true })
    const logits = () =>
      tensor(
        [
          [0.2, 0.1],
          [-0.4, 0.3],
        ],
        { backend: other, requiresGrad: true },
      )
    const cases: [string, Tensor, (x: Tensor) => Tensor][] = [
      ['mse', pred(), (x) => mseLoss(x, [1, 0])],
      ['bce', pred(), (x) => bceWithLogits(x, [1, 0])],
      ['hinge', pred(), (x) => hingeLoss(x, [1, -1])],
      ['sce fused', logits(), (x) => softmaxCrossEntropy(x, [1, 0])],
      ['sce composed', logits(), (x) => softmaxCrossEntropy(x, [1, 0], { fused: false })],
    ]
    for (const [name, input, loss] of cases) {
      const l = loss(input)
      l.backward()
      expect([name, l.backend, input.grad?.backend]).toEqual([name, other, other])
    }
    expect(oneHot([1, 0], 2, pred()).backend).toBe(other)
    // A target tensor on another backend is refused, not moved.
    expect(thrown(() => mseLoss(pred(), tensor([[1], [0]]))).message).toMatch(/lives on the cpu backend, the other operand on other/)
  })
})

describe.skipIf(SKIP_WEBGPU)('placement on the real webgpu backend (default stays cpu)', () => {
  let gpu: Backend
  beforeAll(async () => {
    await useWebGpu()
    gpu = (await backends.resolve('webgpu')).backend
  }, 60_000)
  afterAll(async () => {
    await setBackend('cpu')
  })

  it('a model moved to webgpu trains there and computes the CPU loss; leaving it takes an await', async () => {
    expect([gpu.name, getBackend().name, backends.get('webgpu')]).toEqual(['webgpu', 'cpu', gpu])
    const cpuModel = new nn.MLP([2, 4, 1], { seed: 2, activation: 'tanh' })
    const gpuModel = cpuModel.to(gpu)
    expect(on(gpuModel.parameters())).toEqual([gpu])
    const x = [
      [1, -1],
      [0.5, 2],
    ]
    const lossCpu = mseLoss(cpuModel.forward(tensor(x)), [0.3, -0.2])
    const lossGpu = mseLoss(gpuModel.forward(tensor(x, { backend: gpu })), [0.3, -0.2])
    expect(lossGpu.backend).toBe(gpu)
    expect(await lossGpu.item()).toBeCloseTo(await lossCpu.item(), 5)
    lossGpu.backward()
    expect(on(gpuModel.parameters().map((p) => p.grad!))).toEqual([gpu])
    expect(thrown(() => add(tensor([1], { backend: gpu }), tensor([1]))).message).toBe(
      'add: b lives on the cpu backend, the other operand on webgpu; move one with .to(backend)',
    )
    expect(thrown(() => gpuModel.to(cpuBackend)).message).toMatch(
      /^to: a tensor \[2,4\] on webgpu cannot move to cpu synchronously .* await t\.data\(\)/,
    )
    expect(thrown(() => zeros([1], { backend: gpu, dtype: 'float64' })).code).toBe('dtype')
  }, 60_000)
})
