import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isReactive } from 'vue'
import { mlpGraph } from '../../../stores/inspect-fixtures'
import type { FakeHost } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { inspectHost } from '../../../stores/inspect-host'
import { REBUILD_DELAY_MS, useSessionStore } from '../../../stores/session'
import { useFormStore } from '../../../stores/form'
import { useInspectStore } from '../../../stores/inspect'
import { useGraphStore } from './graph'

let host: FakeHost

async function ready() {
  const session = useSessionStore()
  await session.init()
  await vi.advanceTimersByTimeAsync(0)
  return { session, inspect: useInspectStore(), graph: useGraphStore() }
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

describe('graph store', () => {
  it('fetches the graph snapshot of the current session and keeps it out of deep reactivity', async () => {
    const { session, graph } = await ready()
    const id = session.info!.state.sessionId
    await graph.fetch(4)
    expect(host.last('session.graph')!.payload).toEqual({ sessionId: id, batchSize: 4 })
    expect(graph.snapshot?.nodes.length).toBe(mlpGraph().nodes.length)
    expect(graph.nodes.get(graph.snapshot!.rootId)?.kind).toBe('loss')
    expect(isReactive(graph.snapshot)).toBe(false)
  })

  it('drops the snapshot and the selection when the session is rebuilt, and ignores replies for the old one', async () => {
    const { inspect, graph } = await ready()
    await graph.fetch()
    graph.selectedNodeId = 3
    useFormStore().form.hidden = [4]
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.sessionId).toBeNull() // stale: the rebuild is pending
    expect(graph.snapshot).toBeNull()
    expect(graph.selectedNodeId).toBeNull()
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + 10)
    expect(inspect.sessionId).toBe('s2')
  })

  it('turns host errors into messages for the view instead of throwing', async () => {
    host.overrides.set('session.graph', () => ({ error: { code: 'not_found', message: 'session.graph: no session s1' } }))
    const { graph } = await ready()
    await graph.fetch()
    expect(graph.error).toBe('session.graph: no session s1')
  })
})
