// What the runs side works with (the run store, the host's files, recorder options and its session
// registry) and the glue between a session and its run: starting a run for a session, attaching a
// recorder, finding the session that trains a run, and a run's summary.
import { HostError } from '../errors'
import type { TrainingSession } from '../session'
import type { SessionRegistry } from '../sessions/registry'
import type { FileStore } from '../datasets/store'
import { sessionInfo } from '../session-info'
import { RunRecorder, type RecorderOptions } from './recorder'
import { dataName, modelName } from './run-name'
import type { IndexEntry } from './run-index'
import { APP_VERSION, newRunId, RUN_FORMAT, type RunRecord, type RunStore, type RunSummaryOut } from './store'

export interface RunsHost {
  /** Null when the host has no data directory (nothing is saved). */
  store: RunStore | null
  /** The host's uploaded files: exports of CSV and IDX runs read their data from it. */
  files: FileStore
  recorderOptions: RecorderOptions
  /** The host's sessions: a run is opened into a new one, and a live run is found by its session. */
  registry: SessionRegistry
  /** The record of an external run a script is reporting to now (watch/watch-runs.ts). */
  watched?: (runId: string) => RunRecord | undefined
  /** The user deleted an external run: its script's later reports are refused. */
  unwatch?: (runId: string) => void
}

/** "moons · 2×8 tanh", "train-images-idx3-ubyte · 784-128-10 relu" (run-name.ts). */
function defaultName(host: RunsHost, session: TrainingSession): string {
  return `${dataName(session.spec.data, host.files)} · ${modelName(sessionInfo(session).layers)}`
}

/**
 * Start recording a session into a new run (or leave it unrecorded, with the store's message in
 * its state, when the data directory cannot be written).
 */
export function startRun(
  host: RunsHost,
  session: TrainingSession,
  extra: { name?: string; tags?: string[]; parent?: RunRecord['parent'] } = {},
): RunRecorder | null {
  const store = host.store
  if (!store) return null
  const now = new Date()
  const rec: RunRecord = {
    format: RUN_FORMAT,
    runId: newRunId(now),
    name: extra.name ?? defaultName(host, session),
    tags: [...new Set(extra.tags ?? [])],
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

export function attach(host: RunsHost, session: TrainingSession, rec: RunRecord): RunRecorder {
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

export function liveSession(host: RunsHost, runId: string): TrainingSession | undefined {
  for (const s of host.registry) if (s.recorder?.runId === runId) return s
  return undefined
}

export function needStore(host: RunsHost): RunStore {
  if (!host.store) throw new HostError('not_found', 'runs are not saved by this engine host (it has no data directory)')
  return host.store
}

/** A run as listed: the live recorder's numbers for a run being trained, the index's otherwise. */
export function summary(host: RunsHost, rec: RunRecord, trashed: boolean): RunSummaryOut {
  const live = trashed ? undefined : liveSession(host, rec.runId)
  const watched = trashed ? undefined : host.watched?.(rec.runId)
  const r = live?.recorder?.rec ?? watched ?? rec
  return {
    runId: r.runId,
    name: r.name,
    tags: [...r.tags],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    status: live || watched ? 'live' : r.status === 'live' ? 'interrupted' : r.status,
    steps: r.stats.steps,
    checkpoints: [...(host.store!.index.get(r.runId, trashed)?.checkpoints ?? host.store!.checkpoints.steps(r.runId, trashed))],
    lastTrainLoss: r.stats.lastTrainLoss,
    lastTestLoss: r.stats.lastTestLoss,
    lastTestAccuracy: r.stats.lastTestAccuracy,
    spec: r.spec,
    sessionId: live?.id ?? null,
    ...(r.external ? { external: structuredClone(r.external) } : {}),
    ...sizeOf(host, r.runId),
  }
}

/** The run's size on disk as the index knows it (run-size.ts), when it has been measured. */
function sizeOf(host: RunsHost, runId: string): { bytes?: number } {
  const bytes = host.store?.index.sizes.get(runId)
  return bytes === undefined ? {} : { bytes }
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
    ...sizeOf(host, e.runId),
  }
}
