// How long runs.open takes on the big model of issue 14: 2-(1024×16)-2 ReLU with Adam (15.7M
// parameters; its checkpoint holds the weights and Adam's two moments, ~190 MB). Trains two steps
// into a run once (kept in the given folder, so later calls reuse it), then opens it in a fresh
// host three times: runs.open, then what the renderer asks next (session.info, runs.metrics), then
// the first step (which reads the optimiser state, deferred by the open). A measurement script,
// not a test: figures depend on the machine's load (print `uptime` beside them).
//   npx tsx --import ./src/host/datasets/raw-register.mjs bench/open-run.ts [data-dir]
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { EngineHost } from '../src/host/host.js'
import { BIG_HIDDEN } from './studio-big.js'

type Ok = (kind: string, payload: unknown) => Promise<Record<string, unknown>>

function host(dataDir: string): { ok: Ok; dispose(): void } {
  const h = new EngineHost((msg) => void JSON.stringify(msg), { dataDir })
  let id = 1
  const ok: Ok = async (kind, payload) => {
    const r = await h.handle({ v: 1, id: id++, kind, payload })
    if (!r.ok) throw new Error(`bench open-run: ${kind} failed: ${r.error.code}: ${r.error.message}`)
    return r.result as Record<string, unknown>
  }
  return { ok, dispose: () => h.dispose() }
}

/** The run to open: made once (two Adam steps, so its last checkpoint holds the moments). */
async function bigRun(dataDir: string): Promise<string> {
  const marker = join(dataDir, 'bench-run-id')
  if (existsSync(marker)) return readFileSync(marker, 'utf8')
  const h = host(dataDir)
  const info = await h.ok('session.create', {
    model: { hidden: BIG_HIDDEN, activation: 'relu', loss: 'softmaxCrossEntropy' },
    data: { generator: 'moons', n: 2000, noise: 0.1, seed: 1 },
    optimizer: { type: 'adam', lr: 0.001 },
    backend: 'cpu',
  })
  const runId = info.runId as string
  await h.ok('session.step', { sessionId: (info.state as { sessionId: string }).sessionId, steps: 2 })
  await h.ok('session.dispose', { sessionId: (info.state as { sessionId: string }).sessionId })
  // A big checkpoint is written beside the host's work: wait for it before the host goes.
  while (!readdirSync(join(dataDir, runId, 'checkpoints')).includes('step-2.json')) await new Promise((r) => setTimeout(r, 200))
  h.dispose()
  writeFileSync(marker, runId)
  return runId
}

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'bps-open-run-'))
const runId = await bigRun(dataDir)
console.log(`run ${runId} in ${dataDir}`)
for (let i = 0; i < 3; i++) {
  const h = host(dataDir)
  await h.ok('runs.list', {})
  const t0 = performance.now()
  const opened = await h.ok('runs.open', { runId })
  const t1 = performance.now()
  const sessionId = opened.sessionId as string
  await h.ok('session.info', { sessionId })
  await h.ok('runs.metrics', { runId, maxPoints: 1500 })
  const t2 = performance.now()
  await h.ok('session.step', { sessionId, steps: 1 })
  const t3 = performance.now()
  const ms = (a: number, b: number) => `${(b - a).toFixed(0)} ms`
  console.log(`open ${i + 1}: runs.open ${ms(t0, t1)}, shown after ${ms(t0, t2)}; the first step after it ${ms(t2, t3)}`)
  await h.ok('session.dispose', { sessionId })
  h.dispose()
}
