// Live refresh for the inspect views (graph and network): poll at a bounded rate while the view is
// shown, fetch only when the session or its step changed, never two requests at once, and stop
// when the view is hidden (App keeps views alive in <KeepAlive>: deactivated is the hidden state).
// Snapshots run on the engine host between training slices, so a slow one (a big model) stretches
// the interval: inspecting never takes more than about a third of the host's time.
import { onActivated, onDeactivated, onMounted, onUnmounted } from 'vue'

export interface RefresherOptions {
  intervalMs: number
  fetch: () => Promise<void>
  /** What the data depends on (e.g. `${sessionId}:${step}`); null when there is nothing to show. */
  key: () => string | null
  /** The wait after a fetch is at least this many times as long as the fetch took (default 2). */
  backoff?: number
}

export interface Refresher {
  start(): void
  stop(): void
  /** Fetch now, whatever the key (the refresh button); joins a fetch already running. */
  refresh(): Promise<void>
  readonly active: boolean
}

export function createRefresher(options: RefresherOptions): Refresher {
  let active = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastKey: string | null = null
  let inFlight: Promise<void> | null = null
  let lastDuration = 0

  const pageHidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden'

  function refresh(): Promise<void> {
    if (inFlight) return inFlight
    const key = options.key()
    const started = Date.now()
    inFlight = options.fetch().finally(() => {
      lastKey = key
      lastDuration = Date.now() - started
      inFlight = null
    })
    return inFlight
  }

  async function tick(): Promise<void> {
    timer = undefined
    if (!active) return
    const key = options.key()
    if (key !== null && key !== lastKey && !pageHidden()) await refresh().catch(() => undefined)
    const wait = Math.max(options.intervalMs, (options.backoff ?? 2) * lastDuration)
    if (active && timer === undefined) timer = setTimeout(() => void tick(), wait)
  }

  return {
    start() {
      if (active) return
      active = true
      void tick()
    },
    stop() {
      active = false
      clearTimeout(timer)
      timer = undefined
    },
    refresh,
    get active() {
      return active
    },
  }
}

/** A refresher tied to the component's visibility (mounted/activated … deactivated/unmounted). */
export function useLiveRefresh(options: RefresherOptions): Refresher {
  const r = createRefresher(options)
  onMounted(r.start)
  onActivated(r.start)
  onDeactivated(r.stop)
  onUnmounted(r.stop)
  return r
}
