// The runs on disk as the Runs view sees them: the list (loaded a page at a time, kept current by
// the host's runs.changed events instead of polling) and the storage status, which runs are
// selected for comparison and their metrics, rename/tag, delete with a few seconds to undo, and
// exports. Metrics live in a shallow map replaced per load, so the charts read plain arrays.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { EventPayload, RequestResult } from '../../../../shared/protocol'
import type { EXPORT_FORMATS } from '../../../../shared/protocol-runs'
import { EngineRequestError, getEngineClient } from '../../../engine'
import type { RunMetricsData } from '../composables/use-runs-series'

export type RunSummary = RequestResult<'runs.rename'>
export type StorageStatus = RequestResult<'runs.list'>['storage']
type RunsChanged = EventPayload<'runs.changed'>
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** How long the Undo button stays after a delete. */
export const UNDO_MS = 8_000
/** Points per curve asked of the host: plenty for a chart a few hundred pixels wide. */
export const MAX_POINTS = 1_500
/** Runs per page of the list ("Load more" asks for the next). */
export const PAGE_SIZE = 100

/** What the Undo toast offers to restore: one run (its name) or a clean-up's batch ("12 runs"). */
export interface PendingDelete {
  runIds: string[]
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
  /** Runs in the data directory (the list may hold fewer: pages not yet loaded). */
  const total = ref(0)
  /** Bytes the runs in the data directory take (those the host has measured), or null before the first list. */
  const totalBytes = ref<number | null>(null)
  /** Where the next page starts; null when every run is loaded. */
  const nextCursor = ref<string | null>(null)

  const byId = computed(() => new Map(runs.value.map((r) => [r.runId, r])))
  /** The selected runs that still exist, in list order. */
  const selectedRuns = computed(() => runs.value.filter((r) => selected.value.includes(r.runId)))
  /** Selected runs whose metrics have arrived, in list order. */
  const compared = computed(() =>
    selectedRuns.value.flatMap((r) => (metrics.value[r.runId] ? [{ run: r, metrics: metrics.value[r.runId]! }] : [])),
  )

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

  /** Reload the first page, and the metrics of selected runs that changed since they were fetched. */
  async function refresh(): Promise<void> {
    loading.value = true
    try {
      await attempt(async () => {
        const result = await client.request('runs.list', { includeDeleted: false, limit: Math.max(PAGE_SIZE, runs.value.length) })
        runs.value = [...result.runs].sort(newestFirst)
        storage.value = result.storage
        total.value = result.total
        totalBytes.value = result.totalBytes ?? null
        nextCursor.value = result.nextCursor
        loaded.value = true
        const present = new Set(result.runs.map((r) => r.runId))
        selected.value = selected.value.filter((id) => present.has(id))
        await reloadChanged()
      })
    } finally {
      loading.value = false
    }
  }

  /** The next page of older runs. */
  async function loadMore(): Promise<void> {
    const cursor = nextCursor.value
    if (cursor === null || loading.value) return
    loading.value = true
    try {
      await attempt(async () => {
        const result = await client.request('runs.list', { includeDeleted: false, limit: PAGE_SIZE, cursor })
        const known = new Set(runs.value.map((r) => r.runId))
        runs.value = [...runs.value, ...result.runs.filter((r) => !known.has(r.runId))].sort(newestFirst)
        storage.value = result.storage
        total.value = result.total
        nextCursor.value = result.nextCursor
      })
    } finally {
      loading.value = false
    }
  }

  /** Curves of selected runs saved since their metrics were fetched (a live run at each checkpoint). */
  async function reloadChanged(): Promise<void> {
    const stale = runs.value.filter((r) => selected.value.includes(r.runId) && loadedAt.get(r.runId) !== r.updatedAt)
    await Promise.all(stale.map((r) => loadMetrics(r.runId)))
  }

  /**
   * A runs.changed event: changed runs replace theirs (a new one is added when it falls within the
   * loaded pages), removed ones go, the storage status follows. Nothing is polled.
   */
  function applyChange(change: RunsChanged): void {
    if (change.storage) storage.value = change.storage
    if (change.totalBytes !== undefined) totalBytes.value = change.totalBytes
    if (!loaded.value) return
    const byRun = new Map(runs.value.map((r) => [r.runId, r]))
    const oldest = runs.value.at(-1)
    for (const run of change.runs) {
      const within = nextCursor.value === null || (oldest !== undefined && newestFirst(run, oldest) <= 0)
      if (!byRun.has(run.runId) && within) total.value++
      if (byRun.has(run.runId) || within) byRun.set(run.runId, run)
    }
    for (const id of change.removed) {
      if (byRun.delete(id)) total.value = Math.max(0, total.value - 1)
    }
    runs.value = [...byRun.values()].sort(newestFirst)
    const present = new Set(byRun.keys())
    selected.value = selected.value.filter((id) => present.has(id))
    void attempt(reloadChanged)
  }

  client.onEvent((e) => {
    if (e.event === 'runs.changed') applyChange(e.payload)
    // A restarted host may have changed anything: start over from its first page.
    else if (e.event === 'host.status' && loaded.value) void refresh()
  })

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

  /**
   * Moves runs to the trash, one after another; Undo (restore) is offered for UNDO_MS for every one
   * moved, under `name` (a run's name, or "12 runs" for a clean-up). Stops at the first refusal.
   */
  const removeMany = (runIds: readonly string[], name: string) =>
    attempt(async () => {
      const names = new Map(runs.value.map((r) => [r.runId, r.name]))
      const moved: string[] = []
      try {
        for (const runId of runIds) {
          await client.request('runs.delete', { runId })
          moved.push(runId)
          if (runs.value.some((r) => r.runId === runId)) total.value = Math.max(0, total.value - 1)
        }
      } finally {
        const gone = new Set(moved)
        runs.value = runs.value.filter((r) => !gone.has(r.runId))
        selected.value = selected.value.filter((id) => !gone.has(id))
        if (moved.length > 0) {
          clearPending()
          const partial = moved.length === 1 ? (names.get(moved[0]!) ?? moved[0]!) : `${moved.length} runs`
          pendingDelete.value = { runIds: moved, name: moved.length === runIds.length ? name : partial }
          undoTimer = setTimeout(clearPending, UNDO_MS)
        }
      }
    })

  /** Moves the run to the trash; Undo (restore) is offered for UNDO_MS. */
  const remove = (runId: string) => removeMany([runId], byId.value.get(runId)?.name ?? runId)

  const undoDelete = () =>
    attempt(async () => {
      const pending = pendingDelete.value
      if (!pending) return
      clearPending()
      for (const runId of pending.runIds) {
        const run = await client.request('runs.restore', { runId })
        if (!runs.value.some((r) => r.runId === run.runId)) total.value++
        replace(run)
      }
    })

  /** The files of an export (the caller saves them). */
  const exportRun = (runId: string, format: ExportFormat, checkpointStep?: number) =>
    attempt(
      async () =>
        (await client.request('runs.export', checkpointStep === undefined ? { runId, format } : { runId, format, checkpointStep })).files,
    )

  /** Open the run as a host session at a checkpoint (default: its last); the caller adopts it. */
  const open = (runId: string, checkpointStep?: number) =>
    attempt(() => client.request('runs.open', checkpointStep === undefined ? { runId } : { runId, checkpointStep }))

  return {
    runs,
    storage,
    loading,
    loaded,
    error,
    selected,
    metrics,
    pendingDelete,
    selectedRuns,
    compared,
    total,
    totalBytes,
    nextCursor,
    refresh,
    loadMore,
    applyChange,
    toggleSelected,
    rename,
    setTags,
    remove,
    removeMany,
    undoDelete,
    exportRun,
    open,
  }
})
