// Keeps the Runs view current: a refresh whenever the view is shown, and every few seconds while
// a run is live (its steps and curves grow), stopping when the view is hidden (KeepAlive).
import { onActivated, onBeforeUnmount, onDeactivated, onMounted } from 'vue'
import { useRunsStore } from '../stores/runs'

export const LIVE_REFRESH_MS = 3_000

export function useRunsPoll(): void {
  const runs = useRunsStore()
  let timer: ReturnType<typeof setInterval> | undefined

  function start(): void {
    stop()
    void runs.refresh()
    timer = setInterval(() => {
      if (!runs.loading && runs.runs.some((r) => r.status === 'live')) void runs.refresh()
    }, LIVE_REFRESH_MS)
  }
  function stop(): void {
    clearInterval(timer)
    timer = undefined
  }

  onMounted(start)
  // onActivated also fires after the first mount; start() is idempotent.
  onActivated(() => timer === undefined && start())
  onDeactivated(stop)
  onBeforeUnmount(stop)
}
