// The Electron relay's logic against a fake ipcMain and fake senders: one channel per request
// kind, the sender checked on each, messages validated for their own kind before the engine.
import { describe, expect, it, vi } from 'vitest'
import { IpcChannel, requestChannel } from '../shared/ipc-channels'
import { DATA_LIMITS } from '../shared/protocol-data'
import { okReply, REQUEST_KINDS, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { registerEngineHandlers, relayEvents, type ClientContents, type EventSink, type IpcMainLike, type RelayEngine } from './ipc-relay'
import { fileOrigin, type SenderFrame } from './security'

const indexUrl = 'file:///opt/app/out/renderer/index.html'
const origin = fileOrigin(indexUrl)
const appFrame: SenderFrame = { url: indexUrl, parent: null }

type Handler = (event: { senderFrame: SenderFrame | null }, ...args: unknown[]) => unknown

function setup(): { handlers: Map<string, Handler>; seen: unknown[]; emit: (m: EventMessage) => void; engine: RelayEngine } {
  const handlers = new Map<string, Handler>()
  const ipc: IpcMainLike = {
    handle: (channel, fn) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, fn)
    },
  }
  const seen: unknown[] = []
  const listeners = new Set<(m: EventMessage) => void>()
  const engine: RelayEngine = {
    request: (msg) => {
      seen.push(msg)
      const m = msg as { id: number; kind: string }
      return Promise.resolve(okReply(m.id, { kind: m.kind }) as ReplyMessage)
    },
    onEvent: (cb) => {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
  }
  registerEngineHandlers(ipc, engine, origin)
  return { handlers, seen, emit: (m) => listeners.forEach((cb) => cb(m)), engine }
}

const call = (h: Handler | undefined, frame: SenderFrame | null, msg: unknown): Promise<ReplyMessage> =>
  Promise.resolve(h?.({ senderFrame: frame }, msg) as ReplyMessage)

describe('engine IPC relay', () => {
  it('relays an upload chunk as bytes (what structured clone gives main) and refuses a bad one', async () => {
    const { handlers, seen } = setup()
    const h = handlers.get(requestChannel('files.upload'))
    const payload = { uploadId: 'uabc123', name: 'x.idx', index: 0, total: 1, bytes: 3, chunk: new Uint8Array([1, 2, 3]) }
    expect(await call(h, appFrame, { v: 1, id: 1, kind: 'files.upload', payload })).toMatchObject({ ok: true })
    expect((seen[0] as { payload: { chunk: Uint8Array } }).payload.chunk).toEqual(new Uint8Array([1, 2, 3]))
    const refused = [
      { ...payload, chunk: [1, 2, 3] },
      { ...payload, chunk: new Uint8Array(DATA_LIMITS.maxChunkBytes + 1) },
      { ...payload, chunk: undefined },
    ]
    for (const p of refused) {
      expect(await call(h, appFrame, { v: 1, id: 2, kind: 'files.upload', payload: p })).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      })
    }
    expect(seen).toHaveLength(1)
  })

  it('registers exactly one channel per request kind, all distinct', () => {
    const { handlers } = setup()
    expect([...handlers.keys()].sort()).toEqual(REQUEST_KINDS.map((k) => requestChannel(k)).sort())
    const channels = REQUEST_KINDS.map((k) => requestChannel(k))
    expect(new Set(channels).size).toBe(REQUEST_KINDS.length)
    expect(channels).not.toContain(IpcChannel.engineEvent)
    expect(channels).not.toContain(IpcChannel.appInfo)
  })

  it('leaves every other channel unhandled: nothing generic, no kind outside the protocol', () => {
    const { handlers } = setup()
    // What a page might try if it could name a channel: a made-up kind, the event channel, a bare
    // prefix, a kind without its prefix. None has a handler (Electron rejects such an invoke).
    for (const channel of ['engine.runs.purge', 'engine.', 'engine', 'engine.*', IpcChannel.engineEvent, 'session.create', 'invoke', '']) {
      expect(handlers.has(channel), channel).toBe(false)
    }
    expect([...handlers.keys()].every((c) => /^engine\.[a-z]+\.[A-Za-z]+$/.test(c))).toBe(true)
  })

  it('refuses, on every channel, a request whose kind is not that channel’s', async () => {
    const { handlers, seen } = setup()
    for (const kind of REQUEST_KINDS) {
      const other = kind === 'host.hello' ? 'session.dispose' : 'host.hello'
      const reply = await call(handlers.get(requestChannel(kind)), appFrame, {
        v: 1,
        id: 9,
        kind: other,
        payload: other === 'host.hello' ? {} : { sessionId: 's1' },
      })
      expect(reply, kind).toMatchObject({ id: 9, ok: false, error: { code: 'invalid_message' } })
    }
    expect(seen).toEqual([])
  })

  it('forwards a valid request from the app page and returns the reply envelope', async () => {
    const { handlers, seen } = setup()
    const msg = { v: 1, id: 42, kind: 'session.start', payload: { sessionId: 's1' } }
    await expect(call(handlers.get(requestChannel('session.start')), appFrame, msg)).resolves.toEqual({
      v: 1,
      id: 42,
      ok: true,
      result: { kind: 'session.start' },
    })
    expect(seen).toEqual([msg])
  })

  it('refuses foreign pages, subframes and destroyed frames without reaching the engine', async () => {
    const { handlers, seen } = setup()
    const msg = { v: 1, id: 3, kind: 'host.hello', payload: {} }
    const h = handlers.get(requestChannel('host.hello'))
    for (const frame of [
      { url: 'https://example.com/', parent: null },
      { url: indexUrl, parent: {} },
      { url: 'file:///etc/passwd', parent: null },
      null,
    ]) {
      const reply = await call(h, frame, msg)
      expect(reply).toMatchObject({ id: 3, ok: false, error: { code: 'invalid_message' } })
      expect(reply.ok ? '' : reply.error.message).toMatch(/not the app page/)
    }
    expect(seen).toEqual([])
  })

  it('validates the payload for its kind and refuses a kind sent on another kind’s channel', async () => {
    const { handlers, seen } = setup()
    const create = handlers.get(requestChannel('session.create'))
    await expect(call(create, appFrame, { v: 1, id: 5, kind: 'session.create', payload: { model: {} } })).resolves.toMatchObject({
      id: 5,
      ok: false,
      error: { code: 'invalid_payload' },
    })
    await expect(call(create, appFrame, { v: 1, id: 6, kind: 'session.dispose', payload: { sessionId: 's1' } })).resolves.toMatchObject({
      id: 6,
      ok: false,
      error: { code: 'invalid_message' },
    })
    await expect(call(create, appFrame, 'not an envelope')).resolves.toMatchObject({ id: 0, ok: false, error: { code: 'invalid_message' } })
    await expect(call(create, appFrame, { v: 9, id: 7, kind: 'session.create', payload: {} })).resolves.toMatchObject({
      id: 7,
      ok: false,
      error: { code: 'version_mismatch' },
    })
    expect(seen).toEqual([])
  })

  it('turns an engine failure into an error reply instead of a rejected invoke', async () => {
    const { handlers, engine } = setup()
    engine.request = () => Promise.reject(new Error('worker gone'))
    await expect(
      call(handlers.get(requestChannel('host.hello')), appFrame, { v: 1, id: 8, kind: 'host.hello', payload: {} }),
    ).resolves.toMatchObject({ id: 8, ok: false, error: { code: 'internal' } })
  })

  it('sends events only to live renderers that show the app page', () => {
    const { engine, emit } = setup()
    const sent: string[] = []
    const sink = (name: string, url: string, destroyed = false): EventSink => ({
      isDestroyed: () => destroyed,
      getURL: () => url,
      send: (channel) => sent.push(`${name}:${channel}`),
    })
    const off = relayEvents(
      engine,
      () => [sink('app', `${indexUrl}#/train`), sink('foreign', 'https://example.com/'), sink('dead', indexUrl, true)],
      origin,
    )
    emit({ v: 1, event: 'host.status', payload: { status: 'restarted', message: 'x' } })
    off()
    emit({ v: 1, event: 'host.status', payload: { status: 'restarted', message: 'y' } })
    expect(sent).toEqual([`app:${IpcChannel.engineEvent}`])
  })

  it('tags requests with a client per window, kept across a reload, released on a crash or close', async () => {
    vi.useFakeTimers()
    const grace = 1_000
    const handlers = new Map<string, (event: { senderFrame: SenderFrame | null; sender?: ClientContents }, ...args: unknown[]) => unknown>()
    const clients: (string | null | undefined)[] = []
    const released: string[] = []
    const engine: RelayEngine = {
      request: (msg, client) => {
        clients.push(client)
        return Promise.resolve(okReply((msg as { id: number }).id, {}) as ReplyMessage)
      },
      onEvent: () => () => undefined,
      release: (client) => released.push(client),
    }
    registerEngineHandlers({ handle: (channel, fn) => handlers.set(channel, fn) }, engine, origin, grace)
    const listeners = new Map<string, (() => void)[]>()
    const contents: ClientContents & { fire(event: string): void } = {
      id: 5,
      on: (event, fn) => listeners.set(event, [...(listeners.get(event) ?? []), fn as () => void]),
      fire: (event) => listeners.get(event)?.forEach((fn) => fn()),
    }
    const hello = (id: number, frame: SenderFrame = appFrame): Promise<unknown> =>
      Promise.resolve(
        handlers.get(requestChannel('host.hello'))?.(
          { senderFrame: frame, sender: contents },
          { v: 1, id, kind: 'host.hello', payload: {} },
        ),
      )
    await hello(1)
    await hello(2)
    contents.fire('did-navigate') // a reload: the reloaded page takes the window's sessions back
    await hello(3)
    expect(released).toEqual([])
    contents.fire('render-process-gone')
    await hello(4)
    contents.fire('destroyed')
    contents.fire('destroyed') // nothing left to release
    expect(clients).toEqual(['wc5.1', 'wc5.1', 'wc5.1', 'wc5.2'])
    expect(released).toEqual(['wc5.1', 'wc5.2'])
    // A reload nobody follows up within the grace period releases the client.
    await hello(6)
    contents.fire('did-navigate')
    expect(released).toEqual(['wc5.1', 'wc5.2'])
    await vi.advanceTimersByTimeAsync(grace)
    expect(released).toEqual(['wc5.1', 'wc5.2', 'wc5.3'])
    // A foreign page never becomes a client.
    await hello(5, { url: 'https://example.com/', parent: null })
    expect(clients).toHaveLength(5)
    vi.useRealTimers()
    // Listeners are added once per window, not once per page.
    expect([...listeners.values()].map((l) => l.length)).toEqual([1, 1, 1])
  })
})
