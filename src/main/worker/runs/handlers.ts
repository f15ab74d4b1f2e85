// The runs.* requests (and session.importWeights) over the run store: list, metrics, rename, tag,
// delete/restore, open (resume at the latest checkpoint, or a branch at an earlier one), export.
// The host supplies sessions; this module decides what becomes of runs on disk.
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ParsedPayload, RequestResult } from '../../../shared/protocol'
import { dataLabel } from '../data-source'
import { HostError } from '../errors'
import { exportRun } from '../export/index'
import type { TrainingSession } from '../session'
import type { SessionSpecOut } from '../setup'
import { specAt } from './checkpoint'
import { importWeights } from './import-weights'
import { readMetricsLog, runMetricsOf, statsOf, type MetricsHistory } from './metrics-log'
import { RunRecorder, type RecorderOptions } from './recorder'
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
  const recorder = new RunRecorder(host.store!, rec, (message) => session.storageFailed(message), host.recorderOptions)
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

function summary(host: RunsHost, rec: RunRecord, trashed: boolean): RunSummaryOut {
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
    checkpoints: host.store!.checkpointSteps(r.runId, trashed),
    lastTrainLoss: r.stats.lastTrainLoss,
    lastTestLoss: r.stats.lastTestLoss,
    lastTestAccuracy: r.stats.lastTestAccuracy,
    spec: r.spec,
    sessionId: live?.id ?? null,
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

/** `hostOf` is read at request time: the host builds its handler table before its run store. */
export function runsHandlers(hostOf: () => RunsHost): RunsHandlers {
  const host: RunsHost = {
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
  const open: Handler<'runs.open'> = async ({ runId, checkpointStep }) => {
    const store = needStore(host)
    const rec = store.read(runId)
    const steps = store.checkpointSteps(runId)
    const latest = steps.at(-1)
    if (latest === undefined) throw new HostError('not_found', `run ${runId} has no checkpoint to open`)
    const step = checkpointStep ?? latest
    const live = liveSession(host, runId)
    // Resuming a run that a session is training already: that session is the run.
    if (live && step === latest) return { sessionId: live.id, runId, step: live.step }
    const ck = store.readCheckpoint(runId, step)
    const session = await host.createSession(specAt(rec.spec, ck.meta), rec.spec.backend)
    try {
      const history = historyUpTo(readMetricsLog(join(store.runDir(runId), METRICS_FILE)), step)
      const resume = step === latest && !live
      let recorder: RunRecorder | null
      if (resume) {
        recorder = attach(host, session, { ...rec, status: 'live' })
        recorder.rewind(step, statsOf(history))
        recorder.save('live')
      } else {
        recorder = startRun(host, session, { name: `${rec.name} (from step ${step})`, parent: { runId, step } })
        if (recorder) {
          for (const s of steps.filter((s) => s <= step)) {
            const from = store.checkpointPaths(runId, s)
            const to = store.checkpointPaths(recorder.runId, s)
            store.guard('copy checkpoints into the branch', () => {
              copyFileSync(from.tensors, to.tensors)
              copyFileSync(from.meta, to.meta)
            })
          }
          recorder.lastCheckpoint = step
          recorder.seed(history)
        }
      }
      session.restore(ck, `run ${runId}, step ${step}`)
      return { sessionId: session.id, runId: session.recorder?.runId ?? runId, step: session.step }
    } catch (e) {
      session.recorder = null
      host.disposeSession(session.id)
      throw e
    }
  }

  return {
    'runs.list': ({ includeDeleted }) => {
      const store = host.store
      if (!store) return { runs: [], storage: { dir: '', writable: false, message: 'runs are not saved: this engine host has no data directory' } }
      return { runs: store.list(includeDeleted).map(({ rec, trashed }) => summary(host, rec, trashed)), storage: store.storage() }
    },
    'runs.metrics': ({ runId, maxPoints }) => {
      const store = needStore(host)
      return runMetricsOf(runId, readMetricsLog(join(store.locate(runId), METRICS_FILE)), maxPoints)
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
