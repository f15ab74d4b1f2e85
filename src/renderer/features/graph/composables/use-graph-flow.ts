// Turns graph snapshots into Vue Flow nodes and edges. Nodes carry only their id and position:
// the drawn cards read live numbers from the store, so a new snapshot with the same structure
// moves nothing; a new structure (another model) is laid out again.
import { MarkerType, type Edge, type Node } from '@vue-flow/core'
import { computed, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { gradColor } from './use-graph-colors'
import { layoutGraph, nodeSize, structureKey } from './use-graph-layout'

type GraphSnapshot = RequestResult<'session.graph'>

const NO_GRAD = '#4a5062'

/** Edges coloured by the gradient flowing back into their source (grey where none flows). */
export function flowEdges(s: GraphSnapshot): Edge[] {
  const byId = new Map(s.nodes.map((n) => [n.id, n]))
  return s.edges.map((e) => {
    const from = byId.get(e.from)
    const color = (from && gradColor(from)) ?? NO_GRAD
    const flows = from?.grad != null
    return {
      id: `e${e.from}-${e.to}-${e.inputIndex}`,
      source: String(e.from),
      target: String(e.to),
      type: 'default',
      class: flows ? 'grad-edge' : 'no-grad-edge',
      style: { stroke: color, strokeWidth: flows ? 2 : 1.25 },
      markerEnd: { type: MarkerType.ArrowClosed, color, width: 14, height: 14 },
    }
  })
}

export function useGraphFlow(snapshot: () => GraphSnapshot | null, viewport: () => { width: number; height: number }) {
  const nodes = shallowRef<Node[]>([])
  const layoutKey = shallowRef<string | null>(null)
  const laying = ref(false)
  const layoutError = ref<string | null>(null)
  let ticket = 0
  let pending: string | null = null

  async function relayout(s: GraphSnapshot, key: string): Promise<void> {
    const mine = ++ticket
    pending = key
    laying.value = true
    try {
      const boxes = await layoutGraph(s, { viewport: viewport() })
      if (mine !== ticket) return
      nodes.value = s.nodes.map((n) => {
        const box = boxes.get(n.id) ?? { x: 0, y: 0 }
        return { id: String(n.id), type: 'tensor', position: { x: box.x, y: box.y }, data: {}, ...nodeSize(n) }
      })
      layoutKey.value = key
      layoutError.value = null
    } catch (err) {
      if (mine === ticket) layoutError.value = `Layout failed: ${err instanceof Error ? err.message : String(err)}`
    } finally {
      if (mine === ticket) {
        laying.value = false
        pending = null
      }
    }
  }

  watch(
    snapshot,
    (s) => {
      if (!s) {
        ticket++
        nodes.value = []
        layoutKey.value = pending = null
        return
      }
      const key = structureKey(s)
      if (key !== layoutKey.value && key !== pending) void relayout(s, key)
    },
    { immediate: true },
  )

  const edges = computed<Edge[]>(() => {
    const s = snapshot()
    return s && layoutKey.value === structureKey(s) ? flowEdges(s) : []
  })

  return { nodes, edges, layoutKey, laying, layoutError }
}
