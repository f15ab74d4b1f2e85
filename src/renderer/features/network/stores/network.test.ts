import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isReactive } from 'vue'
import type { FakeHost } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { inspectHost } from '../../../stores/inspect-host'
import { useSessionStore } from '../../../stores/session'
import { THUMBNAILS, useNetworkStore } from './network'

let host: FakeHost

async function ready() {
  const session = useSessionStore()
  await session.init()
  await vi.advanceTimersByTimeAsync(0)
  return { session, network: useNetworkStore() }
}

beforeEach(() => {
  vi.useFakeTimers()
  host = inspectHost()
  setActivePinia(createPinia())
})
afterEach(() => {
  setEngineClient(null)
  vi.useRealTimers()
})

describe('network store', () => {
  it('fetches the network snapshot of the current session and keeps it out of deep reactivity', async () => {
    const { session, network } = await ready()
    const id = session.info!.state.sessionId
    await network.fetch(500)
    expect(host.last('session.network')!.payload).toEqual({ sessionId: id, maxEdgesPerLayer: 500 })
    expect(isReactive(network.snapshot)).toBe(false)
    expect(network.snapshot?.layers).toHaveLength(3)
  })

  it('asks for a neuron map of layer column−1; input features have none', async () => {
    const { network } = await ready()
    network.selectNeuron({ column: 2, index: 5 })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.last('session.neuronMap')!.payload).toMatchObject({ layer: 1, neuron: 5 })
    expect(network.neuronMap).toMatchObject({ column: 2, index: 5, resolution: 4 })
    const before = host.kinds().length
    network.selectNeuron({ column: 0, index: 1 })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.kinds().length).toBe(before)
    expect(network.neuronMap).toBeNull()
  })

  it('asks for every neuron’s thumbnail map in one request, and keeps an error to show', async () => {
    const { session, network } = await ready()
    const id = session.info!.state.sessionId
    const reply = { sessionId: id, step: 0, resolution: 4, xRange: [-1, 1], yRange: [-1, 1], columns: [], sampled: false }
    host.overrides.set('session.neuronMaps', () => ({ result: reply }))
    await network.fetchMaps()
    expect(host.last('session.neuronMaps')!.payload).toEqual({ sessionId: id, ...THUMBNAILS })
    expect(network.maps).toEqual(reply)
    host.overrides.set('session.neuronMaps', () => ({ error: { code: 'invalid_payload', message: 'session.neuronMaps: no plane' } }))
    await network.fetchMaps()
    expect(network.mapsError).toContain('no plane')
  })
})
