// What each run takes on disk (run.json, its metrics log, its checkpoints, anything else in its
// folder), kept in the run index's `sizes` so runs.list adds numbers instead of statting files.
// A run is measured again when its files change (a checkpoint written, pruned, copied or set
// aside; its log compacted); a move to the trash and back keeps the size. Runs indexed at startup
// are measured once, after the index is ready, in slices of a few milliseconds so the host
// answers requests meanwhile; until then their size is unknown (the Runs view says so).
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { RunStore } from './store'

/** Measuring at startup yields after this long (ms) or this many runs, whichever comes first. */
const SLICE_MS = 8
const RUNS_PER_SLICE = 16
/** Files counted in one folder at most (a run holds a few dozen; a folder with more is not ours to walk). */
const MAX_FILES = 4_096

/** Bytes of the files in `dir` and its subfolders (two levels: a run's folder and its checkpoints). */
export function folderBytes(dir: string, depth = 2): number {
  let names: string[]
  try {
    names = readdirSync(dir).slice(0, MAX_FILES)
  } catch {
    return 0 // gone or unreadable: nothing to count
  }
  let total = 0
  for (const n of names) {
    try {
      const st = lstatSync(join(dir, n))
      if (st.isFile()) total += st.size
      else if (st.isDirectory() && depth > 1) total += folderBytes(join(dir, n), depth - 1)
    } catch {
      // Removed meanwhile: not on disk any more.
    }
  }
  return total
}

/** Measure one run now (a few dozen stats) and keep the figure in the index. */
export function measureRun(store: RunStore, runId: string, trashed = false): number {
  const bytes = folderBytes(store.runDir(runId, trashed))
  store.index.sizes.set(runId, bytes)
  return bytes
}

/** Sum of the sizes known for the runs in the data directory (and the trash); runs not yet measured count 0. */
export function totalBytes(store: RunStore, includeTrash = false): number {
  let total = 0
  for (const e of store.index.entries(includeTrash)) total += store.index.sizes.get(e.runId) ?? 0
  return total
}

/**
 * Measure every indexed run without a size, in slices (startup: runs from before sizes were kept,
 * or from a previous start). Each measured run in the folder is reported as changed, so the Runs
 * view shows its size without asking again.
 */
export async function measureAll(store: RunStore): Promise<void> {
  const todo = store.index
    .entries(true)
    .filter((e) => !store.index.sizes.has(e.runId))
    .map((e) => ({ runId: e.runId, trashed: e.trashed }))
  let started = performance.now()
  let n = 0
  for (const { runId, trashed } of todo) {
    if (++n % RUNS_PER_SLICE === 0 || performance.now() - started > SLICE_MS) {
      await store.yieldFn()
      started = performance.now()
    }
    // Measured meanwhile (a checkpoint was written), or gone.
    if (store.index.sizes.has(runId) || !store.index.get(runId, trashed)) continue
    measureRun(store, runId, trashed)
    if (!trashed) store.touched(runId)
  }
}
