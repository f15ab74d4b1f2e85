// Helpers for the run store tests: temporary data directories (removed after each test), hosts
// over them with a small checkpoint cadence, a checkpoint's tensors read back from disk, run records
// and metrics flushes for store-level tests, and a yield that counts the turns it hands back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { decodeSafetensors } from '../../engine'
import { REQUESTS } from '../../shared/protocol'
import type { MetricsBatch } from '../metrics'
import { spec, testHost } from '../test-helpers'
import { nextTurn, type YieldFn } from './slices'
import { newRunId, type RunRecord } from './store'

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
export const adamSpec = () =>
  spec({
    optimizer: { type: 'adam', lr: 0.01 },
    data: { generator: 'spiral', n: 200, seed: 3 },
    train: { batchSize: 21, evalEvery: 50, seed: 5 },
  })

export function checkpointTensors(dataDir: string, runId: string, step: number) {
  return decodeSafetensors(new Uint8Array(readFileSync(join(dataDir, runId, 'checkpoints', `step-${step}.safetensors`)))).tensors
}

/** A run.json record for store-level tests (no session behind it). */
export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  const now = new Date()
  return {
    format: 1,
    runId: newRunId(now),
    name: 'test run',
    tags: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    status: 'live',
    spec: REQUESTS['session.create'].payload.parse({
      model: { hidden: [4] },
      data: { generator: 'xor' },
      optimizer: { type: 'sgd', lr: 0.1 },
    }),
    backend: { name: 'cpu', reason: 'requested' },
    appVersion: 'test',
    stats: { steps: 0, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null },
    ...over,
  }
}

/** Steps [from, to) as one metrics flush: loss 1/step, an eval every 100 steps, a layer sample per flush. */
export function metricsFlush(from: number, to: number): MetricsBatch {
  const steps = Array.from({ length: to - from }, (_, i) => from + i)
  const stats = [
    { gradNorm: 1, meanAbsGrad: 0.1, maxAbsGrad: 2, weightNorm: 3, updateRatio: 0.001, deadFraction: null, saturatedFraction: null },
  ]
  return {
    sessionId: 's1',
    steps,
    trainLoss: steps.map((s) => 1 / s),
    epoch: 0,
    evals: steps
      .filter((s) => s % 100 === 0)
      .map((s) => ({ step: s, trainLoss: 1 / s, testLoss: 2 / s, trainAccuracy: null, testAccuracy: 0.5 })),
    layers: [{ step: from, stats }],
    stepsPerSecond: 1,
    lr: 0.1,
  }
}

/** The default yield (a turn of the event loop), counted. */
export function countingYield(): { yieldFn: YieldFn; turns: () => number } {
  let turns = 0
  return {
    yieldFn: () => {
      turns++
      return nextTurn()
    },
    turns: () => turns,
  }
}
