// The run store's in-memory index: every run folder's run.json (or why it could not be read),
// built once at startup and kept current by the store's own writes, moves and deletes, so a
// page of runs.list costs O(page) and reads nothing from disk. Sorted newest first.
import { HostError } from '../errors'
import type { RunRecord } from './store'

export interface IndexEntry {
  runId: string
  trashed: boolean
  /** null when run.json could not be read; `damaged` says why. */
  rec: RunRecord | null
  damaged?: string
  createdAt: string
  /** Steps with a complete checkpoint, ascending. */
  checkpoints: number[]
}

const keyOf = (runId: string, trashed: boolean): string => `${trashed ? 't' : 'a'}:${runId}`

/** Newest first; ties by run id (descending), a run in the folder before its copy in the trash. */
function before(a: Pick<IndexEntry, 'createdAt' | 'runId' | 'trashed'>, b: Pick<IndexEntry, 'createdAt' | 'runId' | 'trashed'>): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt
  if (a.runId !== b.runId) return a.runId > b.runId
  return !a.trashed && b.trashed
}

/** The first position in `xs` whose entry does not sort before `x`. */
function lowerBound(xs: readonly IndexEntry[], x: Pick<IndexEntry, 'createdAt' | 'runId' | 'trashed'>): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (before(xs[mid], x)) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function encodeCursor(e: Pick<IndexEntry, 'createdAt' | 'runId' | 'trashed'>): string {
  return `${e.createdAt}|${e.runId}|${e.trashed ? 1 : 0}`
}

function decodeCursor(cursor: string): Pick<IndexEntry, 'createdAt' | 'runId' | 'trashed'> {
  const m = /^([^|]{1,64})\|([^|]{1,64})\|([01])$/.exec(cursor)
  if (!m)
    throw new HostError(
      'invalid_payload',
      `runs.list: cursor "${cursor.slice(0, 80)}" is not one that runs.list returned (use its nextCursor)`,
    )
  return { createdAt: m[1], runId: m[2], trashed: m[3] === '1' }
}

export class RunIndex {
  /** Runs in the data directory, newest first. */
  private readonly active: IndexEntry[] = []
  /** The same plus the trash, newest first. */
  private readonly all: IndexEntry[] = []
  private readonly byKey = new Map<string, IndexEntry>()
  /** Bytes each run takes on disk, by run id (run-size.ts); absent until measured. A move keeps it. */
  readonly sizes = new Map<string, number>()

  get(runId: string, trashed: boolean): IndexEntry | undefined {
    return this.byKey.get(keyOf(runId, trashed))
  }

  put(e: IndexEntry): void {
    this.remove(e.runId, e.trashed)
    this.byKey.set(keyOf(e.runId, e.trashed), e)
    this.all.splice(lowerBound(this.all, e), 0, e)
    if (!e.trashed) this.active.splice(lowerBound(this.active, e), 0, e)
  }

  remove(runId: string, trashed: boolean): IndexEntry | undefined {
    const e = this.byKey.get(keyOf(runId, trashed))
    if (!e) return undefined
    this.byKey.delete(keyOf(runId, trashed))
    for (const xs of e.trashed ? [this.all] : [this.all, this.active]) {
      const i = lowerBound(xs, e)
      if (xs[i] === e) xs.splice(i, 1)
    }
    return e
  }

  entries(includeTrash: boolean): readonly IndexEntry[] {
    return includeTrash ? this.all : this.active
  }

  /** Up to `limit` entries after `cursor` (from the start without one), the total, and the next cursor. */
  page(includeTrash: boolean, limit: number, cursor?: string): { entries: IndexEntry[]; total: number; nextCursor: string | null } {
    const xs = this.entries(includeTrash)
    let from = 0
    if (cursor !== undefined) {
      const c = decodeCursor(cursor)
      from = lowerBound(xs, c)
      // The cursor's own entry was on the previous page.
      if (from < xs.length && xs[from].runId === c.runId && xs[from].createdAt === c.createdAt && xs[from].trashed === c.trashed) from++
    }
    const entries = xs.slice(from, from + limit)
    const last = entries.at(-1)
    return { entries, total: xs.length, nextCursor: from + limit < xs.length && last ? encodeCursor(last) : null }
  }
}
