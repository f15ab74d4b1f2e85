// A clean stop saves every run: after SIGTERM (serve mode, a real process) or EngineProcess's
// shutdown (what quitting Electron calls), no run is left `live` and the newest checkpoint is at
// the last step in the metrics log, so the run reopens where it stopped instead of "interrupted".
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventMessage } from '../shared/protocol'
import { EngineProcess } from './engine-process'
import { connect, inbox, realWorker } from './serve-test-helpers'
import { spec } from '../host/test-helpers'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-stop-'))
  dirs.push(d)
  return d
}

/** What a run folder says: its status, its newest checkpoint, the last step in its metrics log. */
function runOnDisk(runsDir: string): { status: string; latestCheckpoint: number; lastLoggedStep: number } {
  const [runId] = readdirSync(runsDir).filter((n) => existsSync(join(runsDir, n, 'run.json')))
  const dir = join(runsDir, runId!)
  const status = (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { status: string }).status
  const steps = readdirSync(join(dir, 'checkpoints'))
    .flatMap((n) => /^step-(\d+)\.safetensors$/.exec(n)?.[1] ?? [])
    .map(Number)
  const logged = readFileSync(join(dir, 'metrics.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => (JSON.parse(l) as { steps?: number[] }).steps ?? [])
  // A fast machine logs hundreds of thousands of steps before the kill: no spread into Math.max.
  const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), -Infinity)
  return { status, latestCheckpoint: max(steps), lastLoggedStep: max(logged) }
}

/**
 * Past the first checkpoint (every 250 steps). Not "between two checkpoints": once training is fast,
 * slices (and so metrics batches) end on checkpoint steps, and a batch ending mid-interval may never
 * come. Training goes on while the stop is on its way, so it usually lands mid-interval anyway, where
 * a lost tail would show; `status` shows the shutdown reached the run either way.
 */
const trainedEnough = (step: number): boolean => step > 300

describe('clean stop', () => {
  it('SIGTERM in serve mode saves the running run: not live, checkpoint at the last logged step, exit 0', { timeout: 90_000 }, async () => {
    const dir = tempDir()
    const token = 'stop-token-0123456789abc'
    const child = fileURLToPath(new URL('./serve-stop-child.ts', import.meta.url))
    const rawHook = fileURLToPath(new URL('../host/datasets/raw-register.mjs', import.meta.url))
    const p = spawn(process.execPath, ['--import', 'tsx', '--import', rawHook, child, dir, token], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)))
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      p.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        const m = /port (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      void exited.then((code) => reject(new Error(`the child exited (${code}) before listening: ${stderr}`)))
    })
    const ws = await connect(port, `?token=${token}`)
    const next = inbox(ws)
    ws.send(JSON.stringify({ v: 1, id: 1, kind: 'session.create', payload: spec({ train: { batchSize: 8, evalEvery: 100, seed: 1 } }) }))
    const created = (await next((m) => m['id'] === 1)) as { result: { state: { sessionId: string } } }
    ws.send(JSON.stringify({ v: 1, id: 2, kind: 'session.start', payload: { sessionId: created.result.state.sessionId } }))
    await next((m) => m['event'] === 'train.metrics' && trainedEnough((m['payload'] as { steps: number[] }).steps.at(-1) ?? 0))
    p.kill('SIGTERM')
    expect(await exited, stderr).toBe(0)
    const run = runOnDisk(join(dir, 'runs'))
    expect(run.status).not.toBe('live')
    expect(run.latestCheckpoint).toBe(run.lastLoggedStep)
    expect(run.lastLoggedStep).toBeGreaterThan(300)
  })

  it('EngineProcess.shutdown (quitting Electron) saves a run no client released', { timeout: 90_000 }, async () => {
    const dir = tempDir()
    const engine = new EngineProcess(() => realWorker(join(dir, 'runs')))
    const far = new Promise<void>((resolve) =>
      engine.onEvent((m: EventMessage) => {
        if (m.event === 'train.metrics' && trainedEnough((m.payload as { steps: number[] }).steps.at(-1) ?? 0)) resolve()
      }),
    )
    const created = await engine.request({
      v: 1,
      id: 1,
      kind: 'session.create',
      payload: spec({ train: { batchSize: 8, evalEvery: 100, seed: 1 } }),
    })
    if (!created.ok) throw new Error(created.error.message)
    const { sessionId } = (created.result as { state: { sessionId: string } }).state
    expect(await engine.request({ v: 1, id: 2, kind: 'session.start', payload: { sessionId } })).toMatchObject({ ok: true })
    await far
    await engine.shutdown()
    const run = runOnDisk(join(dir, 'runs'))
    expect(run.status).not.toBe('live')
    expect(run.latestCheckpoint).toBe(run.lastLoggedStep)
    await expect(engine.request({ v: 1, id: 3, kind: 'host.hello', payload: {} })).resolves.toMatchObject({
      ok: false,
      error: { code: 'host_crashed' },
    })
  })
})
