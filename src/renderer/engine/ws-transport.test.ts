import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PROTOCOL_VERSION, errorReply, eventMessage, okReply, type RequestMessage } from '../../shared/protocol'
import { decodeBinaryRequest } from '../../shared/binary-frame'
import { createEngineClient } from './engine-client'
import { metricsBatch } from './fake-host'
import { createWsTransport, engineSocketUrl, takeTokenFromAddressBar, withResumeKey } from './ws-transport'

/** Just enough of a browser WebSocket: the test opens, answers and closes it by hand. */
class FakeSocket {
  static all: FakeSocket[] = []
  readyState = 0
  sent: RequestMessage[] = []
  onopen: (() => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  constructor(readonly url: string) {
    FakeSocket.all.push(this)
  }
  send(data: string | Uint8Array): void {
    if (typeof data === 'string') return void this.sent.push(JSON.parse(data) as RequestMessage)
    const frame = decodeBinaryRequest(data)
    if (!frame.ok) throw new Error(frame.message)
    this.sent.push({ ...(frame.message as unknown as RequestMessage), binaryFrame: true } as RequestMessage)
  }
  close(): void {
    this.drop(1000, '')
  }
  open(): void {
    this.readyState = 1
    this.onopen?.()
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) })
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

const latest = () => FakeSocket.all.at(-1)!

function setup(openWaitMs = 1000) {
  const transport = createWsTransport({
    url: 'ws://127.0.0.1:4173/ws?token=t',
    WebSocketImpl: FakeSocket as unknown as new (url: string) => WebSocket,
    openWaitMs,
  })
  return { transport, client: createEngineClient(transport) }
}

beforeEach(() => {
  FakeSocket.all = []
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('WebSocket transport', () => {
  it('sends a request that carries bytes (an upload chunk) as one binary frame, the rest as JSON text', async () => {
    const { client } = setup()
    latest().open()
    const chunk = new Uint8Array([0, 1, 2, 255])
    const payload = { uploadId: 'uabc123', name: 'x.idx', index: 0, total: 1, bytes: 4, chunk }
    void client.request('files.upload', payload)
    void client.request('session.pause', { sessionId: 's4' })
    expect(latest().sent).toEqual([
      { v: PROTOCOL_VERSION, id: 1, kind: 'files.upload', payload, binaryFrame: true },
      { v: PROTOCOL_VERSION, id: 2, kind: 'session.pause', payload: { sessionId: 's4' } },
    ])
  })

  it('queues requests until the socket opens, then correlates replies by id', async () => {
    const { client } = setup()
    const hello = client.request('session.dispose', { sessionId: 's4' })
    const pause = client.request('session.pause', { sessionId: 's4' })
    expect(latest().sent).toEqual([])
    latest().open()
    expect(latest().sent.map((m) => [m.id, m.kind])).toEqual([
      [1, 'session.dispose'],
      [2, 'session.pause'],
    ])
    // Replies may come in any order.
    latest().receive(errorReply(2, 'not_found', 'session.pause: no session s4'))
    latest().receive(okReply(1, { sessionId: 's4' }))
    await expect(hello).resolves.toEqual({ sessionId: 's4' })
    await expect(pause).rejects.toMatchObject({ code: 'not_found' })
  })

  it('routes events to listeners and ignores junk frames', () => {
    const { client } = setup()
    const seen: string[] = []
    client.onEvent((e) => seen.push(e.event))
    latest().open()
    latest().receive('{not json')
    latest().receive(okReply(99, {}))
    latest().receive(eventMessage('train.metrics', metricsBatch('s1', 1, 2)))
    expect(seen).toEqual(['train.metrics'])
  })

  it('fails in-flight requests when the connection drops and reconnects with growing backoff', async () => {
    const { transport, client } = setup()
    const states: string[] = []
    transport.onStatus((s) => states.push(s.state))
    latest().open()
    const pending = client.request('host.hello', {})
    latest().drop()
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' })
    expect(transport.status()).toMatchObject({ state: 'reconnecting', detail: expect.stringMatching(/refused or dropped/) })
    expect(FakeSocket.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(250)
    expect(FakeSocket.all).toHaveLength(2)
    latest().drop()
    await vi.advanceTimersByTimeAsync(250)
    expect(FakeSocket.all).toHaveLength(2) // second wait is 500 ms
    await vi.advanceTimersByTimeAsync(250)
    expect(FakeSocket.all).toHaveLength(3)
    latest().open()
    expect(states).toEqual(['open', 'reconnecting', 'reconnecting', 'open'])
    // After a successful open the backoff starts over.
    latest().drop()
    await vi.advanceTimersByTimeAsync(250)
    expect(FakeSocket.all).toHaveLength(4)
  })

  it('gives up on a request when the connection does not open in time', async () => {
    const { client } = setup(1000)
    const pending = client.request('host.hello', {})
    const failed = expect(pending).rejects.toMatchObject({ code: 'disconnected', message: expect.stringMatching(/not connected/) })
    await vi.advanceTimersByTimeAsync(1000)
    await failed
    latest().open()
    expect(latest().sent).toEqual([])
  })

  it('stops reconnecting once closed', async () => {
    const { transport } = setup()
    latest().open()
    transport.close()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(FakeSocket.all).toHaveLength(1)
    expect(transport.status().state).toBe('closed')
    await expect(transport.send({ v: PROTOCOL_VERSION, id: 1, kind: 'host.hello', payload: {} })).rejects.toThrow(/closed/)
  })
})

describe('token handling', () => {
  it('takes ?token= out of the address bar, keeping the rest of the URL', () => {
    const replaceState = vi.fn()
    const loc = { href: 'http://127.0.0.1:4173/?a=1&token=abc_DEF-123#x' } as Location
    const token = takeTokenFromAddressBar(loc, { state: null, replaceState } as unknown as History)
    expect(token).toBe('abc_DEF-123')
    expect(replaceState).toHaveBeenCalledWith(null, '', '/?a=1#x')
  })

  it('leaves a URL without a token alone', () => {
    const replaceState = vi.fn()
    expect(
      takeTokenFromAddressBar({ href: 'http://127.0.0.1:4173/' } as Location, { state: null, replaceState } as unknown as History),
    ).toBeNull()
    expect(replaceState).not.toHaveBeenCalled()
  })

  it('builds the socket URL from the page origin', () => {
    expect(engineSocketUrl('http://127.0.0.1:4173', 'tok')).toBe('ws://127.0.0.1:4173/ws?token=tok')
    expect(engineSocketUrl('https://studio.example:8443', null)).toBe('wss://studio.example:8443/ws')
  })
})

describe('WebSocket transport: resume keys', () => {
  it('asks to be resumable, keeps the key the server gives, and presents the latest one on reconnecting', async () => {
    let kept: string | null = null
    const transport = createWsTransport({
      url: 'ws://127.0.0.1:4173/ws?token=t',
      WebSocketImpl: FakeSocket as unknown as new (url: string) => WebSocket,
      resumeKeys: { load: () => kept, save: (k) => (kept = k) },
    })
    const seen: unknown[] = []
    transport.onEvent((e) => seen.push(e))
    expect(latest().url).toBe('ws://127.0.0.1:4173/ws?token=t&resume=')
    latest().open()
    const key = 'k'.repeat(43)
    latest().receive(eventMessage('client.resume', { key, resumed: false }))
    expect(kept).toBe(key)
    // The event still reaches the stores (the connection store records whether it resumed).
    expect(seen).toEqual([eventMessage('client.resume', { key, resumed: false })])
    latest().drop()
    await vi.advanceTimersByTimeAsync(300)
    expect(latest().url).toBe(`ws://127.0.0.1:4173/ws?token=t&resume=${key}`)
    expect(withResumeKey('ws://h/ws', null)).toBe('ws://h/ws?resume=')
  })
})
