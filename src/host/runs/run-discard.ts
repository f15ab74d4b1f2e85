// A run that never trained is not worth keeping: a session rebuilt before its first step (every
// change of the setup form rebuilds it) would otherwise leave an "untrained" run behind each time.
// Its folder is renamed out of the runs directory first (one atomic step: the run is either listed
// whole or gone), then removed; start-up recovery sweeps a leftover if the removal was cut short.
import { join } from 'node:path'
import type { RunStore } from './store'

/** Folders of discarded runs awaiting removal start with this (recovery removes them too). */
export const DISCARD_PREFIX = '.discard-'

/** Remove an untrained run's folder and its index entry; false when the disk refused (the run stays). */
export function discardRun(store: RunStore, runId: string): boolean {
  const from = store.runDir(runId)
  const to = join(store.dir, `${DISCARD_PREFIX}${runId}`)
  const moved = store.guard('remove an untrained run', () => store.ops.renameSync(from, to), runId)
  if (moved === null) return false
  store.index.remove(runId, false)
  store.index.sizes.delete(runId)
  store.touched(runId)
  try {
    store.ops.rmSync(to, { recursive: true, force: true })
  } catch {
    // Out of the runs list already; start-up recovery removes what is left.
  }
  return true
}
