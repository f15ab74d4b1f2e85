// runs.open: resume a run at its latest checkpoint (falling back past damaged ones) or branch a
// new run from an earlier one, with the history up to that step. Also a run's history in bounded
// memory for runs.metrics: read in slices, a long log no session is appending to compacted first.
// The checkpoint's weights are read at once; its optimiser state only when training continues
// (checkpoint-read.ts), so a big Adam run opens in the time its weights take to read.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { ParsedPayload, RequestResult } from '../../shared/protocol'
import { HostError } from '../errors'
import { specAt, type Checkpoint } from './checkpoint'
import { decimate } from './history'
import { DEFAULT_READ_BUDGET, readMetricsLogAsync, statsOf, type MetricsHistory } from './metrics-log'
import type { RunRecorder } from './recorder'
import { attach, liveSession, needStore, startRun, type RunsHost } from './runs-host'
import { measureRun } from './run-size'
import { METRICS_FILE, type RunStore } from './store'

function historyUpTo(h: MetricsHistory, step: number): MetricsHistory {
  const n = h.steps.findIndex((s) => s > step)
  const cut = n === -1 ? h.steps.length : n
  return {
    steps: h.steps.slice(0, cut),
    trainLoss: h.trainLoss.slice(0, cut),
    evals: h.evals.filter((e) => e.step <= step),
    layers: h.layers.filter((l) => l.step <= step),
    skippedLines: h.skippedLines,
  }
}

/**
 * The newest checkpoint that can be read. Damaged ones after it (a torn file, missing fields) are
 * named in the notice and, when `setAside`, moved out of the way so the run resumes from it. One
 * too big for a session ('limit') is not damaged: that error is the answer.
 */
function latestReadable(
  store: RunStore,
  runId: string,
  steps: number[],
  setAside: boolean,
  maxBytes: number,
): { ck: Checkpoint; step: number; notice?: string } {
  const bad: { step: number; why: string }[] = []
  for (let i = steps.length - 1; i >= 0; i--) {
    let ck: Checkpoint
    try {
      ck = store.checkpoints.read(runId, steps[i], maxBytes, { deferOptimizer: true })
    } catch (e) {
      if (!(e instanceof HostError) || e.code === 'limit') throw e
      bad.push({ step: steps[i], why: e.message })
      continue
    }
    if (bad.length === 0) return { ck, step: steps[i] }
    if (setAside) for (const b of bad) store.checkpoints.setAside(runId, b.step)
    const which = bad.map((b) => b.step).join(', ')
    const notice = `the checkpoint${bad.length > 1 ? 's' : ''} at step ${which} could not be read (${bad.map((b) => b.why).join('; ')}); opened the previous good one, at step ${steps[i]}${setAside ? ', and set the damaged files aside (damaged-step-*)' : ''}`
    return { ck, step: steps[i], notice }
  }
  throw new HostError('internal', `run ${runId}: none of its checkpoints can be read: ${bad.map((b) => b.why).join('; ')}`)
}

/**
 * A run's history in bounded memory, read in slices. A log past the size limit that no session is
 * appending to is compacted first (once), so later reads are quick.
 */
export async function history(host: RunsHost, runId: string, budget = DEFAULT_READ_BUDGET): Promise<MetricsHistory> {
  const store = needStore(host)
  const path = join(store.locate(runId), METRICS_FILE)
  await store.logIdle(runId)
  let size = 0
  try {
    size = statSync(path).size
  } catch {
    // No log yet: an empty history.
  }
  if (size > store.maxLogBytes && !liveSession(host, runId)) {
    const done = await store.compactLog(runId, Math.floor(store.maxLogBytes / 2))
    if (done) measureRun(store, runId)
    // (Lines carried over from appends made meanwhile are not in its history: read the file then.)
    if (done && done.carried === 0) {
      decimate(done.history, budget)
      return done.history
    }
  }
  return (await readMetricsLogAsync(path, { budget, yieldFn: store.yieldFn })).history
}

export async function openRun(host: RunsHost, { runId, checkpointStep }: ParsedPayload<'runs.open'>): Promise<RequestResult<'runs.open'>> {
  const store = needStore(host)
  const rec = store.read(runId)
  const steps = store.checkpoints.steps(runId)
  if (rec.external)
    throw new HostError(
      'invalid_payload',
      `run ${runId} ("${rec.name}") was reported from PyTorch by studio_watch.py: it has metrics but no weights to open; watch it instead, or import its state dict (Runs → Import PyTorch weights)`,
    )
  if (steps.length === 0) throw new HostError('not_found', `run ${runId} has no checkpoint to open`)
  const live = liveSession(host, runId)
  // Resuming a run that a session is training already: that session is the run.
  if (live && (checkpointStep ?? steps.at(-1)) === steps.at(-1)) return { sessionId: live.id, runId, step: live.step }
  const maxBytes = host.registry.sessionBytes
  const { ck, step, notice } =
    checkpointStep === undefined
      ? latestReadable(store, runId, steps, !live, maxBytes)
      : { ck: store.checkpoints.read(runId, checkpointStep, maxBytes, { deferOptimizer: true }), step: checkpointStep, notice: undefined }
  const latest = store.checkpoints.steps(runId).at(-1)
  let session
  try {
    // The checkpoint sets every weight: none are drawn first.
    session = await host.registry.create(specAt(rec.spec, ck.meta), rec.spec.backend, { restoring: true })
  } catch (e) {
    ck.later?.release()
    throw e
  }
  try {
    const past = historyUpTo(await history(host, runId), step)
    const resume = step === latest && !live
    let recorder: RunRecorder | null
    if (resume) {
      recorder = attach(host, session, { ...rec, status: 'live' })
      recorder.rewind(step, statsOf(past))
      recorder.save('live')
    } else {
      recorder = startRun(host, session, { name: `${rec.name} (from step ${step})`, parent: { runId, step } })
      if (recorder) {
        store.checkpoints.copy(
          runId,
          recorder.runId,
          steps.filter((s) => s <= step),
        )
        recorder.lastCheckpoint = step
        recorder.seed(past)
      }
    }
    session.restore(ck, `run ${runId}, step ${step}`)
    return { sessionId: session.id, runId: session.recorder?.runId ?? runId, step: session.step, ...(notice ? { notice } : {}) }
  } catch (e) {
    ck.later?.release()
    session.recorder = null
    host.registry.dispose(session.id)
    throw e
  }
}
