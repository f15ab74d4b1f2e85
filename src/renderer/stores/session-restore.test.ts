// What a page load starts from, against the real engine host in-process (with a runs folder): a
// reloaded tab re-attaches to its session, a link builds its experiment (its invalid fields named),
// a link naming another experiment replaces the tab's old session, and a missing upload is asked for.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EngineHost } from '../../host/host'
import { createEngineClient } from '../engine/engine-client'
import { setEngineClient } from '../engine'
import { Listeners, type Transport } from '../engine/transport'
import { useErrorsStore } from './errors'
import { useFormStore } from './form'
import { useMetricsStore } from './metrics'
import { encodeLink, toBase64Url } from './link-codec'
import { useLinkStore } from './link'
import { useSessionStore } from './session'
import { memoryStorage } from './storage-fixture'
import { defaultForm } from './session-form'

let dir: string
let host: EngineHost
/** The current page's event listeners (the host posts to whichever page is loaded). */
let hostEvents = new Listeners<unknown>()
const asked: string[] = []
const storage = new Map<string, string>()
/** The page: its address bar's hash and its per-tab storage, as the stores see them. */
const page = {
  location: { hash: '' },
  history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => (page.location.hash = url) },
  addEventListener: () => undefined,
  sessionStorage: {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, v),
    removeItem: (k: string) => void storage.delete(k),
  },
}

/** A page load: new stores and a new connection to the same host, as the same client (the server's resume) unless told. */
async function load(hash = '', builds = true, client = 'tab-1') {
  page.location.hash = hash
  const events = new Listeners<unknown>()
  hostEvents = events
  const transport: Transport = {
    send: (m) => {
      // A page replaced by a later load is gone: its stores' late timers reach no host.
      if (hostEvents !== events) return Promise.resolve({ v: 1, id: m.id, ok: false, error: { code: 'host_crashed', message: 'unloaded' } })
      asked.push(m.kind)
      return host.handle(m, client)
    },
    onEvent: (l) => events.add(l),
    status: () => ({ state: 'open' }),
    onStatus: () => () => {},
    close: () => {},
  }
  setEngineClient(createEngineClient(transport))
  setActivePinia(createPinia())
  const store = useSessionStore()
  expect(await store.init()).toBe(builds)
  return store
}
const count = (kind: string) => asked.filter((k) => k === kind).length

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bps-restore-'))
  host = new EngineHost((m) => hostEvents.emit(m), { dataDir: join(dir, 'runs') })
  asked.length = 0
  storage.clear()
  vi.stubGlobal('window', page)
  vi.stubGlobal('history', page.history)
})
afterEach(() => {
  host.dispose()
  setEngineClient(null)
  vi.unstubAllGlobals()
  rmSync(dir, { recursive: true, force: true })
})

describe('session restore (real host)', () => {
  it('re-attaches a reloaded tab to its session, at its step, without building another', async () => {
    const first = await load()
    expect(await first.step(7)).toBe(true)
    const id = first.info!.state.sessionId
    const link = page.location.hash

    const again = await load(link)
    expect(again.info?.state.sessionId).toBe(id)
    expect(again.state).toMatchObject({ sessionId: id, step: 7 })
    expect(count('session.create')).toBe(1)
    expect(count('session.dispose')).toBe(0)
    expect(again.stale).toBe(false)
    // The charts start with the run's history (the host recorded it), not empty.
    expect(count('runs.metrics')).toBe(1)
    expect(useMetricsStore().latest.step).toBe(7)
  })

  it('builds the experiment a link describes, naming the fields it could not apply', async () => {
    const form = defaultForm()
    form.data.generator = 'moons'
    form.hidden = [5]
    form.activations = ['relu']
    form.blocks = [form.blocks[0]!]
    form.optimizer.type = 'sgd'
    const store = await load(`#${encodeLink(form)}`)
    expect(store.info!.spec).toMatchObject({ data: { generator: 'moons' }, model: { hidden: [5] }, optimizer: { type: 'sgd' } })
    expect(useErrorsStore().errors).toEqual([])

    const bad = `#x=1.${toBase64Url(JSON.stringify({ f: { data: { generator: 'xor' }, optimizer: { lr: 99 } } }))}`
    const next = await load(bad)
    expect(next.info!.spec).toMatchObject({ data: { generator: 'xor' }, optimizer: { lr: 0.01 } })
    expect(useErrorsStore().errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^Link: "optimizer\.lr" was not applied: must be at most 10 \(it is 99\)/),
    ])
  })

  it('replaces the tab’s old session when the address bar names another experiment', async () => {
    const first = await load()
    const old = first.info!.state.sessionId
    const form = defaultForm()
    form.data.generator = 'circle'
    const next = await load(`#${encodeLink(form)}`)
    expect(next.info!.state.sessionId).not.toBe(old)
    expect(next.info!.spec.data).toMatchObject({ generator: 'circle' })
    expect(asked).toContain('session.dispose')
    expect((await host.handle({ v: 1, id: 1, kind: 'session.info', payload: { sessionId: old } }, 'tab-1')).ok).toBe(false)
  })

  it('asks for an uploaded file the data directory does not have, by its name and content id', async () => {
    const form = defaultForm()
    form.source = 'csv'
    Object.assign(form.csv, { fileId: 'f0123456789abcdef', target: 'y' })
    // Nothing can be built from a file the host lacks; the form keeps the link's settings for the upload.
    await load(`#${encodeLink(form, { f0123456789abcdef: 'houses.csv' })}`, false)
    expect(useFormStore().form.csv.fileId).toBe('f0123456789abcdef')
    expect(useErrorsStore().errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/uses the file "houses\.csv" \(content id f0123456789abcdef\), which this data directory does not have/),
    )
  })

  it('shows a second tab the session the first tab runs, held by both until the last one closes', async () => {
    // Pages (a document) keep their records in the profile's localStorage.
    vi.stubGlobal('document', {})
    vi.stubGlobal('localStorage', memoryStorage())
    const first = await load()
    expect(await first.step(5)).toBe(true)
    await first.play()
    const id = first.info!.state.sessionId
    const link = page.location.hash

    // A plain address and the first tab's own link both continue its session; a new tab has its own storage.
    for (const [n, hash] of [
      ['tab-2', ''],
      ['tab-3', link],
    ] as const) {
      storage.clear()
      const second = await load(hash, true, n)
      expect(second.info?.state.sessionId).toBe(id)
      expect(second.state?.step).toBeGreaterThanOrEqual(5)
      expect(second.stale).toBe(false)
    }
    expect(count('session.create')).toBe(1)
    expect(count('session.attach')).toBe(2)
    // The first tab closes: the others still hold the session.
    await host.release('tab-1')
    const info = await host.handle({ v: 1, id: 1, kind: 'session.info', payload: { sessionId: id } }, 'tab-2')
    expect(info).toMatchObject({ ok: true, result: { state: { sessionId: id } } })

    // A link to another experiment opens it, and leaves the others' session alone.
    const other = defaultForm()
    other.data.generator = 'circle'
    storage.clear()
    const third = await load(`#${encodeLink(other)}`, true, 'tab-4')
    expect(third.info!.state.sessionId).not.toBe(id)
    expect(count('session.create')).toBe(2)
  })

  it('writes the form into the address bar as it changes, and opens a pasted link', async () => {
    await load()
    // Both stores before any wait: a replaced page's late timer runs a store action, and Pinia makes
    // that store's (old) instance the active one again, so a store looked up later could be the old page's.
    const form = useFormStore().form
    const link = useLinkStore()
    form.data.generator = 'gauss'
    await vi.waitFor(() => expect(page.location.hash).toBe(`#${encodeLink(form)}`))
    const other = defaultForm()
    other.data.generator = 'xor'
    other.batchSize = 8
    expect(link.open(`http://127.0.0.1:4173/#${encodeLink(other)}`)).toBe(true)
    expect(form).toMatchObject({ data: { generator: 'xor' }, batchSize: 8 })
    expect(link.open('just some text')).toBe(false)
    expect(form.data.generator).toBe('xor')
  })
})
