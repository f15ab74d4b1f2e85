// The PyTorch goldens (every op; MLP training with each optimiser) once more with the CPU
// backend's float32 matmul on the pure-TS kernel — the fallback where WebAssembly SIMD is missing —
// so `npm test` covers both kernels (the default run takes the WebAssembly one). The suites are
// imported unchanged, on the CPU backend only (the WebGPU runs do not involve this choice).
// `BPS_CPU_MATMUL=ts npx vitest run src/engine` runs the whole engine suite on the TS kernel.
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { cpuMatmulKernel, setCpuMatmulKernel } from './index.js'
import type { TestBackend } from '../../testing/backends.js'

vi.mock('../../testing/backends.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../testing/backends.js')>()
  const { setBackend } = await import('../registry.js')
  const cpu = real.BACKENDS.find((b) => b.name === 'cpu')!
  return {
    ...real,
    BACKENDS: [cpu],
    describeEachBackend: (title: string, body: (be: TestBackend) => void) =>
      describe(`${title} [cpu: ${cpu.dtypes.join(', ')}; TS matmul kernel]`, () => {
        beforeAll(async () => {
          await setBackend('cpu')
        })
        body(cpu)
      }),
  }
})

setCpuMatmulKernel('ts')

describe('the TS matmul kernel runs these suites', () => {
  it('is the float32 kernel in this module graph', () => {
    expect(cpuMatmulKernel().kernel).toBe('ts')
  })
})

await import('../../ops/ops.test.js')
await import('../../nn/train.test.js')
