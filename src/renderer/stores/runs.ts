// The runs on disk as the Runs view sees them: the list and the storage status, which runs are
// selected for comparison and their metrics, rename/tag, delete with a few seconds to undo, and
// exports. Metrics live in a shallow map replaced per load, so the charts read plain arrays.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import type { EXPORT_FORMATS } from '../../shared/protocol-runs'
import { EngineRequestError, getEngineClient } from '../engine'
import type { RunMetricsData } from '../composables/use-runs-series'

export type RunSummary = RequestResult<'runs.rename'>
export type StorageStatus = RequestResult<'runs.list'>['storage']
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** How long the Undo button stays after a delete. */
export const UNDO_MS = 8_000
/** Points per curve asked of the host: plenty for a chart a few hundred pixels wide. */
export const MAX_POINTS = 1_500

export interface PendingDelete {
  runId: string
  name: string
}

function describe(err: unknown): string {
  return err instanceof EngineRequestError || err instanceof Error ? err.message : String(err)
}

/** Newest first, as people look for the run they just trained. */
const newestFirst = (a: RunSummary, b: RunSummary) => b.createdAt.localeCompare(a.createdAt) || b.runId.localeCompare(a.runId)

export const useRunsStore = defineStore('runs', () => {
  const client = getEngineClient()
  const runs = shallowRef<RunSummary[]>([])
  const storage = shallowRef<StorageStatus | null>(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const selected = ref<string[]>([])
  const metrics = shallowRef<Readonly<Record<string, RunMetricsData>>>({})
  const pendingDelete = shallowRef<PendingDelete | null>(null)

  const byId = computed(() => new Map(runs.value.map((r) => [r.runId, r])))
  /** The selected runs that still exist, in list order. */
  const selectedRuns = computed(() => runs.value.filter((r) => selected.value.includes(r.runId)))
  /** Selected runs whose metrics have arrived, in list order. */
  const compared = computed(() => selectedRuns.value.flatMap((r) => (metrics.value[r.runId] ? [{ run: r, metrics: metrics.value[r.runId]! }] : [])))

  async function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      error.value = null
      return await fn()
    } catch (err) {
      error.value = describe(err)
      return undefined
    }
  }

  function replace(run: RunSummary): void {
    const others = runs.value.filter((r) => r.runId !== run.runId)
    runs.value = [...others, run].sort(newestFirst)
  }

  /** Reload the list, and the metrics of selected runs that changed (a live run keeps growing). */
  async function refresh(): Promise<void> {
    loading.value = true
    try {
      await attempt(async () => {
        const result = await client.request('runs.list', { includeDeleted: false })
        runs.value = [...result.runs].sort(newestFirst)
        storage.value = result.storage
        loaded.value = true
        const present = new Set(result.runs.map((r) => r.runId))
        selected.value = selected.value.filter((id) => present.has(id))
        const stale = runs.value.filter((r) => selected.value.includes(r.runId) && (r.status === 'live' || loadedAt.get(r.runId) !== r.updatedAt))
        await Promise.all(stale.map((r) => loadMetrics(r.runId)))
      })
    } finally {
      loading.value = false
    }
  }

  /** The run's updatedAt when its metrics were fetched: unchanged saved runs are not fetched again. */
  const loadedAt = new Map<string, string>()
  async function loadMetrics(runId: string): Promise<void> {
    const updatedAt = byId.value.get(runId)?.updatedAt
    const result = await client.request('runs.metrics', { runId, maxPoints: MAX_POINTS })
    if (updatedAt !== undefined) loadedAt.set(runId, updatedAt)
    metrics.value = { ...metrics.value, [runId]: result }
  }

  function toggleSelected(runId: string, on: boolean): void {
    selected.value = on ? [...new Set([...selected.value, runId])] : selected.value.filter((id) => id !== runId)
  }

  // Fetch the curves of a newly selected run (once: refresh() updates them).
  watch(selected, (ids) => {
    for (const id of ids) if (!metrics.value[id]) void attempt(() => loadMetrics(id))
  })

  const rename = (runId: string, name: string) => attempt(async () => replace(await client.request('runs.rename', { runId, name })))

  const setTags = (runId: string, tags: string[]) => attempt(async () => replace(await client.request('runs.tag', { runId, tags })))

  let undoTimer: ReturnType<typeof setTimeout> | undefined
  function clearPending(): void {
    clearTimeout(undoTimer)
    pendingDelete.value = null
  }

  /** Moves the run to the trash; Undo (restore) is offered for UNDO_MS. */
  const remove = (runId: string) =>
    attempt(async () => {
      const name = byId.value.get(runId)?.name ?? runId
      await client.request('runs.delete', { runId })
      runs.value = runs.value.filter((r) => r.runId !== runId)
      selected.value = selected.value.filter((id) => id !== runId)
      clearPending()
      pendingDelete.value = { runId, name }
      undoTimer = setTimeout(clearPending, UNDO_MS)
    })

  const undoDelete = () =>
    attempt(async () => {
      const pending = pendingDelete.value
      if (!pending) return
      clearPending()
      replace(await client.request('runs.restore', { runId: pending.runId }))
    })

  /** The files of an export (the caller saves them). */
  const exportRun = (runId: string, format: ExportFormat, checkpointStep?: number) =>
    attempt(async () => (await client.request('runs.export', checkpointStep === undefined ? { runId, format } : { runId, format, checkpointStep })).files)

  /** Open the run as a host session at a checkpoint (default: its last); the caller adopts it. */
  const open = (runId: string, checkpointStep?: number) =>
    attempt(() => client.request('runs.open', checkpointStep === undefined ? { runId } : { runId, checkpointStep }))

  return {
    runs, storage, loading, loaded, error, selected, metrics, pendingDelete, selectedRuns, compared,
    refresh, toggleSelected, rename, setTags, remove, undoDelete, exportRun, open,
  }
})
