// The "all backends" harness (tfjs's describeWithFlags(ALL_ENVS)): op suites call
// describeEachBackend, so a backend added to BACKENDS runs every op test unchanged.
import { describe, beforeAll, afterAll } from 'vitest'
import { setBackend, type BackendName } from '../backends/registry.js'

export interface TestBackend {
  name: BackendName
  /** float32 tolerances: GPU kernels may reorder sums. */
  atol32: number
  rtol32: number
}

export const BACKENDS: TestBackend[] = [{ name: 'cpu', atol32: 1e-5, rtol32: 1e-4 }]

export function describeEachBackend(title: string, body: (be: TestBackend) => void): void {
  for (const be of BACKENDS) {
    describe(`${title} [${be.name}]`, () => {
      beforeAll(async () => {
        await setBackend(be.name)
      })
      afterAll(async () => {
        await setBackend('cpu')
      })
      body(be)
    })
  }
}
