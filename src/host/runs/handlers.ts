// The runs.* requests (and session.importWeights) over the run store: list, metrics, rename, tag,
// delete/restore, save (save-run.ts: an unrecorded session becomes a run), open (open-run.ts: resume at the latest checkpoint, or a branch at an earlier
// one), export. Sessions come from the host's registry (runs-host.ts); this module decides what
// becomes of runs on disk. Every runs.* request waits until the store has indexed the runs found at
// startup.
import { join } from 'node:path'
import type { ParsedPayload, RequestResult } from '../../shared/protocol'
import type { RUNS_REQUESTS } from '../../shared/protocol-runs'
import { HostError } from '../errors'
import { exportRun } from '../export/index'
import type { HandlerTable } from '../handlers/table'
import { importRun } from './import-run'
import { importWeights } from './import-weights'
import { runMetricsOf } from './metrics-log'
import { history, openRun } from './open-run'
import { totalBytes } from './run-size'
import { saveRun } from './save-run'
import { entrySummary, liveSession, needStore, summary, type RunsHost } from './runs-host'
import { METRICS_FILE, type RunRecord, type RunSummaryOut } from './store'

export { entrySummary, startRun, summary, type RunsHost } from './runs-host'

/** The runs on disk, and session.importWeights (its schema lives with the runs'). */
export type RunsHandlers = HandlerTable<keyof typeof RUNS_REQUESTS | 'runs.import'>
type RunsKind = Exclude<keyof RunsHandlers, 'session.importWeights'>

/** Change run.json's user fields, through the live recorder when a session holds the run. */
function edit(host: RunsHost, runId: string, change: (rec: RunRecord) => void): RunSummaryOut {
  const store = needStore(host)
  const live = liveSession(host, runId)
  // A run the user has named or tagged is kept, trained or not.
  if (live?.recorder) live.recorder.discardIfUntrained = false
  const rec = live?.recorder ? live.recorder.rec : store.read(runId)
  change(rec)
  rec.updatedAt = new Date().toISOString()
  // A user's edit is always tried, whatever failed before (null: no retry backoff).
  if (!store.write(rec, false, null)) throw new HostError('internal', store.storage().message ?? 'the run could not be saved')
  return summary(host, rec, false)
}

export function runsHandlers(host: RunsHost): RunsHandlers {
  const table: RunsHandlers = {
    'runs.list': ({ includeDeleted, cursor, limit }) => {
      const store = host.store
      if (!store)
        return {
          runs: [],
          total: 0,
          nextCursor: null,
          storage: { dir: '', writable: false, message: 'runs are not saved: this engine host has no data directory' },
        }
      // From the index: a page reads nothing from disk, whatever the number of runs.
      const page = store.index.page(includeDeleted, limit, cursor)
      return {
        runs: page.entries.map((e) => entrySummary(host, e)),
        total: page.total,
        nextCursor: page.nextCursor,
        storage: store.storage(),
        totalBytes: totalBytes(store),
      }
    },
    'runs.metrics': async ({ runId, maxPoints }) => {
      needStore(host)
      return runMetricsOf(runId, await history(host, runId, Math.max(4 * maxPoints, 20_000)), maxPoints)
    },
    'runs.rename': ({ runId, name }) => edit(host, runId, (r) => (r.name = name)),
    'runs.tag': ({ runId, tags }) => edit(host, runId, (r) => (r.tags = [...new Set(tags)])),
    'runs.delete': async ({ runId }) => {
      const store = needStore(host)
      store.locate(runId)
      const live = liveSession(host, runId)
      if (live) {
        // Deleted, not discarded: it goes to the trash like any run, so the delete can be undone.
        if (live.recorder) live.recorder.discardIfUntrained = false
        live.pause()
        host.registry.dispose(live.id)
        // A WebGPU session's last checkpoint is written after a read-back: let it land before the move.
        await live.queued(() => undefined)
      }
      host.unwatch?.(runId)
      // A compaction of its log (stopped by the dispose, or a request's) ends before the folder moves.
      await store.logIdle(runId)
      store.move(runId, true)
      return { runId }
    },
    'runs.restore': ({ runId }) => {
      const store = needStore(host)
      store.move(runId, false)
      return summary(host, store.read(runId), false)
    },
    'runs.open': (p) => openRun(host, p),
    'runs.save': (p) => saveRun(host, p),
    'runs.import': (p) => importRun(host, p),
    'runs.export': async ({ runId, format, checkpointStep }) => {
      const store = needStore(host)
      const live = liveSession(host, runId)
      // Export what the live run is at now (a WebGPU session's weights are read back first).
      if (live) await live.reading(() => live.checkpoint())
      const rec = live?.recorder?.rec ?? store.read(runId)
      const steps = store.checkpoints.steps(runId)
      const step = checkpointStep ?? steps.at(-1)
      // A run reported from PyTorch has metrics but no weights: its metrics still export.
      const weightless = rec.external !== undefined && format === 'metrics-csv'
      if (!weightless && (step === undefined || !steps.includes(step)))
        throw new HostError(
          'not_found',
          `run ${runId} has no checkpoint at step ${step ?? '(none)'} (it has ${steps.join(', ') || 'none'})`,
        )
      const dir = store.locate(runId)
      const paths = step === undefined ? undefined : store.checkpoints.paths(runId, step)
      const files = await exportRun(
        {
          dir,
          name: rec.name,
          spec: rec.spec,
          files: host.files,
          checkpointPath: paths?.tensors ?? '',
          checkpointMetaPath: paths?.meta ?? '',
          metricsPath: join(dir, METRICS_FILE),
        },
        format,
      )
      return { files }
    },
    'session.importWeights': ({ sessionId, safetensorsBase64 }) => {
      // A WebGPU session's mirror is made current first: a partial import keeps the other weights.
      const session = host.registry.get(sessionId)
      // Imported weights are worth keeping before any step.
      if (session.recorder) session.recorder.discardIfUntrained = false
      return session.reading(() => importWeights(session, safetensorsBase64))
    },
  }
  return { ...table, ...afterStartup(host, table) }
}

/** The runs.* handlers, each waiting first for the store's startup indexing (store-recovery.ts). */
function afterStartup(host: RunsHost, table: RunsHandlers): Pick<RunsHandlers, RunsKind> {
  const wait = <K extends RunsKind>(k: K) =>
    (async (p: ParsedPayload<K>) => {
      await host.store?.ready
      return (table[k] as (p: ParsedPayload<K>) => RequestResult<K> | Promise<RequestResult<K>>)(p)
    }) as RunsHandlers[K]
  return {
    'runs.list': wait('runs.list'),
    'runs.metrics': wait('runs.metrics'),
    'runs.rename': wait('runs.rename'),
    'runs.tag': wait('runs.tag'),
    'runs.delete': wait('runs.delete'),
    'runs.restore': wait('runs.restore'),
    'runs.open': wait('runs.open'),
    'runs.save': wait('runs.save'),
    'runs.import': wait('runs.import'),
    'runs.export': wait('runs.export'),
  }
}
