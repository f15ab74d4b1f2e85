// Crash safety for real: a separate process trains into a data directory and is killed with
// SIGKILL at a random moment once it is training (it says so when a checkpoint past its start is
// on disk; checkpoints, run.json and the metrics log are written all the time), again and again.
// After every kill a fresh host must list every run (none lost, none damaged), read its metrics
// (a torn tail is skipped) and open its latest checkpoint. Nothing here depends on machine speed.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { testHost } from '../test-helpers'

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url))
// The engine host bundles its datasets as Vite `?raw` imports; this hook gives Node the same.
const rawHook = fileURLToPath(new URL('../datasets/raw-register.mjs', import.meta.url))
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/**
 * Start the child; once it says it is training, wait `ms` more (a random moment among its
 * writes) and kill -9 it. Resolves with what it did: 'new', 'resume' or 'branch'.
 */
function trainAndKill(dataDir: string, mode: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--import', rawHook, child, dataDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    let out = ''
    let killing = false
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!killing && out.includes('training\n')) {
        killing = true
        setTimeout(() => p.kill('SIGKILL'), ms)
      }
    })
    p.on('exit', (code, signal) =>
      signal === 'SIGKILL' && killing
        ? resolve(out.split('\n')[0]!)
        : reject(new Error(`crash child exited with ${code ?? signal} before training: ${err}`)),
    )
  })
}

/** Runs found, and the step of the latest checkpoint of the run that was killed. */
async function verify(dataDir: string): Promise<{ runs: number; killedAt: number }> {
  const h = testHost({ dataDir })
  try {
    const { runs, storage, total } = await h.ok('runs.list', { limit: 1_000 })
    expect(storage.writable).toBe(true)
    expect(total).toBe(runs.length)
    // The run the killed process was training, and those verified (and closed) before.
    expect(runs.filter((r) => r.status === 'interrupted')).toHaveLength(1)
    for (const run of runs) {
      expect(['interrupted', 'saved'], run.runId).toContain(run.status)
      expect(run.checkpoints.length, run.runId).toBeGreaterThan(0)
      const m = await h.ok('runs.metrics', { runId: run.runId, maxPoints: 20_000 })
      expect(m.skippedLines).toBeLessThanOrEqual(runs.length * 20) // torn tails only, one per crash at most
      const latest = run.checkpoints.at(-1)!
      const opened = await h.ok('runs.open', { runId: run.runId })
      expect(opened.step).toBe(latest)
      // The log covers the checkpoint: it was flushed before the checkpoint was written.
      expect(m.steps.at(-1) ?? 0).toBeGreaterThanOrEqual(latest)
      await h.ok('session.dispose', { sessionId: opened.sessionId })
    }
    return { runs: runs.length, killedAt: runs.find((r) => r.status === 'interrupted')!.checkpoints.at(-1)! }
  } finally {
    h.host.dispose()
  }
}

describe('crash safety (kill -9 while saving)', () => {
  it('every run reopens after 20 kills at random moments', async () => {
    const lanes = [0, 1].map(async (lane) => {
      const dir = mkdtempSync(join(tmpdir(), `bps-crash-${lane}-`))
      dirs.push(dir)
      const modes = ['new', 'resume', 'resume', 'branch', 'resume']
      const killedAt: number[] = []
      let expected = 0
      for (let i = 0; i < 10; i++) {
        const did = await trainAndKill(dir, modes[i % modes.length]!, Math.floor(Math.random() * 150))
        if (did !== 'resume') expected++ // a new run or a branch adds one; a resume continues one
        const v = await verify(dir)
        // No run lost, none made twice.
        expect(v.runs).toBe(expected)
        killedAt.push(v.killedAt)
      }
      return killedAt
    })
    // Every kill came after a checkpoint past the start was on disk: the run reopens past step 0.
    const killedAt = (await Promise.all(lanes)).flat()
    expect(killedAt).toHaveLength(20)
    for (const s of killedAt) expect(s).toBeGreaterThan(0)
  }, 300_000)
})
