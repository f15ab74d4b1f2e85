// Each session trains on the backend it asked for, even when creates overlap: the host places a
// session's model on its own backend object and never switches the engine's default. Before that,
// chooseBackend switched the global across awaits, and a 'cpu' create landing a few microtasks
// into a 'webgpu' one (or the reverse) got the other's backend object. Real host, real Dawn on
// SwiftShader (VK_ICD_FILENAMES comes from vitest.config.ts).
import { afterEach, describe, expect, it } from 'vitest'
import type { BackendName } from '../engine'
import { setDeviceSource } from './gpu'
import { spec, testHost } from './test-helpers'

let current: ReturnType<typeof testHost> | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
  setDeviceSource(null)
})

/** Let `n` microtasks run: where the second create starts relative to the first one's awaits. */
async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

describe('placement: overlapping session.create requests', () => {
  it('a cpu and a webgpu create at every small offset each train on the backend they asked for', async () => {
    current = testHost()
    const { ok, host } = current
    const live = (id: string) => host['sessions'].get(id)!
    // Dawn loads once per worker; the race is in the awaits after that, so load it first.
    const warm = await ok('session.create', spec({ backend: 'webgpu' }))
    await ok('session.dispose', { sessionId: warm.state.sessionId })

    const misplaced: string[] = []
    for (const first of ['cpu', 'webgpu'] as const) {
      const second: BackendName = first === 'cpu' ? 'webgpu' : 'cpu'
      for (let offset = 0; offset <= 8; offset++) {
        const a = ok('session.create', spec({ backend: first }))
        await ticks(offset)
        const b = ok('session.create', spec({ backend: second }))
        const created = await Promise.all([a, b])
        for (const [asked, info] of [
          [first, created[0]],
          [second, created[1]],
        ] as const) {
          const where = `${asked} create (${first} first, second ${offset} ticks later)`
          const { sessionId } = info.state
          const { trainer } = live(sessionId)
          // The model that trains: the device copy of a WebGPU session, else the model itself; a
          // WebGPU session's mirror (what checkpoints and inspections read) stays on the CPU.
          const trains = trainer.device?.model ?? trainer.model
          const places = {
            reported: info.state.backend.name,
            trains: [...new Set(trains.parameters().map((p) => p.backend.name))].join(),
            mirror: [...new Set(trainer.model.parameters().map((p) => p.backend.name))].join(),
          }
          if (places.reported !== asked || places.trains !== asked || places.mirror !== 'cpu')
            misplaced.push(`${where}: ${JSON.stringify(places)}`)
          const r = await host.handle({ v: 1, id: 10_000 + offset, kind: 'session.step', payload: { sessionId, steps: 2 } })
          if (!r.ok) misplaced.push(`${where}: session.step failed: ${r.error.message}`)
          else expect(r.result, where).toMatchObject({ step: 2, backend: { name: asked } })
          await ok('session.dispose', { sessionId })
        }
      }
    }
    expect(misplaced).toEqual([])
  }, 240_000)
})
