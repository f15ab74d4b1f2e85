// The "all backends" harness (tfjs's describeWithFlags(ALL_ENVS)): op suites call
// describeEachBackend, so a backend added to BACKENDS runs every op test unchanged. Each backend
// declares the dtypes it computes in; suites loop over those, and the title says which.
import { describe, beforeAll, afterAll } from 'vitest'
import type { DType } from '../backends/backend.js'
import { setBackend, type BackendName } from '../backends/registry.js'
import { registerWebGpu } from '../backends/webgpu/index.js'
import { env, exposedGc, requireNodeWebGpu } from './webgpu-host.js'

export interface TestBackend {
  name: BackendName
  /** The dtypes this backend supports (WGSL has no float64). */
  dtypes: readonly DType[]
  /** float32 tolerances (GPU kernels may reorder sums and approximate erf; webgpu meets the CPU's). */
  atol32: number
  rtol32: number
}

export const BACKENDS: TestBackend[] = [
  { name: 'cpu', dtypes: ['float64', 'float32'], atol32: 1e-5, rtol32: 1e-4 },
  { name: 'webgpu', dtypes: ['float32'], atol32: 1e-5, rtol32: 1e-4 },
]

/** Set only on purpose: CI installs SwiftShader, so there a missing adapter fails the suites. */
export const SKIP_WEBGPU = env('BPS_SKIP_WEBGPU') === '1'
let warned = false

/** Make 'webgpu' selectable in this module graph, on the process-wide Dawn device. */
export async function useWebGpu(): Promise<void> {
  const { device } = await requireNodeWebGpu()
  registerWebGpu(device, { collectGarbage: exposedGc() })
}

/** SwiftShader runs kernels on the CPU, ~100× slower than real hardware: more time per test. */
export function timeoutFor(be: TestBackend, ms: number): number {
  return be.name === 'webgpu' ? ms * 6 : ms
}

function describeOn(be: TestBackend, title: string, body: (be: TestBackend) => void): void {
  const name = `${title} [${be.name}: ${be.dtypes.join(', ')}]`
  if (be.name === 'webgpu' && SKIP_WEBGPU) {
    if (!warned) console.warn('webgpu suites skipped: BPS_SKIP_WEBGPU=1 is set')
    warned = true
    describe.skip(`${name} (skipped: BPS_SKIP_WEBGPU=1)`, () => body(be))
    return
  }
  describe(name, () => {
    beforeAll(async () => {
      if (be.name === 'webgpu') await useWebGpu()
      await setBackend(be.name)
    }, 60_000)
    afterAll(async () => {
      await setBackend('cpu')
    })
    body(be)
  })
}

export function describeEachBackend(title: string, body: (be: TestBackend) => void): void {
  for (const be of BACKENDS) describeOn(be, title, body)
}

/** Suites about the WebGPU backend itself (selection, device loss, memory, kernel variants). */
export function describeWebGpu(title: string, body: (be: TestBackend) => void): void {
  describeOn(
    BACKENDS.find((b) => b.name === 'webgpu')!,
    title,
    body,
  )
}
