// Serve mode over real sockets: a real HTTP server on a free port, real `ws` clients, and a fake
// engine that records what reached it (so we can prove invalid messages never do).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { errorReply, okReply, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { cookieValue } from './serve-auth'
import { get as getFrom, inbox, inProcess, type Res } from './serve-test-helpers'
import { EngineHost } from '../host/host'
import { CSP, MAX_IN_FLIGHT, MAX_MESSAGE_BYTES, startServer, type RunningServer, type ServerEngine } from './server'

const TOKEN = 'test-token-0123456789abcdef'
const hello = (id: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1,
  id,
  kind: 'host.hello',
  payload: {},
  ...extra,
})

class FakeEngine implements ServerEngine {
  received: unknown[] = []
  hold = false
  private listeners = new Set<(m: EventMessage) => void>()
  request(msg: unknown): Promise<ReplyMessage> {
    this.received.push(msg)
    const m = msg as { id: number; kind: string; payload: unknown }
    if (this.hold) return new Promise(() => undefined)
    if (m.kind === 'session.start') return Promise.resolve(errorReply(m.id, 'not_found', 'no such session'))
    return Promise.resolve(okReply(m.id, { echo: m.payload, kind: m.kind }))
  }
  onEvent(cb: (m: EventMessage) => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }
  emit(m: EventMessage): void {
    for (const cb of this.listeners) cb(m)
  }
}

let root: string
let staticDir: string
let server: RunningServer
const engine = new FakeEngine()
let base: string

/** The shared raw-path GET, on this file's server. */
const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> =>
  getFrom(server.port, path, headers, method)

function connect(query: string, headers: Record<string, string>, origin: string | undefined = base): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers, ...(origin ? { origin } : {}) })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

const cookieHeader = (): Record<string, string> => ({ Cookie: `backprop_studio_${server.port}=${cookieValue(TOKEN, server.port)}` })

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bps-serve-'))
  staticDir = join(root, 'renderer')
  mkdirSync(join(staticDir, 'assets'), { recursive: true })
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Backprop Studio</title>')
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(staticDir, 'assets', 'style.css'), 'body{}')
  writeFileSync(join(root, 'secret.txt'), 'TOP SECRET')
  symlinkSync(root, join(staticDir, 'link-out'))
  server = await startServer({ token: TOKEN, staticDir, engine })
  base = `http://127.0.0.1:${server.port}`
})

afterAll(async () => {
  await server.close()
  rmSync(root, { recursive: true, force: true })
})

describe('serve mode HTTP', () => {
  it('binds to 127.0.0.1 by default and refuses a non-loopback host unless allowed', async () => {
    expect(server.address).toBe('127.0.0.1')
    expect(server.url).toBe(`${base}/?token=${TOKEN}`)
    await expect(startServer({ host: '0.0.0.0', token: TOKEN, staticDir, engine })).rejects.toThrow(/not a loopback/)
    await expect(startServer({ token: 'short', staticDir, engine })).rejects.toThrow(/token/)
  })

  it('refuses the page and assets without the token, or with a wrong one, with an explanation', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/?token=wrong-token-0123456789abcdef', '/ws']) {
      const res = await get(path)
      expect(res.status, path).toBe(403)
      expect(res.body).toMatch(/token/)
      expect(res.headers['set-cookie']).toBeUndefined()
    }
    expect((await get('/', { Cookie: `backprop_studio_${server.port}=nope` })).status).toBe(403)
    // A cookie for another port's server is not ours.
    expect((await get('/', { Cookie: `backprop_studio_1=${TOKEN}` })).status).toBe(403)
  })

  it('serves the page for the right token with a strict cookie, then assets by cookie alone', async () => {
    const page = await get(`/?token=${TOKEN}`)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('Backprop Studio')
    const cookie = String(page.headers['set-cookie'])
    // The cookie carries a value derived for this port, never the token (cookies ignore ports).
    expect(cookie).toContain(`backprop_studio_${server.port}=${cookieValue(TOKEN, server.port)};`)
    expect(cookie).not.toContain(TOKEN)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect(cookie).toMatch(/Path=\//)
    const js = await get('/assets/app.js', cookieHeader())
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.body).toBe('console.log(1)')
    expect((await get('/assets/style.css', cookieHeader())).headers['content-type']).toBe('text/css; charset=utf-8')
    const head = await get('/index.html', cookieHeader(), 'HEAD')
    expect([head.status, head.body]).toEqual([200, ''])
    expect((await get('/', cookieHeader(), 'POST')).status).toBe(405)
    expect((await get('/missing.js', cookieHeader())).status).toBe(404)
  })

  it('sends the CSP and the other security headers on every answer', async () => {
    for (const res of [await get('/'), await get(`/?token=${TOKEN}`), await get('/nope', cookieHeader())]) {
      expect(res.headers['content-security-policy']).toBe(CSP)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
    }
    for (const d of [
      "default-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "form-action 'none'",
    ]) {
      expect(CSP).toContain(d)
    }
  })

  it('never serves files outside the renderer folder', async () => {
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/link-out/secret.txt',
      '/%00',
      '/%E0%A4%A',
    ]
    for (const path of attempts) {
      const res = await get(path, cookieHeader())
      expect(res.status, path).toBeGreaterThanOrEqual(400)
      expect(res.body).not.toContain('TOP SECRET')
    }
  })

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await get(`/?token=${TOKEN}`, { Host: `evil.example:${server.port}` })
    expect(res.status).toBe(403)
  })
})

describe('serve mode WebSocket', () => {
  it('refuses a handshake without the token, with a wrong one, or from a foreign or missing Origin', async () => {
    await expect(connect('', {})).rejects.toThrow(/403/)
    await expect(connect('?token=wrong-token-0123456789abcdef', {})).rejects.toThrow(/403/)
    await expect(connect('', cookieHeader(), 'http://evil.example')).rejects.toThrow(/403/)
    await expect(connect(`?token=${TOKEN}`, {}, `http://127.0.0.1:${server.port + 1}`)).rejects.toThrow(/403/)
    await expect(connect(`?token=${TOKEN}`, {}, 'null')).rejects.toThrow(/403/)
    await expect(connect(`?token=${TOKEN}`, {}, '')).rejects.toThrow(/403/)
  })

  it('accepts the cookie or the query token from the server own origins', async () => {
    const a = await connect('', cookieHeader())
    const b = await connect(`?token=${TOKEN}`, {}, `http://localhost:${server.port}`)
    a.close()
    b.close()
  })

  it('validates every message, answers with typed errors, and stays usable', async () => {
    const ws = await connect('', cookieHeader())
    const next = inbox(ws)
    const before = engine.received.length
    ws.send('{not json')
    expect(await next()).toMatchObject({ v: 1, id: 0, ok: false, error: { code: 'invalid_message' } })
    ws.send(JSON.stringify({ v: 1, id: 4, kind: 'session.create', payload: { model: { hidden: [-1] } } }))
    expect(await next()).toMatchObject({ id: 4, ok: false, error: { code: 'invalid_payload' } })
    ws.send(JSON.stringify({ v: 1, id: 5, kind: 'fs.read', payload: {} }))
    expect(await next()).toMatchObject({ id: 5, ok: false, error: { code: 'unknown_kind' } })
    ws.send(JSON.stringify({ v: 2, id: 6, kind: 'host.hello', payload: {} }))
    expect(await next()).toMatchObject({ id: 6, ok: false, error: { code: 'version_mismatch' } })
    ws.send(JSON.stringify([1, 2]))
    expect(await next()).toMatchObject({ id: 0, ok: false, error: { code: 'invalid_message' } })
    ws.send(Buffer.from(JSON.stringify(hello(7))), { binary: true })
    expect(await next()).toMatchObject({ id: 0, ok: false, error: { code: 'invalid_message' } })
    expect(engine.received.length).toBe(before)
    ws.send(JSON.stringify(hello(8)))
    expect(await next()).toMatchObject({ id: 8, ok: true, result: { kind: 'host.hello' } })
    ws.send(JSON.stringify({ v: 1, id: 9, kind: 'session.start', payload: { sessionId: 's1' } }))
    expect(await next()).toMatchObject({ id: 9, ok: false, error: { code: 'not_found' } })
    ws.close()
  })

  it('closes an oversized message with 1009 and keeps serving other connections', async () => {
    const ws = await connect('', cookieHeader())
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.send(JSON.stringify(hello(1, { payload: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } })))
    expect(await closed).toBe(1009)
    const again = await connect('', cookieHeader())
    const next = inbox(again)
    again.send(JSON.stringify(hello(2)))
    expect(await next()).toMatchObject({ id: 2, ok: true })
    again.close()
  })

  it('routes each reply to the socket that asked, and broadcasts events to all', async () => {
    const [a, b] = await Promise.all([connect('', cookieHeader()), connect('', cookieHeader())])
    const [nextA, nextB] = [inbox(a), inbox(b)]
    a.send(JSON.stringify({ v: 1, id: 1, kind: 'dataset.preview', payload: { generator: 'xor' } }))
    b.send(JSON.stringify({ v: 1, id: 1, kind: 'dataset.preview', payload: { generator: 'spiral' } }))
    expect(await nextA((m) => 'id' in m)).toMatchObject({ id: 1, result: { echo: { generator: 'xor' } } })
    expect(await nextB((m) => 'id' in m)).toMatchObject({ id: 1, result: { echo: { generator: 'spiral' } } })
    const event: EventMessage = { v: 1, event: 'host.status', payload: { status: 'restarted', message: 'test' } }
    engine.emit(event)
    expect(await nextA((m) => 'event' in m)).toEqual(event)
    expect(await nextB((m) => 'event' in m)).toEqual(event)
    a.close()
    b.close()
  })

  it(`answers 'limit' beyond ${MAX_IN_FLIGHT} requests in flight on one socket`, async () => {
    const ws = await connect('', cookieHeader())
    const next = inbox(ws)
    engine.hold = true
    try {
      for (let i = 1; i <= MAX_IN_FLIGHT + 1; i++) ws.send(JSON.stringify(hello(i)))
      expect(await next()).toMatchObject({ id: MAX_IN_FLIGHT + 1, ok: false, error: { code: 'limit' } })
    } finally {
      engine.hold = false
      ws.close()
    }
  })
})

describe('serve mode with the real engine host (in-process)', () => {
  it('creates a session, steps it and streams its events to the browser', async () => {
    const listeners = new Set<(m: EventMessage, owner?: string) => void>()
    const host = new EngineHost((m, owner) => listeners.forEach((cb) => cb(m, owner)))
    const real = await startServer({ token: TOKEN, staticDir, engine: inProcess(host, listeners) })
    try {
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(`ws://127.0.0.1:${real.port}/ws?token=${TOKEN}`, { origin: `http://127.0.0.1:${real.port}` })
        s.once('open', () => resolve(s))
        s.once('error', reject)
      })
      const next = inbox(ws)
      ws.send(JSON.stringify(hello(1)))
      expect(await next((m) => m['id'] === 1)).toMatchObject({ ok: true, result: { protocolVersion: 1 } })
      const spec = { model: { hidden: [8] }, data: { generator: 'xor', n: 100 }, optimizer: { type: 'sgd', lr: 0.1 }, backend: 'cpu' }
      ws.send(JSON.stringify({ v: 1, id: 2, kind: 'session.create', payload: spec }))
      const created = await next((m) => m['id'] === 2)
      expect(created).toMatchObject({ ok: true })
      const sessionId = (created['result'] as { state: { sessionId: string } }).state.sessionId
      ws.send(JSON.stringify({ v: 1, id: 3, kind: 'session.step', payload: { sessionId, steps: 5 } }))
      expect(await next((m) => m['id'] === 3)).toMatchObject({ ok: true, result: { sessionId, step: 5 } })
      const metrics = await next((m) => m['event'] === 'train.metrics')
      expect(metrics).toMatchObject({ v: 1, payload: { sessionId } })
      ws.send(JSON.stringify({ v: 1, id: 4, kind: 'session.start', payload: { sessionId } }))
      expect(await next((m) => m['id'] === 4)).toMatchObject({ ok: true, result: { status: 'running' } })
      ws.close()
      // A closed tab must not leave its sessions training: the server disposes what it created.
      let gone = false
      for (let i = 0; i < 100 && !gone; i++) {
        await new Promise((r) => setTimeout(r, 20))
        const r = await host.handle({ v: 1, id: 9, kind: 'session.pause', payload: { sessionId } })
        gone = !r.ok && r.error.code === 'not_found'
      }
      expect(gone).toBe(true)
    } finally {
      host.dispose()
      await real.close()
    }
  })
})
