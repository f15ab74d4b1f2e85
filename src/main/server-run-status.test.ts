// A run whose last tab closed reads "saved" in every other tab at once, without a refresh: when the
// closed page's client is released (after the reload grace), its sessions are disposed and the
// other tabs hear runs.changed with the run saved. A real server over a real engine host, real
// WebSocket clients (resumable, as the renderer connects).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import type { EventMessage, ReplyMessage } from '../shared/protocol'
import { EngineHost } from '../host/host'
import { spec } from '../host/test-helpers'
import { asker, connect, inbox, inProcess, type Inbox } from './serve-test-helpers'
import { LEFT_GRACE_MS } from './serve-resume'
import { startServer, type RunningServer } from './server'

const TOKEN = 'status-token-0123456789ab'
const GRACE_MS = 300
let dir: string
let server: RunningServer
let host: EngineHost

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bps-status-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html>')
})
async function serve(resumeGraceMs = GRACE_MS): Promise<void> {
  const listeners = new Set<(m: EventMessage, owner?: string) => void>()
  host = new EngineHost((m, owner) => listeners.forEach((cb) => cb(m, owner)), { dataDir: join(dir, 'runs') })
  server = await startServer({ token: TOKEN, staticDir: dir, engine: inProcess(host, listeners), resumeGraceMs })
}
afterEach(async () => {
  await server.close()
  host.dispose()
  rmSync(dir, { recursive: true, force: true })
})

/** A tab: a resumable connection, its messages in order, and requests over it. */
async function tab(): Promise<{ ws: WebSocket; next: Inbox; ask: (kind: string, payload: unknown) => Promise<ReplyMessage> }> {
  const ws = await connect(server.port, `?token=${TOKEN}&resume=`)
  const next = inbox(ws)
  return {
    ws,
    next,
    ask: asker(ws, next),
  }
}
const result = <T>(r: ReplyMessage): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.result as T
}
type Row = { runId: string; status: string; sessionId: string | null }
/** The next runs.changed that reports `runId` with `status`. */
const changedTo = (next: Inbox, runId: string, status: string) =>
  next((m) => {
    if (m['event'] !== 'runs.changed') return false
    const runs = (m['payload'] as { runs: Row[] }).runs
    return runs.some((r) => r.runId === runId && r.status === status)
  })

describe('a run whose tab closed reads saved in the other tabs', () => {
  it.each(['paused', 'running'])(
    'hears runs.changed: saved, after the grace (a %s session)',
    async (how) => {
      await serve()
      const a = await tab()
      const made = result<{ runId: string; state: { sessionId: string } }>(await a.ask('session.create', spec()))
      await a.ask('session.step', { sessionId: made.state.sessionId, steps: 5 })
      if (how === 'running') await a.ask('session.start', { sessionId: made.state.sessionId })
      const b = await tab()
      const listed = result<{ runs: Row[] }>(await b.ask('runs.list', {})).runs
      expect(listed.find((r) => r.runId === made.runId)).toMatchObject({ status: 'live', sessionId: made.state.sessionId })
      const closedAt = Date.now()
      a.ws.close()
      const saved = await changedTo(b.next, made.runId, 'saved')
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 50)
      const row = (saved['payload'] as { runs: Row[] }).runs.find((r) => r.runId === made.runId)
      expect(row).toMatchObject({ status: 'saved', sessionId: null })
    },
    30_000,
  )

  it('a run opened from the Runs view and closed reads saved too', async () => {
    await serve()
    const a = await tab()
    const made = result<{ runId: string; state: { sessionId: string } }>(await a.ask('session.create', spec()))
    await a.ask('session.step', { sessionId: made.state.sessionId, steps: 5 })
    await a.ask('session.dispose', { sessionId: made.state.sessionId })
    const opened = result<{ sessionId: string }>(await a.ask('runs.open', { runId: made.runId }))
    const b = await tab()
    expect(result<{ runs: Row[] }>(await b.ask('runs.list', {})).runs[0]).toMatchObject({ status: 'live', sessionId: opened.sessionId })
    a.ws.close()
    await changedTo(b.next, made.runId, 'saved')
  }, 30_000)

  it('a page that says it left (pagehide: code 4001) is held only briefly; a dropped connection keeps the full grace', async () => {
    await serve(60_000)
    const a = await tab()
    const dropped = await tab()
    const made = result<{ runId: string; state: { sessionId: string } }>(await a.ask('session.create', spec()))
    const kept = result<{ runId: string; state: { sessionId: string } }>(await dropped.ask('session.create', spec()))
    await a.ask('session.step', { sessionId: made.state.sessionId, steps: 5 })
    await dropped.ask('session.step', { sessionId: kept.state.sessionId, steps: 5 })
    const b = await tab()
    await b.ask('runs.list', {})
    const closedAt = Date.now()
    dropped.ws.terminate() // no close frame: the server sees 1006, as after a network drop
    a.ws.close(4001, 'page left')
    await changedTo(b.next, made.runId, 'saved')
    expect(Date.now() - closedAt).toBeLessThan(LEFT_GRACE_MS + 3_000)
    // The dropped one may still come back: its run is live for the rest of the minute.
    const rows = result<{ runs: Row[] }>(await b.ask('runs.list', {})).runs
    expect(rows.find((r) => r.runId === kept.runId)).toMatchObject({ status: 'live', sessionId: kept.state.sessionId })
  }, 30_000)
})
