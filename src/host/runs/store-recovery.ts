// The run store at startup: every run folder (and the trash) is indexed; a run still marked live
// belonged to a process that died and becomes interrupted, with its stats from its log. With
// thousands of runs this takes seconds, so it runs in slices (RUNS_PER_SLICE runs, a log read a
// chunk at a time) and the host answers other requests meanwhile; runs.* requests wait for
// `store.ready`. Each run is recovered on its own: whatever its files hold, the others and the host start.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { RunId } from '../../shared/protocol-runs'
import { describeFsError, isFsError, TMP_PREFIX, writeFileAtomic } from './atomic'
import { readMetricsLogAsync, statsOf } from './metrics-log'
import { CHECKPOINT_DIR, METRICS_FILE, RUN_FILE, TRASH, type RunRecord } from './run-record'
import type { RunStore } from './store'
import { DISCARD_PREFIX } from './run-discard'
import { measureAll } from './run-size'

/** Untrained runs whose removal was cut short (run-discard.ts): already out of the list, now gone. */
function sweepDiscarded(store: RunStore): void {
  const names = store.guard('list the data directory', () => readdirSync(store.dir))
  for (const n of names ?? []) {
    if (n.startsWith(DISCARD_PREFIX))
      store.guard('remove a discarded run', () => store.ops.rmSync(join(store.dir, n), { recursive: true, force: true }))
  }
}

/** Runs indexed between two turns of the event loop (about 10–30 ms of reading and parsing). */
export const RUNS_PER_SLICE = 32

function runIds(store: RunStore, trashed: boolean): string[] {
  const d = trashed ? join(store.dir, TRASH) : store.dir
  try {
    return readdirSync(d).filter((n) => RunId.safeParse(n).success)
  } catch (e) {
    if (isFsError(e)) return []
    throw e
  }
}

/** Index every run found now (the folders are listed before the first yield: runs made later index themselves). */
export async function recoverRuns(store: RunStore): Promise<void> {
  sweepDiscarded(store)
  const found = [false, true].flatMap((trashed) => runIds(store, trashed).map((runId) => ({ runId, trashed })))
  let n = 0
  for (const { runId, trashed } of found) {
    if (n++ % RUNS_PER_SLICE === 0) await store.yieldFn()
    try {
      await recoverRun(store, runId, trashed)
    } catch (e) {
      const reason = `could not be recovered: ${isFsError(e) ? describeFsError(e, store.dir) : e instanceof Error ? e.message : String(e)}`
      store.index.put({ runId, trashed, rec: null, damaged: reason, createdAt: new Date(0).toISOString(), checkpoints: [] })
    }
  }
  // Sizes after the index is ready: listing waits for the index, not for them (run-size.ts).
  void Promise.resolve().then(() => measureAll(store))
}

async function recoverRun(store: RunStore, runId: string, trashed: boolean): Promise<void> {
  const d = store.runDir(runId, trashed)
  for (const sub of [d, join(d, CHECKPOINT_DIR)]) {
    if (!existsSync(sub)) continue
    for (const n of readdirSync(sub)) {
      if (n.startsWith(TMP_PREFIX)) store.guard('remove a temporary file', () => store.ops.rmSync(join(sub, n), { force: true }), runId)
    }
  }
  const entry = store.loadEntry(runId, trashed)
  const hasData = existsSync(join(d, METRICS_FILE)) || store.checkpoints.steps(runId, trashed).length > 0
  // Killed between making the folder and its first checkpoint: it never held anything to open.
  if (!trashed && !hasData && (entry.rec?.status === 'live' || (!entry.rec && !existsSync(join(d, RUN_FILE))))) {
    if (store.guard('remove an empty run folder', () => store.ops.rmSync(d, { recursive: true, force: true }), runId) !== null) return
  }
  if (!trashed && entry.rec?.status === 'live') {
    const { history } = await readMetricsLogAsync(join(d, METRICS_FILE), { budget: 4096, yieldFn: store.yieldFn })
    const rec: RunRecord = { ...entry.rec, status: 'interrupted', stats: statsOf(history) }
    entry.rec = rec
    store.guard('mark an interrupted run', () => writeFileAtomic(join(d, RUN_FILE), `${JSON.stringify(rec, null, 1)}\n`, store.ops), runId)
  }
  store.index.put(entry)
}
