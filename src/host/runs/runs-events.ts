// runs.changed: the run store's changes pushed to clients instead of runs.list being polled.
// Changes are gathered and sent together, at most one event per `minIntervalMs` (a live run
// changes with every metrics flush); the first change after a quiet spell goes out at once.
import { eventMessage, type EventMessage } from '../../shared/protocol'
import { entrySummary, type RunsHost } from './runs-host'
import { totalBytes } from './run-size'
import type { RunChange } from './store'

export interface RunsEventsOptions {
  /** At most one runs.changed per this many ms. Default 500. */
  minIntervalMs?: number
  now?: () => number
}

/** Subscribe to the host's run store; returns the unsubscribe (also cancels a pending event). */
export function runsEvents(host: RunsHost, emit: (msg: EventMessage) => void, options: RunsEventsOptions = {}): () => void {
  const store = host.store
  if (!store) return () => {}
  const minInterval = options.minIntervalMs ?? 500
  const now = options.now ?? Date.now
  const pending = new Set<string>()
  let storage = false
  let scheduled = false
  let timer: NodeJS.Timeout | null = null
  let lastAt = -Infinity
  let stopped = false

  function flush(): void {
    scheduled = false
    timer = null
    if (stopped || (pending.size === 0 && !storage)) return
    lastAt = now()
    const runs = []
    const removed: string[] = []
    for (const runId of pending) {
      const e = store!.index.get(runId, false)
      if (e) runs.push(entrySummary(host, e))
      else removed.push(runId)
    }
    pending.clear()
    const payload = { runs, removed, ...(storage ? { storage: store!.storage() } : {}), totalBytes: totalBytes(store!) }
    storage = false
    emit(eventMessage('runs.changed', payload))
  }

  function schedule(): void {
    if (scheduled) return
    scheduled = true
    const wait = lastAt + minInterval - now()
    // Within one request, every change lands in the same event (a microtask runs after it).
    if (wait <= 0) queueMicrotask(flush)
    else {
      timer = setTimeout(flush, wait)
      timer.unref?.()
    }
  }

  const off = store.onChange((c: RunChange) => {
    if ('storage' in c) storage = true
    else pending.add(c.runId) // a trashed run is reported as removed (it is not in the folder)
    schedule()
  })
  return () => {
    stopped = true
    off()
    if (timer) clearTimeout(timer)
  }
}
