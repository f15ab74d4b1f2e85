// The fake host's dispatch table: what it answers passes the protocol's own reply validation
// (parseReply, through the real client), refusals are the host's error codes, and a kind it has
// no answer for says so instead of replying with nothing.
import { describe, expect, it } from 'vitest'
import { createEngineClient } from './engine-client'
import type { RequestPayload } from '../../shared/protocol'
import { FakeHost } from './fake-host'

const spec: RequestPayload<'session.create'> = {
  model: { hidden: [4] },
  data: { generator: 'circle', n: 100 },
  optimizer: { type: 'sgd', lr: 0.1 },
}

describe('FakeHost', () => {
  it('answers each kind it knows with a result of that kind’s protocol type', async () => {
    const host = new FakeHost()
    const client = createEngineClient(host.transport())
    await expect(client.request('host.hello', {})).resolves.toMatchObject({ protocolVersion: 1 })
    const info = await client.request('session.create', spec)
    const ref = { sessionId: info.state.sessionId }
    await expect(client.request('session.step', { ...ref, steps: 3 })).resolves.toMatchObject({ status: 'paused', step: 3 })
    await expect(client.request('session.info', ref)).resolves.toMatchObject({ state: { step: 3 } })
    await expect(client.request('session.histograms', ref)).resolves.toMatchObject({ step: 3 })
    await expect(client.request('session.boundary', { ...ref, resolution: 8 })).resolves.toMatchObject({ resolution: 8 })
    await expect(client.request('session.predictions', ref)).resolves.toMatchObject({ split: 'test' })
    await expect(client.request('session.dispose', ref)).resolves.toEqual(ref)
    expect(host.kinds()).toEqual([
      'host.hello',
      'session.create',
      'session.step',
      'session.info',
      'session.histograms',
      'session.boundary',
      'session.predictions',
      'session.dispose',
    ])
  })

  it('refuses as the host does: an unknown session, an unavailable backend', async () => {
    const client = createEngineClient(new FakeHost().transport())
    await expect(client.request('session.start', { sessionId: 's9' })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/session\.start: no session s9/),
    })
    await expect(client.request('session.create', { ...spec, backend: 'webgpu' })).rejects.toMatchObject({ code: 'backend_unavailable' })
  })

  it('says when it has no answer for a kind, and an override answers it', async () => {
    const host = new FakeHost()
    const client = createEngineClient(host.transport())
    await expect(client.request('runs.list', {})).rejects.toMatchObject({
      code: 'unknown_kind',
      message: expect.stringMatching(/does not answer runs\.list/),
    })
    host.overrides.set('session.graph', () => ({ error: { code: 'engine', message: 'no graph here' } }))
    await expect(client.request('session.graph', { sessionId: 's1' })).rejects.toMatchObject({ code: 'engine', message: 'no graph here' })
  })
})
