// Helpers for the run store tests: temporary data directories (removed after each test), hosts
// over them with a small checkpoint cadence, and a checkpoint's tensors read back from disk.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { decodeSafetensors } from '../../../engine'
import { spec, testHost } from '../test-helpers'

const dirs: string[] = []
const hosts: ReturnType<typeof testHost>[] = []

/** Call at the top of a test file: cleans up what tempDir and make created. */
export function cleanupAfterEach(): void {
  afterEach(() => {
    for (const h of hosts.splice(0)) h.host.dispose()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-runs-'))
  dirs.push(d)
  return d
}

export function make(dataDir: string, every = 100) {
  const h = testHost({ dataDir, checkpoints: { every } })
  hosts.push(h)
  return h
}

/** Adam (optimiser state), 140 training rows in batches of 21: 7 batches an epoch, the last short. */
export const adamSpec = () => spec({ optimizer: { type: 'adam', lr: 0.01 }, data: { generator: 'spiral', n: 200, seed: 3 }, train: { batchSize: 21, evalEvery: 50, seed: 5 } })

export function checkpointTensors(dataDir: string, runId: string, step: number) {
  return decodeSafetensors(new Uint8Array(readFileSync(join(dataDir, runId, 'checkpoints', `step-${step}.safetensors`)))).tensors
}
