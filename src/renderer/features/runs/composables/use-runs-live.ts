// Keeps the Runs view current without polling: the list is loaded when the view is shown, and the
// host's runs.changed events (handled by the runs store) keep it current from then on.
import { onActivated, onMounted } from 'vue'
import { useRunsStore } from '../stores/runs'

export function useRunsLive(): void {
  const runs = useRunsStore()
  let mounted = false
  onMounted(() => {
    mounted = true
    void runs.refresh()
  })
  // onActivated also fires right after the first mount; later it catches up after a hidden spell.
  onActivated(() => {
    if (mounted) mounted = false
    else void runs.refresh()
  })
}
