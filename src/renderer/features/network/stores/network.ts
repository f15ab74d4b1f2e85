// The network view's data: the latest session.network snapshot of the inspected session (plain
// data behind a shallowRef), every neuron's thumbnail map, the neuron clicked and its larger map
// over the input plane. All dropped when the session changes.
import { defineStore } from 'pinia'
import { ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient } from '../../../engine'
import { inspectError, useInspectStore } from '../../../stores/inspect'

type NetworkSnapshot = RequestResult<'session.network'>
type NeuronMap = RequestResult<'session.neuronMap'>
type NeuronMaps = RequestResult<'session.neuronMaps'>

/** What the thumbnails ask for: a coarse grid, up to 8 maps a column (~8 layers × 8 units in all). */
export const THUMBNAILS = { resolution: 16, maxPerColumn: 8, maxMaps: 96 } as const

/** The neuron clicked in the network view: its column (0 = input features, c = layer c−1's outputs). */
export interface NeuronRef {
  column: number
  index: number
}

export const useNetworkStore = defineStore('network', () => {
  const inspect = useInspectStore()
  const client = getEngineClient()

  const snapshot = shallowRef<NetworkSnapshot | null>(null)
  const error = ref<string | null>(null)
  const selectedNeuron = ref<NeuronRef | null>(null)
  const neuronMap = shallowRef<(NeuronMap & NeuronRef) | null>(null)
  const neuronMapError = ref<string | null>(null)
  const maps = shallowRef<NeuronMaps | null>(null)
  const mapsError = ref<string | null>(null)

  watch(
    () => inspect.sessionId,
    () => {
      snapshot.value = null
      error.value = neuronMapError.value = mapsError.value = null
      selectedNeuron.value = null
      neuronMap.value = null
      maps.value = null
    },
  )

  async function fetch(maxEdgesPerLayer: number): Promise<void> {
    const id = inspect.sessionId
    if (!id) return
    try {
      const snap = await client.request('session.network', { sessionId: id, maxEdgesPerLayer })
      if (id !== inspect.sessionId) return
      snapshot.value = snap
      error.value = null
    } catch (err) {
      if (id === inspect.sessionId) error.value = inspectError(err)
    }
  }

  /** Every neuron's thumbnail map (a sample of wide columns), from one request. */
  async function fetchMaps(): Promise<void> {
    const id = inspect.sessionId
    if (!id) return
    try {
      const m = await client.request('session.neuronMaps', { sessionId: id, ...THUMBNAILS })
      if (id !== inspect.sessionId) return
      maps.value = m
      mapsError.value = null
    } catch (err) {
      if (id === inspect.sessionId) mapsError.value = inspectError(err)
    }
  }

  let mapTicket = 0
  /** The selected neuron's output over the 2-D input plane; the latest click wins. Input features
   *  have no map (the host maps layer outputs; a feature is its own formula). */
  async function fetchNeuronMap(resolution = 40): Promise<void> {
    const id = inspect.sessionId
    const which = selectedNeuron.value
    if (!id || !which || which.column === 0) return
    const ticket = ++mapTicket
    try {
      const map = await client.request('session.neuronMap', { sessionId: id, layer: which.column - 1, neuron: which.index, resolution })
      if (ticket !== mapTicket || id !== inspect.sessionId) return
      neuronMap.value = { ...map, ...which }
      neuronMapError.value = null
    } catch (err) {
      if (ticket === mapTicket) neuronMapError.value = inspectError(err)
    }
  }

  function selectNeuron(which: NeuronRef | null): void {
    selectedNeuron.value = which
    neuronMap.value = null
    neuronMapError.value = null
    if (which) void fetchNeuronMap()
  }

  return { snapshot, error, selectedNeuron, neuronMap, neuronMapError, maps, mapsError, fetch, fetchMaps, fetchNeuronMap, selectNeuron }
})
