import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { GraphSnapshot, NetworkSnapshot } from '../../shared/protocol-inspect'
import { mlpGraph, networkFixture } from './inspect-fixtures'
import type { FakeHost } from '../engine/fake-host'
import { setEngineClient } from '../engine'
import { CHECK, inspectHost } from './inspect-host'
import { REBUILD_DELAY_MS, useSessionStore } from './session'
import { useFormStore } from './form'
import { gradcheckVerdict, useInspectStore } from './inspect'

let host: FakeHost

async function ready() {
  const session = useSessionStore()
  await session.init()
  await vi.advanceTimersByTimeAsync(0)
  return { session, inspect: useInspectStore() }
}

beforeEach(() => {
  vi.useFakeTimers()
  host = inspectHost()
  setActivePinia(createPinia())
})
afterEach(() => {
  setEngineClient(null)
  vi.useRealTimers()
})

describe('inspect fixtures', () => {
  it('are valid protocol snapshots (the views are tested against the real contract)', () => {
    expect(GraphSnapshot.safeParse(mlpGraph({ hidden: [16, 16, 16], activation: 'relu' })).success).toBe(true)
    expect(NetworkSnapshot.safeParse(networkFixture([2, 64, 64, 2], 500)).success).toBe(true)
  })
})

describe('inspect store', () => {
  it('drops every check when the session is rebuilt', async () => {
    const { inspect } = await ready()
    await inspect.checkGradient('layers.1.weight')
    useFormStore().form.hidden = [4]
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.sessionId).toBeNull() // stale: the rebuild is pending
    expect(inspect.gradchecks).toEqual({})
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + 10)
    expect(inspect.sessionId).toBe('s2')
  })

  it('a gradient check runs once at a time and records the step it was run at', async () => {
    const { inspect } = await ready()
    const first = inspect.checkGradient('layers.1.weight')
    expect(inspect.gradchecks['layers.1.weight']).toEqual({ status: 'running' })
    await inspect.checkGradient('layers.1.weight') // ignored while running
    await first
    expect(host.kinds().filter((k) => k === 'session.gradcheck')).toHaveLength(1)
    expect(inspect.gradchecks['layers.1.weight']).toEqual({ status: 'done', result: CHECK, step: 0 })
  })

  it('turns host errors into messages for the view instead of throwing', async () => {
    host.overrides.set('session.gradcheck', () => ({ error: { code: 'not_found', message: 'session.gradcheck: no parameter "x"' } }))
    const { inspect } = await ready()
    await inspect.checkGradient('x')
    expect(inspect.gradchecks['x']).toEqual({ status: 'error', message: 'session.gradcheck: no parameter "x"' })
  })
})

describe('gradient check verdicts', () => {
  it('✓ below 1e-6, ≈ below 1e-4, ✗ above', () => {
    expect(gradcheckVerdict(3e-11).mark).toBe('✓')
    expect(gradcheckVerdict(5e-6).mark).toBe('≈')
    expect(gradcheckVerdict(0.02).mark).toBe('✗')
  })
})
