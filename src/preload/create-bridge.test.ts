// The preload's API, derived from the protocol's request table, as a pure function against a fake
// ipcRenderer: one named function per request kind on its own fixed channel, nothing the page
// passes chooses a channel or a kind, and ipcRenderer never crosses. preload-bundle.test.ts checks
// the same on the built preload.
import { describe, expect, it } from 'vitest'
import { bridgeFunctionName, type BridgeFunctionName } from '../shared/bridge'
import { IpcChannel, requestChannel } from '../shared/ipc-channels'
import { REQUEST_KINDS, type EventMessage } from '../shared/protocol'
import { createBridge } from './create-bridge'
import { fakeIpcRenderer, HOSTILE_ARGUMENTS } from './test-helpers'

describe('preload API derived from the request table', () => {
  it('keeps every request kind in the `domain.name` shape the names and channels are derived from', () => {
    for (const kind of REQUEST_KINDS) expect(kind).toMatch(/^[a-z]+\.[a-z][A-Za-z]*$/)
    const sample: BridgeFunctionName<'session.create'> = bridgeFunctionName('session.create')
    expect(sample).toBe('sessionCreate')
    expect(bridgeFunctionName('session.importWeights')).toBe('sessionImportWeights')
    expect(requestChannel('runs.list')).toBe('engine.runs.list')
  })

  it('has exactly one function per request kind, on exactly one channel of its own', async () => {
    const { ipc, invoked } = fakeIpcRenderer()
    const bridge = createBridge(ipc, REQUEST_KINDS, '1.2.3') as unknown as Record<string, unknown>
    const names = REQUEST_KINDS.map(bridgeFunctionName)
    expect(Object.keys(bridge).sort()).toEqual(
      ['copyLink', 'getAppInfo', 'onEvent', 'onOpenLink', 'takeOpenLink', 'version', ...names].sort(),
    )
    expect(new Set(names).size).toBe(REQUEST_KINDS.length)
    for (const kind of REQUEST_KINDS) {
      const fn = bridge[bridgeFunctionName(kind)] as (m: unknown) => Promise<unknown>
      await expect(fn({ v: 1, id: 7, kind, payload: {} })).resolves.toEqual({
        v: 1,
        id: 7,
        ok: true,
        result: { channel: requestChannel(kind) },
      })
    }
    expect(invoked.map((c) => c.channel)).toEqual(REQUEST_KINDS.map((k) => requestChannel(k)))
    expect(new Set(invoked.map((c) => c.channel)).size).toBe(REQUEST_KINDS.length)
  })

  it('takes no channel name: whatever the page passes, each function sends its own kind on its own channel', async () => {
    const { ipc, invoked } = fakeIpcRenderer()
    const bridge = createBridge(ipc, REQUEST_KINDS, '1.2.3') as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    for (const kind of REQUEST_KINDS) {
      for (const args of HOSTILE_ARGUMENTS) {
        invoked.length = 0
        await bridge[bridgeFunctionName(kind)]!(...args)
        expect(invoked).toHaveLength(1)
        expect(invoked[0]!.channel).toBe(requestChannel(kind))
        // Exactly one argument crosses: the envelope, rebuilt from its four fields with the fixed kind.
        expect(invoked[0]!.args).toHaveLength(1)
        const sent = invoked[0]!.args[0] as Record<string, unknown>
        expect(Object.keys(sent).sort()).toEqual(['id', 'kind', 'payload', 'v'])
        expect(sent['kind']).toBe(kind)
      }
    }
    // The other entries are fixed too: getAppInfo ignores its arguments, onEvent takes a listener.
    invoked.length = 0
    await (bridge['getAppInfo'] as (...a: unknown[]) => Promise<unknown>)('engine.runs.delete', {})
    expect(invoked).toEqual([{ channel: IpcChannel.appInfo, args: [] }])
    // copyLink passes one string, whatever the page hands it (main checks that it is a link).
    invoked.length = 0
    await (bridge['copyLink'] as (...a: unknown[]) => Promise<unknown>)({ toString: () => 'text' }, 'engine.runs.delete')
    expect(invoked).toEqual([{ channel: IpcChannel.copyLink, args: ['text'] }])
    expect(() => (bridge['onEvent'] as (...a: unknown[]) => unknown)('engine.runs.delete')).toThrow(TypeError)
    expect(() => (bridge['onOpenLink'] as (...a: unknown[]) => unknown)('engine.runs.delete')).toThrow(TypeError)
    // takeOpenLink asks its one channel, with nothing from the page.
    invoked.length = 0
    await (bridge['takeOpenLink'] as (...a: unknown[]) => Promise<unknown>)('engine.runs.delete', {})
    expect(invoked).toEqual([{ channel: IpcChannel.takeOpenLink, args: [] }])
  })

  it('never hands the page ipcRenderer or one of its methods', () => {
    const { ipc } = fakeIpcRenderer()
    const values = Object.values(createBridge(ipc, REQUEST_KINDS, '1.2.3'))
    for (const leaked of [ipc, ipc.invoke, ipc.on, ipc.removeListener]) expect(values).not.toContain(leaked)
  })

  it('answers a failed IPC call with an error reply under the same id instead of rejecting', async () => {
    const { ipc } = fakeIpcRenderer(true)
    const bridge = createBridge(ipc, REQUEST_KINDS, '1.2.3')
    await expect(bridge.sessionStart({ v: 1, id: 12, kind: 'session.start', payload: { sessionId: 's1' } })).resolves.toEqual({
      v: 1,
      id: 12,
      ok: false,
      error: { code: 'internal', message: 'IPC failed: No handler registered' },
    })
  })

  it('relays only the event message to the page, and unsubscribes', () => {
    const { ipc, listeners } = fakeIpcRenderer()
    const bridge = createBridge(ipc, REQUEST_KINDS, '1.2.3')
    const seen: unknown[][] = []
    const off = bridge.onEvent((...args: unknown[]) => seen.push(args))
    const msg: EventMessage = { v: 1, event: 'host.status', payload: { status: 'restarted', message: 'x' } }
    for (const fn of listeners.get(IpcChannel.engineEvent) ?? []) fn({ sender: 'ipc internals' }, msg)
    expect(seen).toEqual([[msg]])
    off()
    expect(listeners.get(IpcChannel.engineEvent)?.size).toBe(0)
  })

  it('relays a deep link to the page as a string alone (nothing else that arrives), and unsubscribes', () => {
    const { ipc, listeners } = fakeIpcRenderer()
    const bridge = createBridge(ipc, REQUEST_KINDS, '1.2.3')
    const seen: unknown[][] = []
    const off = bridge.onOpenLink((...args: unknown[]) => seen.push(args))
    const send = (value: unknown) => {
      for (const fn of listeners.get(IpcChannel.openLink) ?? [])
        (fn as (e: unknown, v: unknown) => void)({ sender: 'ipc internals' }, value)
    }
    send('backprop-studio://open#x=1.e30')
    send({ toString: () => 'x' })
    expect(seen).toEqual([['backprop-studio://open#x=1.e30']])
    off()
    expect(listeners.get(IpcChannel.openLink)?.size).toBe(0)
  })

  it('refuses a list in which two kinds would share a function', () => {
    const { ipc } = fakeIpcRenderer()
    expect(() => createBridge(ipc, ['host.hello', 'host.hello'], '1')).toThrow(/hostHello/)
  })
})
