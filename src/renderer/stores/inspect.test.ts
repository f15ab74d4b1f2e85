import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isReactive } from 'vue'
import { GraphSnapshot, NetworkSnapshot } from '../../shared/protocol-inspect'
import { mlpGraph, networkFixture } from './inspect-fixtures'
import { createEngineClient } from '../engine/engine-client'
import { FakeHost } from '../engine/fake-host'
import { setEngineClient } from '../engine'
import { REBUILD_DELAY_MS, useSessionStore } from './session'
import { useFormStore } from './form'
import { gradcheckVerdict, useInspectStore } from './inspect'

let host: FakeHost

const MAP = { resolution: 4, xRange: [-1, 1], yRange: [-1, 1], values: Array(16).fill(0.5), min: 0.5, max: 0.5 }
const CHECK = { param: 'layers.1.weight', maxRelError: 3e-11, maxAbsError: 1e-12, checked: 50, total: 100, samples: [], method: 'central differences' }

async function ready() {
  const session = useSessionStore()
  await session.init()
  await vi.advanceTimersByTimeAsync(0)
  return { session, inspect: useInspectStore() }
}

beforeEach(() => {
  vi.useFakeTimers()
  host = new FakeHost()
  const sid = (m: { payload: unknown }) => (m.payload as { sessionId: string }).sessionId
  host.overrides.set('session.graph', (m) => ({ result: { ...mlpGraph(), sessionId: sid(m) } }))
  host.overrides.set('session.network', (m) => ({ result: { ...networkFixture(), sessionId: sid(m) } }))
  host.overrides.set('session.neuronMap', () => ({ result: MAP }))
  host.overrides.set('session.gradcheck', () => ({ result: CHECK }))
  setEngineClient(createEngineClient(host.transport()))
  setActivePinia(createPinia())
})
afterEach(() => {
  setEngineClient(null)
  vi.useRealTimers()
})

describe('inspect fixtures', () => {
  it('are valid protocol snapshots (the views are tested against the real contract)', () => {
    expect(GraphSnapshot.safeParse(mlpGraph({ hidden: [16, 16, 16], activation: 'relu' })).success).toBe(true)
    expect(NetworkSnapshot.safeParse(networkFixture([2, 64, 64, 2], 500)).success).toBe(true)
  })
})

describe('inspect store', () => {
  it('fetches snapshots of the current session and keeps them out of deep reactivity', async () => {
    const { session, inspect } = await ready()
    const id = session.info!.state.sessionId
    await inspect.fetchGraph(4)
    await inspect.fetchNetwork(500)
    expect(host.last('session.graph')!.payload).toEqual({ sessionId: id, batchSize: 4 })
    expect(host.last('session.network')!.payload).toEqual({ sessionId: id, maxEdgesPerLayer: 500 })
    expect(inspect.graph?.nodes.length).toBe(mlpGraph().nodes.length)
    expect(inspect.graphNodes.get(inspect.graph!.rootId)?.kind).toBe('loss')
    expect(isReactive(inspect.graph)).toBe(false)
    expect(isReactive(inspect.network)).toBe(false)
    expect(inspect.network?.layers).toHaveLength(3)
  })

  it('drops every snapshot and check when the session is rebuilt, and ignores replies for the old one', async () => {
    const { session, inspect } = await ready()
    await inspect.fetchGraph()
    await inspect.checkGradient('layers.1.weight')
    inspect.selectedNodeId = 3
    useFormStore().form.hidden = [4]
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.sessionId).toBeNull() // stale: the rebuild is pending
    expect(inspect.graph).toBeNull()
    expect(inspect.gradchecks).toEqual({})
    expect(inspect.selectedNodeId).toBeNull()
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + 10)
    expect(inspect.sessionId).toBe('s2')
  })

  it('asks for a neuron map of layer column−1; input features have none', async () => {
    const { inspect } = await ready()
    inspect.selectNeuron({ column: 2, index: 5 })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.last('session.neuronMap')!.payload).toMatchObject({ layer: 1, neuron: 5 })
    expect(inspect.neuronMap).toMatchObject({ column: 2, index: 5, resolution: 4 })
    const before = host.kinds().length
    inspect.selectNeuron({ column: 0, index: 1 })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.kinds().length).toBe(before)
    expect(inspect.neuronMap).toBeNull()
  })

  it('a gradient check runs once at a time and records the step it was run at', async () => {
    const { inspect } = await ready()
    const first = inspect.checkGradient('layers.1.weight')
    expect(inspect.gradchecks['layers.1.weight']).toEqual({ status: 'running' })
    await inspect.checkGradient('layers.1.weight') // ignored while running
    await first
    expect(host.kinds().filter((k) => k === 'session.gradcheck')).toHaveLength(1)
    expect(inspect.gradchecks['layers.1.weight']).toEqual({ status: 'done', result: CHECK, step: 0 })
  })

  it('turns host errors into messages for the view instead of throwing', async () => {
    host.overrides.set('session.graph', () => ({ error: { code: 'not_found', message: 'session.graph: no session s1' } }))
    host.overrides.set('session.gradcheck', () => ({ error: { code: 'not_found', message: 'session.gradcheck: no parameter "x"' } }))
    const { inspect } = await ready()
    await inspect.fetchGraph()
    expect(inspect.graphError).toBe('session.graph: no session s1')
    await inspect.checkGradient('x')
    expect(inspect.gradchecks['x']).toEqual({ status: 'error', message: 'session.gradcheck: no parameter "x"' })
  })
})

describe('gradient check verdicts', () => {
  it('✓ below 1e-6, ≈ below 1e-4, ✗ above', () => {
    expect(gradcheckVerdict(3e-11).mark).toBe('✓')
    expect(gradcheckVerdict(5e-6).mark).toBe('≈')
    expect(gradcheckVerdict(0.02).mark).toBe('✗')
  })
})
