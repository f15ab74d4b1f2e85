import { describe, expect, it, vi } from 'vitest'
import { PROTOCOL_VERSION, okReply } from '../../shared/protocol'
import { EngineRequestError, createEngineClient, type EngineEvent } from './engine-client'
import { FakeHost, metricsBatch } from './fake-host'
import { TransportError, type Transport } from './transport'

function client(host = new FakeHost()) {
  return { host, client: createEngineClient(host.transport()) }
}

describe('engine client requests', () => {
  it('sends versioned envelopes with increasing ids and returns the validated result', async () => {
    const { host, client: c } = client()
    const hello = await c.request('host.hello', {})
    expect(hello.generators.map((g) => g.name)).toContain('spiral')
    const info = await c.request('session.create', {
      model: { hidden: [4] },
      data: { generator: 'spiral' },
      optimizer: { type: 'sgd', lr: 0.1 },
    })
    // Defaults filled in by the host side schema come back typed.
    expect(info.spec.model.activation).toBe('tanh')
    expect(info.paramCount).toBe(2 * 4 + 4 + 4 * 2 + 2) // spiral: two classes, softmax
    expect(host.requests.map((r) => [r.v, r.id, r.kind])).toEqual([
      [PROTOCOL_VERSION, 1, 'host.hello'],
      [PROTOCOL_VERSION, 2, 'session.create'],
    ])
  })

  it('throws EngineRequestError with the code and message of an error reply', async () => {
    const { host, client: c } = client()
    host.overrides.set('session.start', () => ({ error: { code: 'limit', message: 'session.start: too many sessions' } }))
    const err = await c.request('session.start', { sessionId: 's1' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EngineRequestError)
    expect(err).toMatchObject({ kind: 'session.start', code: 'limit', message: 'session.start: too many sessions' })
  })

  it('rejects a reply whose result does not match the protocol, and reports it', async () => {
    const { host, client: c } = client()
    const problems: string[] = []
    c.onProblem((m) => problems.push(m))
    host.overrides.set('session.pause', () => ({ result: { sessionId: 's1', status: 'sleeping' } }))
    await expect(c.request('session.pause', { sessionId: 's1' })).rejects.toMatchObject({ code: 'invalid_message' })
    expect(problems.join()).toMatch(/reply to session.pause does not match the protocol/)
  })

  it('rejects a reply carrying another request id', async () => {
    const transport: Transport = {
      send: async (m) => okReply(m.id + 7, { sessionId: 's1' }),
      onEvent: () => () => undefined,
      status: () => ({ state: 'open' }),
      onStatus: () => () => undefined,
      close: () => undefined,
    }
    await expect(createEngineClient(transport).request('session.dispose', { sessionId: 's1' })).rejects.toMatchObject({
      code: 'invalid_message',
      message: expect.stringMatching(/id 8, expected 1/),
    })
  })

  it('turns a transport failure into a disconnected error', async () => {
    const transport: Transport = {
      send: () => Promise.reject(new TransportError('connection lost before the reply')),
      onEvent: () => () => undefined,
      status: () => ({ state: 'reconnecting' }),
      onStatus: () => () => undefined,
      close: () => undefined,
    }
    await expect(createEngineClient(transport).request('host.hello', {})).rejects.toMatchObject({
      code: 'disconnected',
      message: 'host.hello: connection lost before the reply',
    })
  })
})

describe('engine client events', () => {
  it('delivers validated events and drops invalid ones with a problem report', () => {
    const { host, client: c } = client()
    const seen: EngineEvent[] = []
    const problems: string[] = []
    c.onEvent((e) => seen.push(e))
    c.onProblem((m) => problems.push(m))
    host.emit('train.metrics', metricsBatch('s1', 1, 3))
    host.emitRaw({ v: PROTOCOL_VERSION, event: 'train.metrics', payload: { sessionId: 's1' } })
    host.emitRaw({ v: PROTOCOL_VERSION, event: 'train.explode', payload: {} })
    host.emitRaw('not an envelope')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.event).toBe('train.metrics')
    expect(problems).toHaveLength(3)
    expect(problems[1]).toMatch(/unknown event "train.explode"/)
  })

  it('unsubscribes from the transport when the last listener leaves', () => {
    const off = vi.fn()
    const onEvent = vi.fn(() => off)
    const transport: Transport = {
      send: vi.fn(),
      onEvent,
      status: () => ({ state: 'open' }),
      onStatus: () => () => undefined,
      close: vi.fn(),
    }
    const c = createEngineClient(transport)
    const a = c.onEvent(() => undefined)
    const b = c.onEvent(() => undefined)
    expect(onEvent).toHaveBeenCalledTimes(1)
    a()
    expect(off).not.toHaveBeenCalled()
    b()
    expect(off).toHaveBeenCalledTimes(1)
  })

  it('passes connection status through from the transport', () => {
    const { host, client: c } = client()
    const seen: string[] = []
    c.onStatus((s) => seen.push(s.state))
    host.setStatus({ state: 'reconnecting', detail: 'dropped' })
    host.setStatus({ state: 'open' })
    expect(seen).toEqual(['reconnecting', 'open'])
    expect(c.status()).toEqual({ state: 'open' })
  })
})
