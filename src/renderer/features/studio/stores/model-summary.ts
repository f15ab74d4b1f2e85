// The built model in one line (session.describe: "2 → 8 tanh → 8 tanh → 2 (softmax CE) · 114
// parameters · Adam") and why its loss fits, for the network editor. Asked once per session the
// host builds; a reply for a session that has since been replaced is dropped.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient } from '../../../engine'
import { useSessionStore } from '../../../stores/session'

type Description = RequestResult<'session.describe'>

export const useModelSummaryStore = defineStore('model-summary', () => {
  const session = useSessionStore()
  const sessionId = computed(() => session.info?.state.sessionId ?? null)
  const described = ref<{ sessionId: string; description: Description } | null>(null)
  /** Why the last ask failed (the editor still shows the form's own count). */
  const error = ref<string | null>(null)

  async function load(id: string): Promise<void> {
    try {
      const description = await getEngineClient().request('session.describe', { sessionId: id })
      if (sessionId.value !== id) return
      described.value = { sessionId: id, description }
      error.value = null
    } catch (e) {
      if (sessionId.value === id) error.value = e instanceof Error ? e.message : String(e)
    }
  }

  watch(sessionId, (id) => void (id && described.value?.sessionId !== id && load(id)), { immediate: true })

  /** The current session's description; null while it is being asked for, or without a session. */
  const description = computed(() => (described.value?.sessionId === sessionId.value ? described.value.description : null))
  return { description, error }
})
