// Sessions and uploads belong to the client that made them, from creation: a real server over a
// real engine host (with a runs folder) and real WebSocket clients that leave at awkward moments.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { encodeBinaryRequest } from '../shared/binary-frame'
import { LIMITS, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { EngineProcess } from './engine-process'
import { connect, inbox, inProcess, realWorker } from './serve-test-helpers'
import { startServer, type RunningServer, type ServerEngine } from './server'
import { EngineHost } from '../host/host'
import { spec } from '../host/test-helpers'

const TOKEN = 'owner-token-0123456789ab'
let dir: string
let server: RunningServer
/** Requests the engine has not answered yet: the test waits for none before it looks. */
let pending = 0

let stop: () => Promise<void>

/** A server over an engine host: in this thread, or (`worker`) in a real worker as the app runs it. */
async function serve(kind: 'in-process' | 'worker'): Promise<void> {
  let engine: ServerEngine
  if (kind === 'worker') {
    const proc = new EngineProcess(() => realWorker(join(dir, 'runs')))
    engine = proc
    stop = () => proc.dispose()
  } else {
    const listeners = new Set<(m: EventMessage, owner?: string) => void>()
    const host = new EngineHost((m, owner) => listeners.forEach((cb) => cb(m, owner)), { dataDir: join(dir, 'runs') })
    engine = inProcess(host, listeners)
    hostInThread = host
    stop = async () => host.dispose()
  }
  const request = engine.request.bind(engine)
  const counted: ServerEngine = {
    request: (msg, client) => {
      pending++
      return request(msg, client).finally(() => pending--)
    },
    onEvent: (cb) => engine.onEvent(cb),
    release: (client) => engine.release?.(client),
  }
  server = await startServer({ token: TOKEN, staticDir: dir, engine: counted })
}
let hostInThread: EngineHost

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bps-owner-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html>')
})
afterEach(async () => {
  await server.close()
  await stop()
  rmSync(dir, { recursive: true, force: true })
})

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5))
}
/** Every client gone and every request answered (a create may finish after its client left). */
const settled = (): Promise<void> => until(() => server.clients().length === 0 && pending === 0)

let nextId = 1
async function client(): Promise<{ ws: WebSocket; ask: (kind: string, payload: unknown) => Promise<ReplyMessage> }> {
  const ws = await connect(server.port, `?token=${TOKEN}`)
  const next = inbox(ws)
  return {
    ws,
    ask: async (kind, payload) => {
      const id = nextId++
      const msg = { v: 1, id, kind, payload }
      ws.send(encodeBinaryRequest(msg) ?? JSON.stringify(msg))
      return (await next((m) => m['id'] === id)) as unknown as ReplyMessage
    },
  }
}
const result = <T>(r: ReplyMessage): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.result as T
}
type RunRow = { runId: string; status: string; sessionId: string | null }
const runs = async (ask: (kind: string, payload: unknown) => Promise<ReplyMessage>): Promise<RunRow[]> =>
  result<{ runs: RunRow[] }>(await ask('runs.list', {})).runs

describe('sessions belong to their client from creation', () => {
  it('leaves no session behind when a socket closes 0–5 ms after session.create (10 times)', { timeout: 60_000 }, async () => {
    await serve('worker')
    for (let i = 0; i < 10; i++) {
      const { ws } = await client()
      ws.send(JSON.stringify({ v: 1, id: 1, kind: 'session.create', payload: spec() }))
      // Half close at once (before the reply, whatever the machine's speed), half 1–5 ms later.
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, 1 + (i % 5)))
      ws.close()
    }
    await settled()
    const other = await client()
    expect((await runs(other.ask)).filter((r) => r.status === 'live')).toEqual([])
    // Every session slot is free again: another client gets all of them.
    for (let i = 0; i < LIMITS.maxSessions; i++) expect((await other.ask('session.create', spec())).ok).toBe(true)
  })

  it('disposes a session made by runs.open and started when its tab closes, saving the run', async () => {
    await serve('in-process')
    const a = await client()
    const made = result<{ runId: string; state: { sessionId: string } }>(await a.ask('session.create', spec()))
    await a.ask('session.step', { sessionId: made.state.sessionId, steps: 5 })
    await a.ask('session.dispose', { sessionId: made.state.sessionId })
    const b = await client()
    const opened = result<{ sessionId: string }>(await b.ask('runs.open', { runId: made.runId }))
    expect(result<{ status: string }>(await b.ask('session.start', { sessionId: opened.sessionId })).status).toBe('running')
    expect((await runs(a.ask)).find((r) => r.runId === made.runId)).toMatchObject({ status: 'live', sessionId: opened.sessionId })
    b.ws.close()
    a.ws.close()
    await settled()
    const c = await client()
    expect((await runs(c.ask)).find((r) => r.runId === made.runId)).toMatchObject({ status: 'saved', sessionId: null })
    expect((await c.ask('session.info', { sessionId: opened.sessionId })).ok).toBe(false)
  })

  it('keeps a session a second tab attached to until its last tab closes, which pauses and saves it', async () => {
    await serve('in-process')
    const a = await client()
    const made = result<{ runId: string; state: { sessionId: string } }>(await a.ask('session.create', spec()))
    const id = made.state.sessionId
    expect(result<{ status: string }>(await a.ask('session.start', { sessionId: id })).status).toBe('running')
    const b = await client()
    const seen = inbox(b.ws)
    expect(result<{ state: { sessionId: string }; runId: string }>(await b.ask('session.attach', { sessionId: id }))).toMatchObject({
      state: { sessionId: id },
      runId: made.runId,
    })
    // The attached tab hears the session's events (its training steps), though another client made it.
    await seen((m) => m['event'] === 'train.metrics' && (m['payload'] as { sessionId: string }).sessionId === id)
    // The first tab lets go (a rebuild) and closes: the second still shows it, running.
    expect(result(await a.ask('session.dispose', { sessionId: id }))).toEqual({ sessionId: id })
    a.ws.close()
    await until(() => server.clients().length === 1 && pending === 0)
    expect(result<{ state: { status: string } }>(await b.ask('session.info', { sessionId: id })).state.status).toBe('running')
    expect((await runs(b.ask)).find((r) => r.runId === made.runId)).toMatchObject({ status: 'live', sessionId: id })
    // The last tab closes: the session is gone and its run saved.
    b.ws.close()
    await settled()
    const c = await client()
    expect((await runs(c.ask)).find((r) => r.runId === made.runId)).toMatchObject({ status: 'saved', sessionId: null })
    expect(await c.ask('session.attach', { sessionId: id })).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it('disposes a session whose create finishes after its client was released', async () => {
    await serve('in-process')
    const host = hostInThread
    const creating = host.handle({ v: 1, id: 1, kind: 'session.create', payload: spec() }, 'gone-client')
    const released = host.release('gone-client')
    const reply = await creating
    expect(reply).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringMatching(/disconnected/) } })
    expect(await released).toEqual({ sessions: 0, uploads: 0 })
    const listed = await host.handle({ v: 1, id: 2, kind: 'runs.list', payload: {} })
    expect(result<{ runs: RunRow[] }>(listed).runs).toEqual([])
  })

  it('frees the upload slots of a client that leaves mid-upload', async () => {
    await serve('in-process')
    // Two tabs hold every slot (a client may hold two: uploads.ts MAX_UPLOADS_PER_CLIENT).
    const a = await client()
    const a2 = await client()
    const chunk = (uploadId: string) => ({
      uploadId,
      name: 'a.csv',
      index: 0,
      total: 2,
      bytes: 8,
      chunkBase64: Buffer.from('x,y\n').toString('base64'),
    })
    for (const id of ['uabcdef1', 'uabcdef2']) expect((await a.ask('files.upload', chunk(id))).ok).toBe(true)
    for (const id of ['uabcdef3', 'uabcdef4']) expect((await a2.ask('files.upload', chunk(id))).ok).toBe(true)
    const b = await client()
    expect(await b.ask('files.upload', chunk('uabcdef5'))).toMatchObject({ ok: false, error: { code: 'limit' } })
    a.ws.close()
    await until(() => server.clients().length === 2 && pending === 0)
    expect(await b.ask('files.upload', chunk('uabcdef6'))).toMatchObject({ ok: true, result: { received: 1, done: false } })
  })

  it('takes an upload as binary frames from the client that began it, and no other', async () => {
    await serve('in-process')
    const a = await client()
    const b = await client()
    const bytes = new TextEncoder().encode('x,y\n1,2\n3,4\n')
    const part = (index: number) => ({
      uploadId: 'ubinary01',
      name: 'b.csv',
      index,
      total: 2,
      bytes: bytes.length,
      chunk: bytes.subarray(index * 6, index * 6 + 6 + index * 100),
    })
    expect(await a.ask('files.upload', part(0))).toMatchObject({ ok: true, result: { received: 1, done: false } })
    // The other tab knows (or guesses) the id: its chunk is refused and the upload is untouched.
    expect(await b.ask('files.upload', part(1))).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringMatching(/begun by this client/) },
    })
    expect(await a.ask('files.upload', part(1))).toMatchObject({
      ok: true,
      result: { done: true, file: { name: 'b.csv', bytes: bytes.length } },
    })
  })
})
