// For the inspect stores' tests (shared, graph, network): a fake host that answers the inspect
// requests with the fixtures.
import { createEngineClient } from '../engine/engine-client'
import { FakeHost } from '../engine/fake-host'
import { setEngineClient } from '../engine'
import { mlpGraph, networkFixture } from './inspect-fixtures'

export const MAP = { resolution: 4, xRange: [-1, 1], yRange: [-1, 1], values: Array(16).fill(0.5), min: 0.5, max: 0.5 }
export const CHECK = {
  param: 'layers.1.weight',
  maxRelError: 3e-11,
  maxAbsError: 1e-12,
  checked: 50,
  total: 100,
  samples: [],
  method: 'central differences',
}

/** A fake host with the inspect requests answered, set as the engine client. */
export function inspectHost(): FakeHost {
  const host = new FakeHost()
  const sid = (m: { payload: unknown }) => (m.payload as { sessionId: string }).sessionId
  host.overrides.set('session.graph', (m) => ({ result: { ...mlpGraph(), sessionId: sid(m) } }))
  host.overrides.set('session.network', (m) => ({ result: { ...networkFixture(), sessionId: sid(m) } }))
  host.overrides.set('session.neuronMap', () => ({ result: MAP }))
  host.overrides.set('session.gradcheck', () => ({ result: CHECK }))
  setEngineClient(createEngineClient(host.transport()))
  return host
}
