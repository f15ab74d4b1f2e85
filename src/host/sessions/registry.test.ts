// The session registry on its own: creates in flight count against maxSessions, a create whose
// client left while it awaited its backend is refused and leaves nothing behind, and a dispose
// gives back the session's memory and its owner's claim.
import { afterEach, describe, expect, it } from 'vitest'
import { backends } from '../../engine'
import { LIMITS, SessionSpec } from '../../shared/protocol'
import { MemoryBudget } from '../budget'
import { asClient } from '../clients'
import { FileStore } from '../datasets/store'
import type { ChosenBackend } from '../gpu'
import { spec } from '../test-helpers'
import { SessionRegistry } from './registry'

const cpu: ChosenBackend = { info: { name: 'cpu', reason: 'requested' }, backend: backends.get('cpu') }
const parsed = SessionSpec.parse(spec())

/** A registry whose creates wait for the backend until `open()`; what it posted. */
function gated() {
  let open!: () => void
  let gate = new Promise<void>((r) => (open = r))
  const budget = new MemoryBudget()
  const registry = new SessionRegistry({
    files: new FileStore(null),
    budget,
    post: () => {},
    chooseBackend: async () => {
      await gate
      return cpu
    },
  })
  return {
    registry,
    budget,
    /** Let every waiting create go on (later ones go straight through). */
    open: () => {
      open()
      gate = Promise.resolve()
    },
  }
}

let current: SessionRegistry | null = null
afterEach(() => {
  current?.disposeAll()
  current = null
})

describe('SessionRegistry', () => {
  it('counts creates still in flight against maxSessions', async () => {
    const { registry, open } = gated()
    current = registry
    const creates = Array.from({ length: LIMITS.maxSessions }, () => registry.create(parsed, 'cpu'))
    expect(registry.size).toBe(0)
    await expect(registry.create(parsed, 'cpu')).rejects.toMatchObject({ code: 'limit' })
    open()
    const made = await Promise.all(creates)
    expect(made.map((s) => s.id)).toEqual(Array.from({ length: LIMITS.maxSessions }, (_, i) => `s${i + 1}`))
    await expect(registry.create(parsed, 'cpu')).rejects.toMatchObject({ code: 'limit' })
    registry.dispose('s3')
    expect((await registry.create(parsed, 'cpu')).id).toBe(`s${LIMITS.maxSessions + 1}`)
  })

  it('refuses a create whose client was released while it awaited, and keeps no reservation', async () => {
    const { registry, budget, open } = gated()
    current = registry
    const pending = asClient('c1', () => registry.create(parsed, 'cpu'))
    expect(await registry.release('c1')).toBe(0)
    open()
    await expect(pending).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/disconnected/) })
    expect(registry.size).toBe(0)
    expect(budget.used()).toBe(0)
    // Its slot is free again and its id was never used up.
    const made = await Promise.all(Array.from({ length: LIMITS.maxSessions }, () => asClient('c2', () => registry.create(parsed, 'cpu'))))
    expect(made[0].id).toBe('s1')
    // And the client stays gone: a later create for it is refused at once.
    registry.dispose('s1')
    await expect(asClient('c1', () => registry.create(parsed, 'cpu'))).rejects.toMatchObject({ code: 'not_found' })
  })

  it('gives back the memory and the owner claim on dispose', async () => {
    const { registry, budget, open } = gated()
    current = registry
    open()
    const a = await asClient('c1', () => registry.create(parsed, 'cpu'))
    const b = await asClient('c1', () => registry.create(parsed, 'cpu'))
    const one = budget.used()
    expect(one).toBeGreaterThan(0)
    expect(budget.used(b.id)).toBe(one / 2)
    registry.dispose(a.id)
    expect(budget.used()).toBe(one / 2)
    expect(() => registry.get(a.id)).toThrow(/no session "s1"/)
    // c1 now owns only b: its release disposes that one.
    expect(await registry.release('c1')).toBe(1)
    expect(registry.size).toBe(0)
    expect(budget.used()).toBe(0)
  })

  it('gives back the memory of a session that failed after its reservation, and keeps its id', async () => {
    const budget = new MemoryBudget()
    let broken = true
    // A backend that fails as soon as the model is placed on it: after `admit` reserved the memory.
    const failing = new Proxy(cpu.backend, {
      get() {
        throw new Error('this backend is broken')
      },
    })
    const registry = new SessionRegistry({
      files: new FileStore(null),
      budget,
      post: () => {},
      chooseBackend: async () => (broken ? { ...cpu, backend: failing } : cpu),
    })
    current = registry
    await expect(registry.create(parsed, 'cpu')).rejects.toThrow(/this backend is broken/)
    expect(budget.used()).toBe(0)
    expect(registry.size).toBe(0)
    broken = false
    expect((await registry.create(parsed, 'cpu')).id).toBe('s1')
    expect(budget.used()).toBeGreaterThan(0)
  })
})
