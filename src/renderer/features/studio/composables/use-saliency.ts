// The saliency gallery's data: session.saliency polled while the metrics move (at most every
// SALIENCY_INTERVAL_MS, one request in flight), only for image data; a reply for a session or run
// that has moved on is dropped.
import { computed, onBeforeUnmount, shallowRef, watch, type Ref } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient } from '../../../engine'
import { useMetricsStore } from '../../../stores/metrics'
import { useSessionStore } from '../../../stores/session'
import { Poller } from '../stores/studio-inspect'

export type Saliency = RequestResult<'session.saliency'>

/** The host spends about a frame's work per gallery; twice a second at most keeps training's share. */
export const SALIENCY_INTERVAL_MS = 1500
export const SALIENCY_PER_KIND = 4

export function useSaliency(): { gallery: Ref<Saliency | null>; error: Ref<string | null>; applies: Ref<boolean> } {
  const client = getEngineClient()
  const session = useSessionStore()
  const metrics = useMetricsStore()
  const gallery = shallowRef<Saliency | null>(null)
  const error = shallowRef<string | null>(null)
  const applies = computed(() => !!session.info?.imageShape && session.info.task !== 'regression')
  const ticket = () => `${session.info?.state.sessionId}#${metrics.buffers.generation}`

  const poller = new Poller(SALIENCY_INTERVAL_MS, async () => {
    const id = session.info?.state.sessionId
    if (!id || !applies.value) return
    const before = ticket()
    try {
      const r = await client.request('session.saliency', { sessionId: id, perKind: SALIENCY_PER_KIND })
      if (ticket() !== before) return
      gallery.value = r
      error.value = null
    } catch (err) {
      if (ticket() === before) error.value = err instanceof Error ? err.message : String(err)
    }
  })
  const poke = () => applies.value && poller.poke()

  watch(() => metrics.version, poke)
  // A new session or run clears the gallery. The buffers are raw: their generation is read as the
  // version moves, and compared as a string, so a session-info update alone changes nothing (a
  // gallery cleared on every update made the board jump while training).
  watch(
    () => {
      void metrics.version
      return ticket()
    },
    () => {
      gallery.value = null
      error.value = null
      poke()
    },
  )
  poke()
  onBeforeUnmount(() => poller.stop())
  return { gallery, error, applies }
}
