// Odd shapes on WebGPU against the CPU reference, forward and backward, for every kernel variant:
// the defaults and profiles that force the direct or tiled matmul (each tile size) and the tree
// or per-thread reductions. Also values where WGSL's own builtins are undefined or unstable.
import { expect, it } from 'vitest'
import { describeWebGpu } from '../../testing/backends.js'
import { requireNodeWebGpu } from '../../testing/webgpu-host.js'
import { mismatch } from '../../testing/golden.js'
import { registerBackend, setBackend } from '../registry.js'
import { createWebGpuBackend, randn, type Tensor } from '../../index.js'
import { matmul } from '../../ops/index.js'
import type { KernelTuning } from './runtime.js'

interface Case {
  name: string
  shapes: number[][]
  fn: (...xs: Tensor[]) => Tensor
}

const mm = (ta: boolean, tb: boolean) => (a: Tensor, b: Tensor) => matmul(a, b, ta, tb)
const CASES: Case[] = [
  {
    name: 'matmul 1×1 · 1×1',
    shapes: [
      [1, 1],
      [1, 1],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul 17×31 · 31×13',
    shapes: [
      [17, 31],
      [31, 13],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul (31×17)ᵀ · 31×13',
    shapes: [
      [31, 17],
      [31, 13],
    ],
    fn: mm(true, false),
  },
  {
    name: 'matmul 17×31 · (13×31)ᵀ',
    shapes: [
      [17, 31],
      [13, 31],
    ],
    fn: mm(false, true),
  },
  {
    name: 'matmul (31×17)ᵀ · (13×31)ᵀ',
    shapes: [
      [31, 17],
      [13, 31],
    ],
    fn: mm(true, true),
  },
  {
    name: 'matmul 1×31 · 31×1',
    shapes: [
      [1, 31],
      [31, 1],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul 5×1 · 1×7 (K = 1)',
    shapes: [
      [5, 1],
      [1, 7],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul 67×65 · 65×66 (tile edges)',
    shapes: [
      [67, 65],
      [65, 66],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul batch broadcast [3,1,5,7]·[4,7,2]',
    shapes: [
      [3, 1, 5, 7],
      [4, 7, 2],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul batched, both transposed [4,7,5]ᵀ·[4,6,7]ᵀ',
    shapes: [
      [4, 7, 5],
      [4, 6, 7],
    ],
    fn: mm(true, true),
  },
  {
    name: 'matmul K = 0',
    shapes: [
      [3, 0],
      [0, 4],
    ],
    fn: mm(false, false),
  },
  {
    name: 'matmul M = 0',
    shapes: [
      [0, 3],
      [3, 4],
    ],
    fn: mm(false, false),
  },
  ...[0, 1, 2].flatMap((axis) => [
    { name: `sum over axis ${axis} of [3,5,7]`, shapes: [[3, 5, 7]], fn: (x: Tensor) => x.sum(axis) },
    { name: `max over axis ${axis} of [3,5,7]`, shapes: [[3, 5, 7]], fn: (x: Tensor) => x.max(axis, true) },
  ]),
  { name: 'sum and max of all of [3,5,7]', shapes: [[3, 5, 7]], fn: (x) => x.sum().add(x.max()) },
  { name: 'mean over axes [0,2] of [3,5,7]', shapes: [[3, 5, 7]], fn: (x) => x.mean([0, 2]) },
  { name: 'sum of [1,1]', shapes: [[1, 1]], fn: (x) => x.sum() },
  { name: 'sum and max over rows of [13,1031]', shapes: [[13, 1031]], fn: (x) => x.sum(1).add(x.max(1)) },
  { name: 'sum over columns of [13,1031]', shapes: [[13, 1031]], fn: (x) => x.sum(0) },
  { name: 'sum over long rows of [3,9001] (chunked)', shapes: [[3, 9001]], fn: (x) => x.sum(1) },
  { name: 'sum over a long axis 0 of [9001,3] (chunked)', shapes: [[9001, 3]], fn: (x) => x.sum(0) },
  { name: 'max and sum of 70001 elements', shapes: [[70001]], fn: (x) => x.max().add(x.sum()) },
  { name: 'softmax over 1031 classes and over axis 0', shapes: [[5, 1031]], fn: (x) => x.softmax(-1).add(x.logSoftmax(0)) },
  {
    name: 'add/mul/sub broadcast [2,1,3,1] with [4,1,5]',
    shapes: [
      [2, 1, 3, 1],
      [4, 1, 5],
    ],
    fn: (a, b) => a.add(b).mul(a).sub(b),
  },
  {
    name: 'div and pow broadcast [3,1] with [1,4]',
    shapes: [
      [3, 1],
      [1, 4],
    ],
    fn: (a, b) => a.div(b.mul(b).add(1)).add(a.mul(a).add(0.5).pow(b)),
  },
  { name: 'scalar tensor with [2,3]', shapes: [[], [2, 3]], fn: (a, b) => a.mul(b).add(a) },
  { name: 'expand [3,1] to [2,3,4]', shapes: [[3, 1]], fn: (x) => x.expand([2, 3, 4]).mul(2) },
  { name: 'transpose [2,3,5]', shapes: [[2, 3, 5]], fn: (x) => x.transpose() },
  {
    name: 'transpose [4,1] and [1,1]',
    shapes: [[4, 1]],
    fn: (x) =>
      x
        .transpose()
        .matmul(x)
        .add(x.sum().reshape([1, 1]).transpose()),
  },
  {
    name: 'unary chain on [7,11]',
    shapes: [[7, 11]],
    fn: (x) =>
      x
        .gelu()
        .add(x.sigmoid())
        .add(x.tanh())
        .add(x.leakyRelu(0.1))
        .add(x.relu())
        .add(x.exp())
        .add(x.abs().add(0.1).log())
        .add(x.abs().sqrt()),
  },
]

interface Result {
  shape: readonly number[]
  out: ArrayLike<number>
  grads: ArrayLike<number>[]
}

/** Forward, then backward of sum(out · w) with a fixed random w, so every gradient path runs. */
async function evaluate(c: Case): Promise<Result> {
  const xs = c.shapes.map((s, i) => randn(s, { seed: 11 + i, requiresGrad: true }))
  const out = c.fn(...xs)
  if (out.size > 0)
    out
      .mul(randn(out.shape, { seed: 99 }))
      .sum()
      .backward()
  const grads = await Promise.all(xs.map((x) => (x.grad ? x.grad.data() : new Float32Array(x.size))))
  return { shape: out.shape, out: await out.data(), grads }
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  let scale = 0
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]))
  return mismatch(actual, expected, 1e-5 + 2e-5 * scale, 1e-4)
}

const PROFILES: Record<string, Partial<KernelTuning> | null> = {
  defaults: null,
  'direct matmul, per-thread reductions': { matmulDirectMaxMacs: Infinity, reduceTreeMinLength: Infinity },
  'tiled matmul 16×16, tree reductions': { matmulDirectMaxMacs: 0, matmulTile: 1, reduceTreeMinLength: 0 },
  'tiled matmul 32×32': { matmulDirectMaxMacs: 0, matmulTile: 2, reduceTreeMinLength: 1024 },
  'tiled matmul 64×64': { matmulDirectMaxMacs: 0, matmulTile: 4 },
}

describeWebGpu('kernels agree with the cpu backend on odd shapes', () => {
  const reference = new Map<string, Result>()

  for (const [profile, tuning] of Object.entries(PROFILES)) {
    for (const c of CASES) {
      it(`${c.name} (${profile})`, async () => {
        if (!reference.has(c.name)) {
          await setBackend('cpu')
          reference.set(c.name, await evaluate(c))
        }
        const want = reference.get(c.name)!
        if (tuning) {
          const { device } = await requireNodeWebGpu()
          const backend = createWebGpuBackend(device, { tuning })
          registerBackend('webgpu', async () => ({ backend }))
        }
        await setBackend('webgpu')
        const got = await evaluate(c)
        expect(got.shape).toEqual(want.shape)
        expect(close(got.out, want.out), 'forward').toBeNull()
        got.grads.forEach((g, i) => expect(close(g, want.grads[i]), `grad of input ${i}`).toBeNull())
      }, 30_000)
    }
  }
})
