// `npx tsx bench/matmul-micro.ts`: the CPU backend's matmul alone, at the shapes the bench's
// MLPs run (forward and both backward products) and square sizes; GFLOP/s, median of 5.
// `--small` times the small net's shapes; BPS_CPU_MATMUL=ts times the TS kernel instead.
import { cpuBackend, cpuMatmulKernel } from '../src/engine/backends/cpu/index.js'
import type { MatmulArgs } from '../src/engine/backends/backend.js'

const small: [string, number, number, number, boolean, boolean][] = [
  ['small fwd 32x2·2x16', 32, 2, 16, false, false],
  ['small fwd 32x16·16x2', 32, 16, 2, false, false],
  ['small dA 32x2·(16x2)ᵀ', 32, 2, 16, false, true],
  ['small dB (32x2)ᵀ·32x16', 2, 32, 16, true, false],
  ['small 32x16·16x16', 32, 16, 16, false, false],
  ['small dB (32x16)ᵀ·32x16', 16, 32, 16, true, false],
]
const cases: [string, number, number, number, boolean, boolean][] = process.argv.includes('--small')
  ? small
  : [
      // name, m, k, n, transA, transB (shapes of op(A) = [m,k], op(B) = [k,n])
      ['fwd 128x784·784x256', 128, 784, 256, false, false],
      ['dA 128x256·(784x256)ᵀ', 128, 256, 784, false, true],
      ['dB (128x784)ᵀ·128x256', 784, 128, 256, true, false],
      ['fwd 128x256·256x128', 128, 256, 128, false, false],
      ['square 256', 256, 256, 256, false, false],
      ['square 1024', 1024, 1024, 1024, false, false],
    ]
console.log(`float32 matmul kernel: ${cpuMatmulKernel().kernel}`)
for (const [name, m, k, n, tA, tB] of cases) {
  const a = new Float32Array(m * k).map(() => Math.random() - 0.5)
  const b = new Float32Array(k * n).map(() => Math.random() - 0.5)
  const args: MatmulArgs = { aShape: tA ? [k, m] : [m, k], bShape: tB ? [n, k] : [k, n], transA: tA, transB: tB, outShape: [m, n] }
  const A = cpuBackend.fromArray(a)
  const B = cpuBackend.fromArray(b)
  const samples: number[] = []
  let iters = 1
  for (let t0 = performance.now(); performance.now() - t0 < 300; iters++) cpuBackend.matmul(A, B, args)
  iters = Math.max(1, iters)
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) cpuBackend.matmul(A, B, args)
    samples.push((2 * m * n * k * iters) / ((performance.now() - t0) / 1000) / 1e9)
  }
  samples.sort((x, y) => x - y)
  console.log(`${name.padEnd(26)} ${samples[2].toFixed(2)} GFLOP/s  (${(1e6 / ((samples[2] * 1e9) / (2 * m * n * k))).toFixed(2)} µs/call)`)
}
