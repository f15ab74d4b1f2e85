// What the network and graph views inspect: the latest snapshots of the current session (plain
// data behind shallowRefs: the views redraw from them, Vue never walks their arrays), the selected
// graph node and neuron, and gradient checks on demand. Snapshots are dropped when the session
// changes, so a view never shows one model's numbers over another model's structure.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { EngineRequestError, getEngineClient } from '../engine'
import { useSessionStore } from './session'

type GraphSnapshot = RequestResult<'session.graph'>
type NetworkSnapshot = RequestResult<'session.network'>
type NeuronMap = RequestResult<'session.neuronMap'>
type GradcheckResult = RequestResult<'session.gradcheck'>

export type GradcheckState =
  | { status: 'running' }
  | { status: 'done'; result: GradcheckResult; step: number }
  | { status: 'error'; message: string }

/** The neuron clicked in the network view: its column (0 = input features, c = layer c−1's outputs). */
export interface NeuronRef {
  column: number
  index: number
}

/** Relative errors below these get ✓ and ≈; above, ✗ (float64 central differences on the host). */
export const GRADCHECK_GOOD = 1e-6
export const GRADCHECK_OK = 1e-4

export function gradcheckVerdict(relError: number): { mark: '✓' | '≈' | '✗'; words: string } {
  if (relError < GRADCHECK_GOOD) return { mark: '✓', words: 'matches finite differences' }
  if (relError < GRADCHECK_OK) return { mark: '≈', words: 'close (a kink nearby?)' }
  return { mark: '✗', words: 'disagrees with finite differences' }
}

function describe(err: unknown): string {
  if (err instanceof EngineRequestError) return err.code === 'disconnected' ? `Not connected to the engine: ${err.message}` : err.message
  return err instanceof Error ? err.message : String(err)
}

export const useInspectStore = defineStore('inspect', () => {
  const session = useSessionStore()
  const client = getEngineClient()

  const graph = shallowRef<GraphSnapshot | null>(null)
  const graphError = ref<string | null>(null)
  /** Graph nodes by id: each drawn node looks itself up here when the numbers change. */
  const graphNodes = computed(() => new Map((graph.value?.nodes ?? []).map((n) => [n.id, n])))
  const network = shallowRef<NetworkSnapshot | null>(null)
  const networkError = ref<string | null>(null)
  const selectedNodeId = ref<number | null>(null)
  const selectedNeuron = ref<NeuronRef | null>(null)
  const neuronMap = shallowRef<(NeuronMap & NeuronRef) | null>(null)
  const neuronMapError = ref<string | null>(null)
  const gradchecks = ref<Record<string, GradcheckState>>({})

  /** The session the views should show: none while a structural edit waits for its rebuild. */
  const sessionId = computed(() => (session.stale ? null : (session.info?.state.sessionId ?? null)))
  const step = computed(() => session.state?.step ?? 0)

  watch(sessionId, () => {
    graph.value = null
    network.value = null
    graphError.value = networkError.value = neuronMapError.value = null
    selectedNodeId.value = null
    selectedNeuron.value = null
    neuronMap.value = null
    gradchecks.value = {}
  })

  async function fetchGraph(batchSize = 4): Promise<void> {
    const id = sessionId.value
    if (!id) return
    try {
      const snap = await client.request('session.graph', { sessionId: id, batchSize })
      if (id !== sessionId.value) return
      graph.value = snap
      graphError.value = null
      if (selectedNodeId.value !== null && !snap.nodes.some((n) => n.id === selectedNodeId.value)) selectedNodeId.value = null
    } catch (err) {
      if (id === sessionId.value) graphError.value = describe(err)
    }
  }

  async function fetchNetwork(maxEdgesPerLayer: number): Promise<void> {
    const id = sessionId.value
    if (!id) return
    try {
      const snap = await client.request('session.network', { sessionId: id, maxEdgesPerLayer })
      if (id !== sessionId.value) return
      network.value = snap
      networkError.value = null
    } catch (err) {
      if (id === sessionId.value) networkError.value = describe(err)
    }
  }

  let mapTicket = 0
  /** The selected neuron's output over the 2-D input plane; the latest click wins. Input features
   *  have no map (the host maps layer outputs; a feature is its own formula). */
  async function fetchNeuronMap(resolution = 40): Promise<void> {
    const id = sessionId.value
    const which = selectedNeuron.value
    if (!id || !which || which.column === 0) return
    const ticket = ++mapTicket
    try {
      const map = await client.request('session.neuronMap', { sessionId: id, layer: which.column - 1, neuron: which.index, resolution })
      if (ticket !== mapTicket || id !== sessionId.value) return
      neuronMap.value = { ...map, ...which }
      neuronMapError.value = null
    } catch (err) {
      if (ticket === mapTicket) neuronMapError.value = describe(err)
    }
  }

  function selectNeuron(which: NeuronRef | null): void {
    selectedNeuron.value = which
    neuronMap.value = null
    neuronMapError.value = null
    if (which) void fetchNeuronMap()
  }

  async function checkGradient(param: string, maxElements = 50): Promise<void> {
    const id = sessionId.value
    if (!id || gradchecks.value[param]?.status === 'running') return
    const atStep = step.value
    gradchecks.value = { ...gradchecks.value, [param]: { status: 'running' } }
    let next: GradcheckState
    try {
      next = { status: 'done', result: await client.request('session.gradcheck', { sessionId: id, param, maxElements }), step: atStep }
    } catch (err) {
      next = { status: 'error', message: describe(err) }
    }
    if (id === sessionId.value) gradchecks.value = { ...gradchecks.value, [param]: next }
  }

  return {
    graph, graphError, graphNodes, network, networkError, selectedNodeId, selectedNeuron, neuronMap, neuronMapError, gradchecks, sessionId, step,
    fetchGraph, fetchNetwork, fetchNeuronMap, selectNeuron, checkGradient,
  }
})
