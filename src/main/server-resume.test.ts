// A reload closes the page's WebSocket: a connection that asked to be resumable keeps its sessions
// for a grace period and the reloaded page takes them over with its key. Real server, real engine
// host (with a runs folder), real sockets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { EventMessage, ReplyMessage } from '../shared/protocol'
import { EngineHost } from '../host/host'
import { spec } from '../host/test-helpers'
import { asker, inbox, inProcess, type Inbox } from './serve-test-helpers'
import { startServer, type RunningServer } from './server'
import { ResumableClients } from './serve-resume'

const TOKEN = 'resume-token-0123456789'
let dir: string
let host: EngineHost
let server: RunningServer

async function serve(resumeGraceMs: number): Promise<void> {
  const listeners = new Set<(m: EventMessage, owner?: string) => void>()
  host = new EngineHost((m, owner) => listeners.forEach((cb) => cb(m, owner)), { dataDir: join(dir, 'runs') })
  server = await startServer({ token: TOKEN, staticDir: dir, engine: inProcess(host, listeners), resumeGraceMs })
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bps-resume-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html>')
})
afterEach(async () => {
  await server.close()
  host.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const until = async (cond: () => boolean | Promise<boolean>): Promise<void> => {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 5))
}

interface Tab {
  ws: WebSocket
  next: Inbox
  ask: (kind: string, payload: unknown) => Promise<ReplyMessage>
}
/** A page's connection: `resume` as the page would send it (undefined: not asking to be resumable). */
async function tab(resume?: string): Promise<Tab> {
  // The inbox listens before the socket opens: the server's client.resume can come with the handshake.
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}${resume === undefined ? '' : `&resume=${resume}`}`, {
    origin: `http://127.0.0.1:${server.port}`,
  })
  const next = inbox(ws)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return {
    ws,
    next,
    ask: asker(ws, next),
  }
}
const resumeOf = async (t: Tab) => (await t.next((m) => m['event'] === 'client.resume'))['payload'] as { key: string; resumed: boolean }
const result = <T>(r: ReplyMessage): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.result as T
}
const closedAndReleased = (t: Tab) => new Promise<void>((resolve) => t.ws.once('close', () => resolve()) && t.ws.close())
const runStatus = async (t: Tab, runId: string) =>
  result<{ runs: { runId: string; status: string }[] }>(await t.ask('runs.list', {})).runs.find((r) => r.runId === runId)?.status

describe('serve mode: a reloaded page takes its sessions back', () => {
  it('keeps a running session across a reconnect with the key, which is then used up', async () => {
    await serve(60_000)
    const first = await tab('')
    const { key, resumed } = await resumeOf(first)
    expect(resumed).toBe(false)
    const made = result<{ state: { sessionId: string } }>(await first.ask('session.create', spec()))
    const sessionId = made.state.sessionId
    expect(result<{ status: string }>(await first.ask('session.start', { sessionId })).status).toBe('running')
    await closedAndReleased(first)

    const second = await tab(key)
    const again = await resumeOf(second)
    expect(again.resumed).toBe(true)
    expect(again.key).not.toBe(key)
    // Still there and still training: its metrics reach the new connection without it asking.
    await second.next((m) => m['event'] === 'train.metrics' && (m['payload'] as { sessionId: string }).sessionId === sessionId)
    expect(result<{ state: { status: string } }>(await second.ask('session.info', { sessionId })).state.status).toBe('running')

    // The old key named a client that has been taken over: presenting it again gets a new client.
    const third = await tab(key)
    expect((await resumeOf(third)).resumed).toBe(false)
  })

  it('disposes the sessions (saving the run) when nobody comes back within the grace period', async () => {
    await serve(50)
    const first = await tab('')
    const { key } = await resumeOf(first)
    const made = result<{ runId: string; state: { sessionId: string } }>(await first.ask('session.create', spec()))
    await first.ask('session.step', { sessionId: made.state.sessionId, steps: 3 })
    await closedAndReleased(first)
    const watcher = await tab()
    await until(async () => (await runStatus(watcher, made.runId)) === 'saved')
    expect((await watcher.ask('session.info', { sessionId: made.state.sessionId })).ok).toBe(false)
    // Too late: the key no longer names anything.
    const late = await tab(key)
    expect((await resumeOf(late)).resumed).toBe(false)
  })

  it('never hands a live connection’s client to a second tab presenting a copy of its key', async () => {
    await serve(50)
    const first = await tab('')
    const { key } = await resumeOf(first)
    const mine = result<{ state: { sessionId: string } }>(await first.ask('session.create', spec())).state.sessionId
    const copy = await tab(key)
    expect((await resumeOf(copy)).resumed).toBe(false)
    const theirs = result<{ state: { sessionId: string } }>(await copy.ask('session.create', spec())).state.sessionId
    // The copy is a client of its own: when it leaves for good, its session goes and the first tab's stays.
    await closedAndReleased(copy)
    await until(async () => !(await first.ask('session.info', { sessionId: theirs })).ok)
    expect((await first.ask('session.info', { sessionId: mine })).ok).toBe(true)
  })

  it('sends no key to a connection that did not ask, and ignores malformed keys', async () => {
    await serve(60_000)
    const plain = await tab()
    // Replies and events arrive in order: anything sent on connecting came before this reply.
    await plain.ask('host.hello', {})
    const first = await Promise.race([plain.next(), Promise.resolve(null)])
    expect(first).toBeNull()
    const odd = await tab('not-a-key')
    expect((await resumeOf(odd)).resumed).toBe(false)
  })
})

describe('ResumableClients', () => {
  it('releases the longest-waiting client at once beyond its cap, and everything on close', () => {
    const released: string[] = []
    const clients = new ResumableClients((c) => released.push(c), 60_000, 2)
    const a = clients.attach('')
    const b = clients.attach('')
    const c = clients.attach('')
    const plain = clients.attach(null)
    clients.detach(plain)
    expect(released).toEqual([plain.client])
    clients.detach(b)
    clients.detach(a)
    clients.detach(c)
    expect(released).toEqual([plain.client, b.client])
    clients.close()
    expect(released.sort()).toEqual([plain.client, a.client, b.client, c.client].sort())
    expect(clients.attach(a.key).resumed).toBe(false)
  })
})
