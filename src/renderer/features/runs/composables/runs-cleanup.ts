// What "Clean up" deletes: runs never trained (a rebuild before the first step, an opened setup
// closed), and optionally trained runs older than some days or beyond the newest N. It never
// touches a run that is live (open in a tab or being trained or watched), damaged (its files need
// a look first), or tagged (a tag is how a user marks a run worth keeping). Everything it deletes
// goes to the trash, and the Undo toast restores the batch.

/** The fields of a run summary the plan reads. */
export interface CleanupRun {
  runId: string
  name: string
  status: string
  steps: number
  tags: readonly string[]
  createdAt: string
  sessionId: string | null
  bytes?: number
}

export interface CleanupOptions {
  /** Runs with no trained step. */
  untrained: boolean
  /** Trained runs created more than this many days ago (null: age does not matter). */
  olderThanDays: number | null
  /** Of the trained runs, keep the newest this many (null: no cap). */
  keepNewest: number | null
}

export const DEFAULT_CLEANUP: CleanupOptions = { untrained: true, olderThanDays: null, keepNewest: null }

export interface CleanupPlan {
  runs: CleanupRun[]
  /** Bytes they take (runs not yet measured count 0). */
  bytes: number
  /** Runs some rule picked but that are kept: live, damaged or tagged. */
  kept: number
}

const DAY_MS = 86_400_000

/** Why a run is never cleaned up, or null when it may be. */
export function protectedBecause(r: CleanupRun): string | null {
  if (r.status === 'live' || r.sessionId !== null) return 'open in a tab'
  if (r.status === 'damaged') return 'damaged'
  if (r.tags.length > 0) return 'tagged'
  return null
}

/** The runs `options` select from `runs` (any order), newest first. */
export function planCleanup(runs: readonly CleanupRun[], options: CleanupOptions, now = Date.now()): CleanupPlan {
  const newestFirst = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.runId.localeCompare(a.runId))
  const trained = newestFirst.filter((r) => r.steps > 0 && r.status !== 'damaged')
  const beyondNewest = new Set(options.keepNewest === null ? [] : trained.slice(Math.max(0, options.keepNewest)).map((r) => r.runId))
  const cutoff = options.olderThanDays === null ? null : now - options.olderThanDays * DAY_MS
  const picked = newestFirst.filter((r) => {
    if (r.steps === 0) return options.untrained && r.status !== 'damaged'
    const created = Date.parse(r.createdAt)
    return beyondNewest.has(r.runId) || (cutoff !== null && Number.isFinite(created) && created < cutoff)
  })
  const chosen = picked.filter((r) => protectedBecause(r) === null)
  return { runs: chosen, bytes: chosen.reduce((n, r) => n + (r.bytes ?? 0), 0), kept: picked.length - chosen.length }
}
