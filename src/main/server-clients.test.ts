// Serve mode's connections over real sockets, with a scripted engine: a cap on connections (the
// one past it is told why), each client sent only its own sessions' events, a slow reader's
// metrics dropped instead of buffered (never its states), and the host told when a client leaves.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { eventMessage, okReply, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { closed, connect, inbox } from './serve-test-helpers'
import { SLOW_CLIENT_BYTES, STUCK_CLIENT_BYTES, startServer, type RunningServer, type ServerEngine } from './server'

const TOKEN = 'clients-token-0123456789'

/** Answers session.create with the next id; remembers who asked and who was released. */
class ScriptedEngine implements ServerEngine {
  private listeners = new Set<(m: EventMessage, owner?: string) => void>()
  readonly askedBy: (string | null | undefined)[] = []
  readonly released: string[] = []
  private next = 1
  request(msg: unknown, client?: string | null): Promise<ReplyMessage> {
    const m = msg as { id: number; kind: string }
    this.askedBy.push(client)
    if (m.kind === 'session.create') return Promise.resolve(okReply(m.id, { state: { sessionId: `s${this.next++}` } }))
    return Promise.resolve(okReply(m.id, {}))
  }
  onEvent(cb: (m: EventMessage, owner?: string) => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }
  release(client: string): void {
    this.released.push(client)
  }
  emit(m: EventMessage, owner?: string): void {
    for (const cb of this.listeners) cb(m, owner)
  }
}

const metrics = (sessionId: string, step: number, pad = 0): EventMessage =>
  eventMessage('train.metrics', {
    sessionId,
    steps: [step],
    trainLoss: [pad > 0 ? 0.5 : 1],
    epoch: 0,
    evals: [],
    layers: [],
    stepsPerSecond: 0,
    lr: 0.1,
    ...(pad ? { pad: 'x'.repeat(pad) } : {}),
  } as never)
const state = (sessionId: string, step: number): EventMessage =>
  eventMessage('session.state', { sessionId, status: 'running', step, epoch: 0, backend: { name: 'cpu', reason: 'test' } })

let staticDir: string
const servers: RunningServer[] = []
const sockets: WebSocket[] = []
beforeAll(() => {
  staticDir = mkdtempSync(join(tmpdir(), 'bps-clients-'))
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html>')
  return () => rmSync(staticDir, { recursive: true, force: true })
})
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function serve(engine: ServerEngine, maxClients?: number): Promise<RunningServer> {
  const s = await startServer({ token: TOKEN, staticDir, engine, ...(maxClients ? { maxClients } : {}) })
  servers.push(s)
  return s
}
async function open(s: RunningServer): Promise<WebSocket> {
  const ws = await connect(s.port, `?token=${TOKEN}`)
  sockets.push(ws)
  return ws
}
const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5))
}

describe('serve mode connections', () => {
  it('refuses the connection past maxClients with 1013 and the reason, and admits one when a slot frees', async () => {
    const s = await serve(new ScriptedEngine(), 3)
    const first = await Promise.all([open(s), open(s), open(s)])
    const extra = await open(s)
    expect(await closed(extra)).toEqual({ code: 1013, reason: 'too many connections: this server accepts 3 at once' })
    expect(s.clients()).toHaveLength(3)
    first[0]!.close()
    await until(() => s.clients().length === 2)
    const again = await open(s)
    const next = inbox(again)
    again.send(JSON.stringify({ v: 1, id: 1, kind: 'host.hello', payload: {} }))
    expect(await next()).toMatchObject({ id: 1, ok: true })
  })

  it('tags requests with the connection and releases that client when the socket closes', async () => {
    const engine = new ScriptedEngine()
    const s = await serve(engine)
    const [a, b] = [await open(s), await open(s)]
    const [nextA, nextB] = [inbox(a), inbox(b)]
    a.send(JSON.stringify({ v: 1, id: 1, kind: 'host.hello', payload: {} }))
    await nextA()
    b.send(JSON.stringify({ v: 1, id: 1, kind: 'host.hello', payload: {} }))
    await nextB()
    const [idA, idB] = engine.askedBy
    expect(typeof idA).toBe('string')
    expect(idA).not.toBe(idB)
    a.close()
    await until(() => engine.released.length === 1)
    expect(engine.released).toEqual([idA])
  })

  it("sends a session's events only to the client that owns or opened it; host-wide events to all", async () => {
    const engine = new ScriptedEngine()
    const s = await serve(engine)
    const [a, b] = [await open(s), await open(s)]
    const gotA: Record<string, unknown>[] = []
    const gotB: Record<string, unknown>[] = []
    const [nextA, nextB] = [inbox(a, gotA), inbox(b, gotB)]
    a.send(JSON.stringify({ v: 1, id: 1, kind: 'host.hello', payload: {} }))
    await nextA()
    const ownerA = engine.askedBy[0] as string
    engine.emit(metrics('s1', 1), ownerA)
    engine.emit(state('s1', 1), ownerA)
    engine.emit(eventMessage('host.status', { status: 'restarted', message: 'all' }))
    expect(await nextA((m) => m['event'] === 'host.status')).toBeTruthy()
    expect(await nextB((m) => m['event'] === 'host.status')).toBeTruthy()
    expect(gotA.map((m) => m['event'])).toEqual([undefined, 'train.metrics', 'session.state', 'host.status'])
    expect(gotB.map((m) => m['event'])).toEqual(['host.status'])
    // B opens A's session (runs.open hands back a live session): from then on it sees its events too.
    b.send(JSON.stringify({ v: 1, id: 2, kind: 'session.info', payload: { sessionId: 's1' } }))
    await nextB((m) => m['id'] === 2)
    engine.emit(metrics('s1', 2), ownerA)
    expect(await nextB((m) => m['event'] === 'train.metrics')).toMatchObject({ payload: { sessionId: 's1', steps: [2] } })
  })

  it('drops metrics for a client that stops reading, keeps its states, and tells it what it missed', async () => {
    const engine = new ScriptedEngine()
    const s = await serve(engine)
    const slow = await open(s)
    const got: Record<string, unknown>[] = []
    const next = inbox(slow, got)
    slow.send(JSON.stringify({ v: 1, id: 1, kind: 'host.hello', payload: {} }))
    await next()
    const owner = engine.askedBy[0] as string
    // The client's socket stops reading: the kernel buffers fill, then the server's queue grows.
    ;(slow as unknown as { _socket: { pause(): void } })._socket.pause()
    const batch = 64 * 1024
    let sent = 0
    let peak = 0
    while ((s.clients()[0]?.droppedBatches ?? 0) < 50) {
      engine.emit(metrics('s1', ++sent, batch), owner)
      peak = Math.max(peak, s.clients()[0]?.bufferedAmount ?? 0)
      if (sent % 8 === 0) await new Promise((r) => setImmediate(r))
      expect(sent, 'metrics were never dropped').toBeLessThan(20_000)
    }
    engine.emit(state('s1', sent), owner)
    // What waits for the client is bounded by the threshold plus one batch, however much was sent.
    expect(peak).toBeLessThanOrEqual(SLOW_CLIENT_BYTES + 2 * batch)
    expect(peak).toBeLessThan(STUCK_CLIENT_BYTES)
    ;(slow as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await next((m) => m['event'] === 'session.state')).toMatchObject({ payload: { step: sent } })
    await until(() => s.clients()[0]?.bufferedAmount === 0)
    engine.emit(metrics('s1', sent + 1), owner)
    const after = await next((m) => m['event'] === 'train.metrics' && (m['payload'] as { steps: number[] }).steps[0] === sent + 1)
    const dropped = s.clients()[0]!.droppedBatches
    expect(dropped).toBeGreaterThanOrEqual(50)
    expect(after['payload']).toMatchObject({ droppedBatches: dropped })
    // Every batch the client did get, plus the ones it was told it missed, account for all sent.
    const received = got.filter((m) => m['event'] === 'train.metrics').length
    expect(received + dropped).toBe(sent + 1)
    expect(slow.readyState).toBe(slow.OPEN)
  })
})
