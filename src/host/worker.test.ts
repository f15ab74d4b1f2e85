// The real worker entry in a real worker_threads Worker. The app loads it through electron-vite's
// `?nodeWorker` import, which vitest cannot do, so this test loads the TypeScript entry through
// tsx's module loader instead: the same code, wired to a real parentPort.
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvent, parseReply, type ReplyMessage } from '../shared/protocol'
import { spec } from './test-helpers'

const entry = fileURLToPath(new URL('./index.ts', import.meta.url))
// The bundled datasets are Vite `?raw` imports; raw-register.mjs teaches Node the same.
const rawHook = fileURLToPath(new URL('./datasets/raw-register.mjs', import.meta.url))
const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(rawHook)}) }).then(() => import(${JSON.stringify(entry)}))`

let worker: Worker
const replies = new Map<number, (r: ReplyMessage) => void>()
const unmatched: ReplyMessage[] = []
const events: unknown[] = []

function onMessage(m: { id?: number; event?: string }): void {
  if (m.event !== undefined) events.push(m)
  else if (typeof m.id === 'number' && replies.has(m.id)) replies.get(m.id)!(m as ReplyMessage)
  else unmatched.push(m as ReplyMessage)
}

let nextId = 100
function request(kind: string, payload: unknown): Promise<ReplyMessage> {
  const id = nextId++
  return new Promise((resolve) => {
    replies.set(id, resolve)
    worker.postMessage({ v: 1, id, kind, payload })
  })
}

beforeAll(() => {
  worker = new Worker(boot, { eval: true })
  worker.on('message', onMessage)
})
afterAll(async () => {
  await worker.terminate()
})

describe('engine host worker (worker_threads)', () => {
  it('survives any message and answers each with a typed error', async () => {
    const junk: unknown[] = [
      null,
      undefined,
      0,
      'hello',
      true,
      [],
      [1, 2],
      new Uint8Array(4),
      new Map(),
      { v: 1 },
      { v: 1, id: 5, kind: 1, payload: {} },
    ]
    for (const m of junk) worker.postMessage(m)
    const hello = await request('host.hello', {})
    expect(parseReply('host.hello', hello).ok).toBe(true)
    // Messages on one port arrive in order, so every junk reply came before hello's.
    expect(unmatched).toHaveLength(junk.length)
    for (const r of unmatched) expect(r).toMatchObject({ v: 1, ok: false, error: { code: 'invalid_message' } })
  }, 20_000)

  it('trains a session and streams valid events', async () => {
    const created = await request('session.create', spec())
    expect(parseReply('session.create', created).ok).toBe(true)
    const stepped = await request('session.step', { sessionId: 's1', steps: 200 })
    const r = parseReply('session.step', stepped)
    expect(r.ok && r.result).toMatchObject({ status: 'paused', step: 200 })
    await request('host.hello', {}) // events posted before this reply have arrived
    expect(events.length).toBeGreaterThanOrEqual(3)
    for (const e of events) expect(parseEvent(e).ok).toBe(true)
    const steps = events.flatMap((e) => {
      const p = parseEvent(e)
      return p.ok && p.value.event === 'train.metrics' ? (p.value.payload as { steps: number[] }).steps : []
    })
    expect(steps).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
  }, 20_000)

  it('loads Dawn inside the worker thread and trains a WebGPU session there', async () => {
    const created = await request('session.create', spec({ backend: 'webgpu' }))
    const c = parseReply('session.create', created)
    expect(c.ok && c.result.state.backend).toMatchObject({ name: 'webgpu', reason: expect.stringMatching(/^requested \(/) })
    const sessionId = c.ok ? c.result.state.sessionId : ''
    const stepped = parseReply('session.step', await request('session.step', { sessionId, steps: 30 }))
    expect(stepped.ok && stepped.result).toMatchObject({ status: 'paused', step: 30, backend: { name: 'webgpu' } })
    const hist = parseReply('session.histograms', await request('session.histograms', { sessionId, bins: 8, range: 'auto' }))
    expect(hist.ok && hist.result.step).toBe(30)
  }, 30_000)
})
