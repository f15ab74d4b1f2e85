// The runs.* requests (and session.importWeights) over the run store: list, metrics, rename, tag,
// delete/restore, open (resume at the latest checkpoint, or a branch at an earlier one), export.
// The host supplies sessions; this module decides what becomes of runs on disk.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { ParsedPayload, RequestResult } from '../../../shared/protocol'
import { dataLabel } from '../data-source'
import { HostError } from '../errors'
import { exportRun } from '../export/index'
import type { TrainingSession } from '../session'
import type { SessionSpecOut } from '../setup'
import { specAt, type Checkpoint } from './checkpoint'
import { decimate } from './history'
import { importWeights } from './import-weights'
import { compactLog, DEFAULT_READ_BUDGET, readMetricsLog, runMetricsOf, statsOf, type MetricsHistory } from './metrics-log'
import { RunRecorder, type RecorderOptions } from './recorder'
import type { IndexEntry } from './run-index'
import { METRICS_FILE, newRunId, APP_VERSION, RUN_FORMAT, type RunRecord, type RunStore, type RunSummaryOut } from './store'

export interface RunsHost {
  store: RunStore | null
  recorderOptions: RecorderOptions
  sessions(): Iterable<TrainingSession>
  session(sessionId: string): TrainingSession
  /** A new session from a spec (not yet recording), counted against the session limit. */
  createSession(spec: SessionSpecOut, backend: SessionSpecOut['backend']): Promise<TrainingSession>
  disposeSession(sessionId: string): void
}

type Handler<K extends keyof RunsHandlers> = RunsHandlers[K]
export type RunsHandlers = {
  [K in 'runs.list' | 'runs.metrics' | 'runs.rename' | 'runs.tag' | 'runs.delete' | 'runs.restore' | 'runs.open' | 'runs.export' | 'session.importWeights']: (
    p: ParsedPayload<K>,
  ) => RequestResult<K> | Promise<RequestResult<K>>
}

function defaultName(spec: SessionSpecOut): string {
  return `${dataLabel(spec.data)} · ${[...spec.model.hidden].join('-') || 'linear'} · ${spec.optimizer.type} ${spec.optimizer.lr}`
}

/**
 * Start recording a session into a new run (or leave it unrecorded, with the store's message in
 * its state, when the data directory cannot be written).
 */
export function startRun(host: RunsHost, session: TrainingSession, extra: { name?: string; parent?: RunRecord['parent'] } = {}): RunRecorder | null {
  const store = host.store
  if (!store) return null
  const now = new Date()
  const rec: RunRecord = {
    format: RUN_FORMAT,
    runId: newRunId(now),
    name: extra.name ?? defaultName(session.spec),
    tags: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    status: 'live',
    spec: structuredClone(session.spec),
    backend: { ...session.backend },
    appVersion: APP_VERSION,
    stats: { steps: 0, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null },
    ...(extra.parent ? { parent: extra.parent } : {}),
  }
  if (!store.create(rec)) {
    session.message = store.storage().message
    return null
  }
  return attach(host, session, rec)
}

function attach(host: RunsHost, session: TrainingSession, rec: RunRecord): RunRecorder {
  let lost: string | undefined
  const recorder = new RunRecorder(
    host.store!,
    rec,
    (message) => {
      lost = message
      session.storageFailed(message)
    },
    host.recorderOptions,
    // Saving works again: the session's warning goes (unless something else has replaced it).
    () => {
      if (session.message === lost) session.message = undefined
    },
  )
  session.recorder = recorder
  return recorder
}

function liveSession(host: RunsHost, runId: string): TrainingSession | undefined {
  for (const s of host.sessions()) if (s.recorder?.runId === runId) return s
  return undefined
}

function needStore(host: RunsHost): RunStore {
  if (!host.store) throw new HostError('not_found', 'runs are not saved by this engine host (it has no data directory)')
  return host.store
}

/** A run as listed: the live recorder's numbers for a run being trained, the index's otherwise. */
export function summary(host: RunsHost, rec: RunRecord, trashed: boolean): RunSummaryOut {
  const live = trashed ? undefined : liveSession(host, rec.runId)
  const r = live?.recorder?.rec ?? rec
  return {
    runId: r.runId,
    name: r.name,
    tags: [...r.tags],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    status: live ? 'live' : r.status === 'live' ? 'interrupted' : r.status,
    steps: r.stats.steps,
    checkpoints: [...(host.store!.index.get(r.runId, trashed)?.checkpoints ?? host.store!.checkpointSteps(r.runId, trashed))],
    lastTrainLoss: r.stats.lastTrainLoss,
    lastTestLoss: r.stats.lastTestLoss,
    lastTestAccuracy: r.stats.lastTestAccuracy,
    spec: r.spec,
    sessionId: live?.id ?? null,
  }
}

/** An index entry as listed; a damaged one says why, under its folder's name. */
export function entrySummary(host: RunsHost, e: IndexEntry): RunSummaryOut {
  if (e.rec) return summary(host, e.rec, e.trashed)
  return {
    runId: e.runId,
    name: e.runId,
    tags: [],
    createdAt: e.createdAt,
    updatedAt: e.createdAt,
    status: 'damaged',
    steps: 0,
    checkpoints: [...e.checkpoints],
    lastTrainLoss: null,
    lastTestLoss: null,
    lastTestAccuracy: null,
    spec: null,
    sessionId: null,
    damaged: { reason: e.damaged ?? 'its files could not be read' },
  }
}

/** Change run.json's user fields, through the live recorder when a session holds the run. */
function edit(host: RunsHost, runId: string, change: (rec: RunRecord) => void): RunSummaryOut {
  const store = needStore(host)
  const live = liveSession(host, runId)
  const rec = live?.recorder ? live.recorder.rec : store.read(runId)
  change(rec)
  rec.updatedAt = new Date().toISOString()
  if (!store.write(rec)) throw new HostError('internal', store.storage().message ?? 'the run could not be saved')
  return summary(host, rec, false)
}

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
 * named in the notice and, when `setAside`, moved out of the way so the run resumes from it.
 */
function latestReadable(store: RunStore, runId: string, steps: number[], setAside: boolean): { ck: Checkpoint; step: number; notice?: string } {
  const bad: { step: number; why: string }[] = []
  for (let i = steps.length - 1; i >= 0; i--) {
    let ck: Checkpoint
    try {
      ck = store.readCheckpoint(runId, steps[i])
    } catch (e) {
      if (!(e instanceof HostError)) throw e
      bad.push({ step: steps[i], why: e.message })
      continue
    }
    if (bad.length === 0) return { ck, step: steps[i] }
    if (setAside) for (const b of bad) store.setAsideCheckpoint(runId, b.step)
    const which = bad.map((b) => b.step).join(', ')
    const notice = `the checkpoint${bad.length > 1 ? 's' : ''} at step ${which} could not be read (${bad.map((b) => b.why).join('; ')}); opened the previous good one, at step ${steps[i]}${setAside ? ', and set the damaged files aside (damaged-step-*)' : ''}`
    return { ck, step: steps[i], notice }
  }
  throw new HostError('internal', `run ${runId}: none of its checkpoints can be read: ${bad.map((b) => b.why).join('; ')}`)
}

/**
 * A run's history in bounded memory. A log past the size limit that no session is appending to
 * is compacted first (once), so later reads are quick.
 */
function history(host: RunsHost, runId: string, budget = DEFAULT_READ_BUDGET): MetricsHistory {
  const store = needStore(host)
  const path = join(store.locate(runId), METRICS_FILE)
  let size = 0
  try {
    size = statSync(path).size
  } catch {
    // No log yet: an empty history.
  }
  if (size > store.maxLogBytes && !liveSession(host, runId)) {
    const done = store.guard('compact a long metrics log', () => compactLog(path, Math.floor(store.maxLogBytes / 2), store.ops))
    if (done) {
      decimate(done.history, budget)
      return done.history
    }
  }
  return readMetricsLog(path, { budget })
}

/** A RunsHost that reads `hostOf()` at each use. */
export function lateHost(hostOf: () => RunsHost): RunsHost {
  return {
    get store() {
      return hostOf().store
    },
    get recorderOptions() {
      return hostOf().recorderOptions
    },
    sessions: () => hostOf().sessions(),
    session: (id) => hostOf().session(id),
    createSession: (spec, backend) => hostOf().createSession(spec, backend),
    disposeSession: (id) => hostOf().disposeSession(id),
  }
}

/** `hostOf` is read at request time: the host builds its handler table before its run store. */
export function runsHandlers(hostOf: () => RunsHost): RunsHandlers {
  const host = lateHost(hostOf)
  const open: Handler<'runs.open'> = async ({ runId, checkpointStep }) => {
    const store = needStore(host)
    const rec = store.read(runId)
    const steps = store.checkpointSteps(runId)
    if (steps.length === 0) throw new HostError('not_found', `run ${runId} has no checkpoint to open`)
    const live = liveSession(host, runId)
    // Resuming a run that a session is training already: that session is the run.
    if (live && (checkpointStep ?? steps.at(-1)) === steps.at(-1)) return { sessionId: live.id, runId, step: live.step }
    const { ck, step, notice } = checkpointStep === undefined ? latestReadable(store, runId, steps, !live) : { ck: store.readCheckpoint(runId, checkpointStep), step: checkpointStep, notice: undefined }
    const latest = store.checkpointSteps(runId).at(-1)
    const session = await host.createSession(specAt(rec.spec, ck.meta), rec.spec.backend)
    try {
      const past = historyUpTo(history(host, runId), step)
      const resume = step === latest && !live
      let recorder: RunRecorder | null
      if (resume) {
        recorder = attach(host, session, { ...rec, status: 'live' })
        recorder.rewind(step, statsOf(past))
        recorder.save('live')
      } else {
        recorder = startRun(host, session, { name: `${rec.name} (from step ${step})`, parent: { runId, step } })
        if (recorder) {
          store.copyCheckpoints(runId, recorder.runId, steps.filter((s) => s <= step))
          recorder.lastCheckpoint = step
          recorder.seed(past)
        }
      }
      session.restore(ck, `run ${runId}, step ${step}`)
      return { sessionId: session.id, runId: session.recorder?.runId ?? runId, step: session.step, ...(notice ? { notice } : {}) }
    } catch (e) {
      session.recorder = null
      host.disposeSession(session.id)
      throw e
    }
  }

  return {
    'runs.list': ({ includeDeleted, cursor, limit }) => {
      const store = host.store
      if (!store) return { runs: [], total: 0, nextCursor: null, storage: { dir: '', writable: false, message: 'runs are not saved: this engine host has no data directory' } }
      // From the index: a page reads nothing from disk, whatever the number of runs.
      const page = store.index.page(includeDeleted, limit, cursor)
      return { runs: page.entries.map((e) => entrySummary(host, e)), total: page.total, nextCursor: page.nextCursor, storage: store.storage() }
    },
    'runs.metrics': ({ runId, maxPoints }) => {
      needStore(host)
      return runMetricsOf(runId, history(host, runId, Math.max(4 * maxPoints, 20_000)), maxPoints)
    },
    'runs.rename': ({ runId, name }) => edit(host, runId, (r) => (r.name = name)),
    'runs.tag': ({ runId, tags }) => edit(host, runId, (r) => (r.tags = [...new Set(tags)])),
    'runs.delete': async ({ runId }) => {
      const store = needStore(host)
      store.locate(runId)
      const live = liveSession(host, runId)
      if (live) {
        live.pause()
        host.disposeSession(live.id)
        // A WebGPU session's last checkpoint is written after a read-back: let it land before the move.
        await live.queued(() => undefined)
      }
      store.move(runId, true)
      return { runId }
    },
    'runs.restore': ({ runId }) => {
      const store = needStore(host)
      store.move(runId, false)
      return summary(host, store.read(runId), false)
    },
    'runs.open': open,
    'runs.export': async ({ runId, format, checkpointStep }) => {
      const store = needStore(host)
      const live = liveSession(host, runId)
      // Export what the live run is at now (a WebGPU session's weights are read back first).
      if (live) await live.reading(() => live.checkpoint())
      const rec = live?.recorder?.rec ?? store.read(runId)
      const steps = store.checkpointSteps(runId)
      const step = checkpointStep ?? steps.at(-1)
      if (step === undefined || !steps.includes(step)) throw new HostError('not_found', `run ${runId} has no checkpoint at step ${step ?? '(none)'} (it has ${steps.join(', ') || 'none'})`)
      const dir = store.locate(runId)
      const files = await exportRun({ dir, name: rec.name, spec: rec.spec, checkpointPath: store.checkpointPaths(runId, step).tensors, metricsPath: join(dir, METRICS_FILE) }, format)
      return { files }
    },
    'session.importWeights': ({ sessionId, safetensorsBase64 }) => {
      // A WebGPU session's mirror is made current first: a partial import keeps the other weights.
      const session = host.session(sessionId)
      return session.reading(() => importWeights(session, safetensorsBase64))
    },
  }
}
