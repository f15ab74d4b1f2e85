// Fixture for crash.test.ts, run as its own process (node --import tsx) so SIGKILL is real: an
// engine host over a data directory that resumes the newest run (or starts one) and trains
// freely with frequent checkpoints, until it is killed. Prints "training" once a checkpoint past
// the step it started from is on disk (told by runs.changed), so every kill lands mid-training.
import type { EventMessage } from '../../shared/protocol'
import { EngineHost } from '../host'

const [dataDir, mode] = process.argv.slice(2)
/** The run being trained and the step it started from, once known. */
let watching: { runId: string; from: number } | null = null
let told = false
function onEvent(msg: EventMessage): void {
  if (told || !watching || msg.event !== 'runs.changed') return
  const run = (msg.payload as { runs: { runId: string; checkpoints: number[] }[] }).runs.find((r) => r.runId === watching!.runId)
  if (run && (run.checkpoints.at(-1) ?? -1) > watching.from) {
    told = true
    process.stdout.write('training\n')
  }
}
const host = new EngineHost(onEvent, {
  dataDir,
  flushMs: 5,
  sliceMs: 5,
  checkpoints: { every: 7, keep: 5 },
  runEvents: { minIntervalMs: 0 },
})
let id = 1
async function ok(kind: string, payload: unknown): Promise<Record<string, unknown>> {
  const r = await host.handle({ v: 1, id: id++, kind, payload })
  if (!r.ok) throw new Error(`${kind}: ${r.error.code}: ${r.error.message}`)
  return r.result as Record<string, unknown>
}

async function main(): Promise<void> {
  const { runs } = (await ok('runs.list', {})) as { runs: { runId: string; checkpoints: number[] }[] }
  let sessionId: string
  const last = runs.find((r) => r.checkpoints.length > 0)
  if ((mode === 'resume' || mode === 'branch') && last) {
    const opened = await ok(
      'runs.open',
      mode === 'resume' ? { runId: last.runId } : { runId: last.runId, checkpointStep: last.checkpoints[0] },
    )
    sessionId = opened.sessionId as string
    watching = { runId: opened.runId as string, from: opened.step as number }
  } else {
    const info = await ok('session.create', {
      model: { hidden: [48, 48] },
      data: { generator: 'spiral', n: 400, seed: 2 },
      optimizer: { type: 'adam', lr: 0.01 },
      train: { batchSize: 16, evalEvery: 10, seed: 3 },
      backend: 'cpu',
    })
    sessionId = (info.state as { sessionId: string }).sessionId
    watching = { runId: info.runId as string, from: 0 }
  }
  process.stdout.write(`${mode === 'new' || !last ? 'new' : mode}\n`)
  await ok('session.start', { sessionId })
  // Renames rewrite run.json while checkpoints are written: more moments to be killed in.
  let n = 0
  setInterval(() => {
    const runId = last?.runId
    if (runId) void host.handle({ v: 1, id: id++, kind: 'runs.rename', payload: { runId, name: `renamed ${n++}` } })
  }, 40)
}

main().catch((e) => {
  process.stderr.write(`crash-child: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
