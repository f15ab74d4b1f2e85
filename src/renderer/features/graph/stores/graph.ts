// The computation graph view's data: the latest session.graph snapshot of the inspected session
// (plain data behind a shallowRef: the view redraws from it, Vue never walks its arrays) and the
// selected node. Both are dropped when the session changes.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient } from '../../../engine'
import { inspectError, useInspectStore } from '../../../stores/inspect'

type GraphSnapshot = RequestResult<'session.graph'>

export const useGraphStore = defineStore('graph', () => {
  const inspect = useInspectStore()
  const client = getEngineClient()

  const snapshot = shallowRef<GraphSnapshot | null>(null)
  const error = ref<string | null>(null)
  /** Graph nodes by id: each drawn node looks itself up here when the numbers change. */
  const nodes = computed(() => new Map((snapshot.value?.nodes ?? []).map((n) => [n.id, n])))
  const selectedNodeId = ref<number | null>(null)

  watch(
    () => inspect.sessionId,
    () => {
      snapshot.value = null
      error.value = null
      selectedNodeId.value = null
    },
  )

  async function fetch(batchSize = 4): Promise<void> {
    const id = inspect.sessionId
    if (!id) return
    try {
      const snap = await client.request('session.graph', { sessionId: id, batchSize })
      if (id !== inspect.sessionId) return
      snapshot.value = snap
      error.value = null
      if (selectedNodeId.value !== null && !snap.nodes.some((n) => n.id === selectedNodeId.value)) selectedNodeId.value = null
    } catch (err) {
      if (id === inspect.sessionId) error.value = inspectError(err)
    }
  }

  return { snapshot, error, nodes, selectedNodeId, fetch }
})
