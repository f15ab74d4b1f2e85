// The model summary store against the real engine host, in-process (no fake): the studio's
// session is described once built, described again after a structural rebuild, and a reply for a
// replaced session is dropped.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { errorReply, type RequestPayload } from '../../../../shared/protocol'
import { EngineHost } from '../../../../host/host'
import { createEngineClient } from '../../../engine/engine-client'
import { FakeHost } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { Listeners, type Transport } from '../../../engine/transport'
import { REBUILD_DELAY_MS, useSessionStore } from '../../../stores/session'
import { useFormStore } from '../../../stores/form'
import { useModelSummaryStore } from './model-summary'

let host: EngineHost
const asked: string[] = []
/** Held replies to session.describe (a test releases them in its own order). */
let hold: ((release: () => void) => void) | null = null

function inProcess(): Transport {
  const events = new Listeners<unknown>()
  host = new EngineHost((msg) => events.emit(msg))
  return {
    send: async (m) => {
      asked.push(m.kind)
      const reply = host.handle(m)
      if (m.kind === 'session.describe' && hold) await new Promise<void>((r) => hold!(r))
      return reply
    },
    onEvent: (l) => events.add(l),
    status: () => ({ state: 'open' }),
    onStatus: () => () => {},
    close: () => {},
  }
}

beforeEach(() => {
  asked.length = 0
  hold = null
  setEngineClient(createEngineClient(inProcess()))
  setActivePinia(createPinia())
})
afterEach(() => {
  host.dispose()
  setEngineClient(null)
  vi.useRealTimers()
})

describe('model summary store (real host)', () => {
  it("describes the studio's session as the host built it", async () => {
    const session = useSessionStore()
    const summary = useModelSummaryStore()
    useFormStore().form.data.n = 100
    useFormStore().form.backend = 'cpu'
    await session.init()
    await vi.waitFor(() => expect(summary.description).not.toBeNull())
    expect(summary.description!.summary).toBe('2 → 8 tanh → 8 tanh → 2 (softmax CE) · 114 parameters · Adam')
    expect(summary.description!.paramCount).toBe(session.info!.paramCount)
    expect(summary.description!.loss.why).toMatch(/^auto picked softmax cross-entropy for a binary task/)
    expect(summary.error).toBeNull()
  })

  it('describes the new session after a rebuild, and drops a reply about the one it replaced', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const session = useSessionStore()
    const summary = useModelSummaryStore()
    useFormStore().form.data.n = 100
    useFormStore().form.backend = 'cpu'
    const held: (() => void)[] = []
    hold = (release) => held.push(release)
    await session.init()
    const first = session.info!.state.sessionId
    await vi.waitFor(() => expect(held).toHaveLength(1)) // the first session's description is in flight
    useFormStore().form.hidden = [4]
    useFormStore().form.activations = ['relu']
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + 10)
    await vi.waitFor(() => expect(session.info!.state.sessionId).not.toBe(first))
    await vi.waitFor(() => expect(held).toHaveLength(2))
    held[1]!() // the new session's answer arrives first…
    await vi.waitFor(() => expect(summary.description?.summary).toBe('2 → 4 relu → 2 (softmax CE) · 22 parameters · Adam'))
    held[0]!() // …then the old one's, which must not replace it
    await vi.advanceTimersByTimeAsync(0)
    expect(summary.description!.summary).toBe('2 → 4 relu → 2 (softmax CE) · 22 parameters · Adam')
    expect(asked.filter((k) => k === 'session.describe')).toHaveLength(2)
  })

  it('keeps the error when the host refuses', async () => {
    setEngineClient(
      createEngineClient({
        ...inProcess(),
        send: async (m) => (m.kind === 'session.describe' ? errorReply(m.id, 'not_found', 'no session "s1"') : host.handle(m)),
      }),
    )
    const session = useSessionStore()
    const summary = useModelSummaryStore()
    useFormStore().form.data.n = 100
    useFormStore().form.backend = 'cpu'
    await session.init()
    await vi.waitFor(() => expect(summary.error).toMatch(/no session "s1"/))
    expect(summary.description).toBeNull()
  })

  it('the test double describes a session exactly as the real host does', async () => {
    const real = createEngineClient(inProcess())
    const fake = createEngineClient(new FakeHost().transport())
    const base: RequestPayload<'session.create'> = {
      model: { hidden: [16, 16] },
      data: { generator: 'spiral', n: 100, seed: 1 },
      optimizer: { type: 'adam', lr: 0.01 },
      backend: 'cpu',
    }
    const specs: RequestPayload<'session.create'>[] = [
      base,
      { ...base, model: { hidden: [3], activations: ['sigmoid'], loss: 'hinge' } },
      { ...base, data: { generator: 'blobs', n: 100, seed: 1, classes: 4 } },
      { ...base, model: { hidden: [5] }, data: { generator: 'reg-plane', n: 100, seed: 1 }, optimizer: { type: 'sgd', lr: 0.1 } },
    ]
    for (const spec of specs) {
      const describeOn = async (c: typeof real) =>
        c.request('session.describe', { sessionId: (await c.request('session.create', spec)).state.sessionId })
      expect(await describeOn(fake)).toEqual(await describeOn(real))
    }
  })
})
