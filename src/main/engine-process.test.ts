// EngineProcess against real worker_threads workers built from small inline scripts, so id
// remapping, event fan-out and crash recovery are exercised across a real thread boundary.
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventMessage } from '../shared/protocol'
import { EngineProcess } from './engine-process'

// A stand-in host: echoes what it received (including the id and client it saw), emits an event
// on request (with an owner when asked), never answers 'test.silent', dies on 'test.crash' or
// 'test.exit', answers control messages with what it was told (never, after 'test.deaf').
const FAKE_HOST = `
const { parentPort } = require('node:worker_threads')
let deaf = false
parentPort.postMessage({ v: 1, event: 'session.state', payload: { booted: true } })
parentPort.on('message', (w) => {
  if (w.channel === 'control') {
    if (!deaf) parentPort.postMessage({ v: 1, id: w.id, ok: true, result: { control: w.control } })
    return
  }
  const m = w.message
  if (m.kind === 'test.deaf') deaf = true
  if (m.kind === 'test.crash') throw new Error('boom in the host')
  if (m.kind === 'test.exit') process.exit(3)
  if (m.kind === 'test.silent') return
  if (m.kind === 'test.emit') parentPort.postMessage({ v: 1, event: 'train.metrics', payload: { n: m.payload.n }, ...(m.payload.owner ? { owner: m.payload.owner } : {}) })
  const delay = m.payload && typeof m.payload.delay === 'number' ? m.payload.delay : 0
  setTimeout(() => parentPort.postMessage({ v: 1, id: m.id, ok: true, result: { hostSawId: m.id, hostSawClient: w.client, payload: m.payload } }), delay)
})
`
const CRASH_AT_START = `throw new Error('cannot start')`

const engines: EngineProcess[] = []
function engine(code: string, opts: ConstructorParameters<typeof EngineProcess>[1] = {}): { engine: EngineProcess; starts: () => number } {
  let starts = 0
  const e = new EngineProcess(
    () => {
      starts++
      return new Worker(code, { eval: true })
    },
    { backoffMs: 5, log: () => undefined, ...opts },
  )
  engines.push(e)
  return { engine: e, starts: () => starts }
}

function nextEvent(e: EngineProcess, pred: (m: EventMessage) => boolean): Promise<EventMessage> {
  return new Promise((resolve) => {
    const off = e.onEvent((m) => {
      if (pred(m)) {
        off()
        resolve(m)
      }
    })
  })
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.dispose()))
})

describe('EngineProcess', () => {
  it('sends its own ids and labels each reply with the caller id, even when callers reuse ids', async () => {
    const { engine: e } = engine(FAKE_HOST)
    const [a, b] = await Promise.all([
      e.request({ v: 1, id: 7, kind: 'test.echo', payload: { who: 'a', delay: 30 } }),
      e.request({ v: 1, id: 7, kind: 'test.echo', payload: { who: 'b', delay: 0 } }),
    ])
    expect(a).toMatchObject({ id: 7, ok: true, result: { payload: { who: 'a' } } })
    expect(b).toMatchObject({ id: 7, ok: true, result: { payload: { who: 'b' } } })
    const seen = [a, b].map((r) => (r.ok ? (r.result as { hostSawId: number }).hostSawId : -1))
    expect(new Set(seen).size).toBe(2)
  })

  it('answers a non-object request with a typed error instead of throwing', async () => {
    const { engine: e } = engine(FAKE_HOST)
    await expect(e.request('hello')).resolves.toMatchObject({ id: 0, ok: false, error: { code: 'invalid_message' } })
    await expect(e.request({ v: 1, id: 3, kind: 'x', payload: { f: () => 1 } })).resolves.toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'invalid_message' },
    })
  })

  it('passes host events to every subscriber until it unsubscribes', async () => {
    const { engine: e } = engine(FAKE_HOST)
    const first: EventMessage[] = []
    const second: EventMessage[] = []
    const off = e.onEvent((m) => first.push(m))
    e.onEvent((m) => second.push(m))
    await e.request({ v: 1, id: 1, kind: 'test.emit', payload: { n: 1 } })
    off()
    await e.request({ v: 1, id: 2, kind: 'test.emit', payload: { n: 2 } })
    const metrics = (list: EventMessage[]): unknown[] => list.filter((m) => m.event === 'train.metrics').map((m) => m.payload)
    expect(metrics(first)).toEqual([{ n: 1 }])
    expect(metrics(second)).toEqual([{ n: 1 }, { n: 2 }])
  })

  it.each(['test.crash', 'test.exit'])('on %s: fails pending requests, announces a restart and starts a fresh worker', async (kind) => {
    const { engine: e, starts } = engine(FAKE_HOST)
    const status = nextEvent(e, (m) => m.event === 'host.status')
    const stuck = e.request({ v: 1, id: 11, kind: 'test.silent', payload: {} })
    await e.request({ v: 1, id: 12, kind: 'test.echo', payload: {} }) // the silent one is now surely pending
    const killer = e.request({ v: 1, id: 13, kind, payload: {} })
    await expect(stuck).resolves.toMatchObject({ id: 11, ok: false, error: { code: 'host_crashed' } })
    await expect(killer).resolves.toMatchObject({ id: 13, ok: false, error: { code: 'host_crashed' } })
    const msg = await status
    expect(msg.payload).toMatchObject({ status: 'restarted' })
    expect((msg.payload as { message: string }).message).toMatch(kind === 'test.crash' ? /boom in the host/ : /code 3/)
    // Requests made during the restart wait for the new worker.
    await expect(e.request({ v: 1, id: 14, kind: 'test.echo', payload: { again: true } })).resolves.toMatchObject({
      id: 14,
      ok: true,
      result: { payload: { again: true } },
    })
    expect(starts()).toBe(2)
  })

  it('stops restarting a worker that keeps crashing and then refuses requests with host_crashed', async () => {
    const { engine: e, starts } = engine(CRASH_AT_START, { maxRestarts: 2, backoffMs: 1 })
    const gaveUp = nextEvent(e, (m) => m.event === 'host.status' && (m.payload as { status: string }).status === 'crashed')
    const early = e.request({ v: 1, id: 5, kind: 'test.echo', payload: {} })
    expect(((await gaveUp).payload as { message: string }).message).toMatch(/3 times in a row.*cannot start/)
    await expect(early).resolves.toMatchObject({ id: 5, ok: false, error: { code: 'host_crashed' } })
    await expect(e.request({ v: 1, id: 6, kind: 'test.echo', payload: {} })).resolves.toMatchObject({
      id: 6,
      ok: false,
      error: { code: 'host_crashed' },
    })
    expect(starts()).toBe(3)
  })

  it('treats a factory that throws like a crash', async () => {
    let calls = 0
    const e = new EngineProcess(
      () => {
        if (calls++ === 0) throw new Error('worker file missing')
        return new Worker(FAKE_HOST, { eval: true })
      },
      { backoffMs: 1, log: () => undefined },
    )
    engines.push(e)
    await expect(e.request({ v: 1, id: 9, kind: 'test.echo', payload: {} })).resolves.toMatchObject({ id: 9, ok: true })
    expect(calls).toBe(2)
  })

  it('tags each request with its client, outside the payload, and passes event owners to listeners', async () => {
    const { engine: e } = engine(FAKE_HOST)
    const owners: (string | undefined)[] = []
    const events: EventMessage[] = []
    e.onEvent((m, owner) => {
      if (m.event !== 'train.metrics') return
      events.push(m)
      owners.push(owner)
    })
    await expect(e.request({ v: 1, id: 1, kind: 'test.echo', payload: {} }, 'ws7')).resolves.toMatchObject({
      result: { hostSawClient: 'ws7', payload: {} },
    })
    await expect(e.request({ v: 1, id: 2, kind: 'test.echo', payload: {} })).resolves.toMatchObject({ result: { hostSawClient: null } })
    await e.request({ v: 1, id: 3, kind: 'test.emit', payload: { n: 1, owner: 'ws7' } })
    await e.request({ v: 1, id: 4, kind: 'test.emit', payload: { n: 2 } })
    expect(owners).toEqual(['ws7', undefined])
    // The owner travels beside the event, never inside what a client is sent.
    for (const m of events) expect(Object.keys(m).sort()).toEqual(['event', 'payload', 'v'])
  })

  it('sends release and shutdown as control messages, and terminates a host that never answers shutdown', async () => {
    const { engine: e } = engine(FAKE_HOST)
    await expect(e.release('ws3')).resolves.toMatchObject({ ok: true, result: { control: { op: 'release', client: 'ws3' } } })
    const lines: string[] = []
    const { engine: quiet } = engine(FAKE_HOST, { log: (l) => lines.push(l) })
    await quiet.request({ v: 1, id: 1, kind: 'test.deaf', payload: {} })
    await quiet.shutdown(50)
    expect(lines.join('\n')).toMatch(/did not save its runs within 50 ms/)
    await expect(quiet.request({ v: 1, id: 2, kind: 'test.echo', payload: {} })).resolves.toMatchObject({
      ok: false,
      error: { code: 'host_crashed' },
    })
  })

  it('answers pending and later requests after dispose', async () => {
    const { engine: e } = engine(FAKE_HOST)
    const stuck = e.request({ v: 1, id: 1, kind: 'test.silent', payload: {} })
    await e.dispose()
    await expect(stuck).resolves.toMatchObject({ id: 1, ok: false, error: { code: 'host_crashed' } })
    await expect(e.request({ v: 1, id: 2, kind: 'test.echo', payload: {} })).resolves.toMatchObject({ ok: false })
  })
})
