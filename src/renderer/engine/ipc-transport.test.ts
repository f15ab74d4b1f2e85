import { describe, expect, it, vi } from 'vitest'
import { REQUEST_KINDS, eventMessage, okReply, type RequestMessage } from '../../shared/protocol'
import { createEngineClient } from './engine-client'
import { bridgeFunctionName } from '../../shared/bridge'
import { createIpcTransport, isEngineBridge, type EngineBridge } from './ipc-transport'

function fakeBridge() {
  const listeners = new Set<(raw: unknown) => void>()
  const calls: Array<[string, RequestMessage]> = []
  const fns = Object.fromEntries(
    REQUEST_KINDS.map(bridgeFunctionName).map((name) => [
      name,
      (m: RequestMessage) => (calls.push([name, m]), Promise.resolve(okReply(m.id, { sessionId: 's1' }))),
    ]),
  )
  const bridge = {
    ...fns,
    onEvent: (cb: (raw: unknown) => void) => (listeners.add(cb), () => void listeners.delete(cb)),
  } as unknown as EngineBridge
  return { bridge, calls, listeners }
}

describe('IPC transport', () => {
  it('has a bridge function for every request kind, each its own', () => {
    const names = REQUEST_KINDS.map(bridgeFunctionName)
    expect(new Set(names).size).toBe(REQUEST_KINDS.length)
    for (const name of names) expect(name).toMatch(/^[a-z]+[A-Z][A-Za-z]*$/)
  })

  it('calls the named bridge function with the whole envelope', async () => {
    const { bridge, calls } = fakeBridge()
    const client = createEngineClient(createIpcTransport(bridge))
    await expect(client.request('session.dispose', { sessionId: 's1' })).resolves.toEqual({ sessionId: 's1' })
    expect(calls).toEqual([['sessionDispose', { v: 1, id: 1, kind: 'session.dispose', payload: { sessionId: 's1' } }]])
  })

  it('forwards bridge events, validated by the client', () => {
    const { bridge, listeners } = fakeBridge()
    const client = createEngineClient(createIpcTransport(bridge))
    const seen: string[] = []
    const off = client.onEvent((e) => seen.push(e.event))
    for (const l of listeners) l(eventMessage('host.status', { status: 'crashed', message: 'worker exited with code 1' }))
    expect(seen).toEqual(['host.status'])
    off()
    expect(listeners.size).toBe(0)
  })

  it('reports a failing IPC call as disconnected', async () => {
    const { bridge } = fakeBridge()
    ;(bridge as unknown as Record<string, unknown>)['hostHello'] = vi.fn(() => Promise.reject(new Error('Error invoking remote method')))
    const client = createEngineClient(createIpcTransport(bridge))
    await expect(client.request('host.hello', {})).rejects.toMatchObject({ code: 'disconnected' })
  })

  it('recognises a bridge by shape, not by presence', () => {
    expect(isEngineBridge(fakeBridge().bridge)).toBe(true)
    expect(isEngineBridge({ hostHello: () => undefined })).toBe(false)
    expect(isEngineBridge(undefined)).toBe(false)
  })
})
