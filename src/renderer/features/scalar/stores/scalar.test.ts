import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngineClient } from '../../../engine/engine-client'
import { FakeHost } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { FORWARD } from '../composables/use-scalar-replay'
import { reuseProgram, seedProgram } from '../test-programs'
import { useScalarStore } from './scalar'

let host: FakeHost

beforeEach(() => {
  host = new FakeHost()
  host.overrides.set('scalar.evaluate', (m) => {
    const source = (m.payload as { source: string }).source
    if (source.includes('??'))
      return { error: { code: 'invalid_payload', message: "scalar.evaluate: expression: line 2, col 5: unexpected character '?'" } }
    return { result: source.includes('a + a') ? reuseProgram() : seedProgram() }
  })
  setEngineClient(createEngineClient(host.transport()))
  setActivePinia(createPinia())
})
afterEach(() => setEngineClient(null))

describe('scalar store', () => {
  it('evaluates the source on the host and starts in the forward pass, grads blank', async () => {
    const store = useScalarStore()
    await store.forward()
    expect(host.last('scalar.evaluate')!.payload).toEqual({ source: store.source })
    expect(store.position).toBe(FORWARD)
    expect(store.grads.size).toBe(0)
    expect(store.stepCount).toBe(6)
    expect(store.edited).toBe(false)
  })

  it('steps backward one step at a time, undoes, runs the whole pass and resets', async () => {
    const store = useScalarStore()
    await store.forward()
    store.stepBackward()
    expect([...store.grads]).toEqual([[6, 1]])
    store.stepBackward()
    expect(store.current?.inputId).toBe(4)
    store.undo()
    expect(store.position).toBe(0)
    store.fullBackward()
    expect(store.done).toBe(true)
    expect(store.grads.get(0)).toBe(6)
    store.stepBackward()
    expect(store.position).toBe(6)
    store.reset()
    expect(store.position).toBe(FORWARD)
    store.undo()
    expect(store.position).toBe(FORWARD)
  })

  it('a move pressed while Forward is in flight applies to the program it brings (Full backward right after Forward)', async () => {
    const store = useScalarStore()
    await store.forward()
    store.edit('a + a')
    const landing = store.forward()
    expect(store.busy).toBe(true)
    store.fullBackward()
    await landing
    expect(store.program?.steps).toEqual(reuseProgram().steps)
    expect(store.done).toBe(true)
    // Once it has landed, moves apply at once again, and nothing is left pending for the next Forward.
    store.reset()
    expect(store.position).toBe(FORWARD)
    await store.forward()
    expect(store.position).toBe(FORWARD)
  })

  it('loads a preset, and tracks the right and the `=` gradients side by side', async () => {
    const store = useScalarStore()
    await store.loadPreset('reuse')
    expect(store.presetId).toBe('reuse')
    store.fullBackward()
    expect(store.grads.get(0)).toBe(2)
    expect(store.wrongGrads.get(0)).toBe(1)
    expect(store.contributions.get(0)).toHaveLength(2)
  })

  it('shows a parse error with its position and keeps the last good program', async () => {
    const store = useScalarStore()
    await store.forward()
    store.edit('a = 1\nb = ??')
    expect(store.edited).toBe(true)
    expect(store.presetId).toBeNull()
    await store.forward()
    expect(store.error).toMatchObject({ line: 2, col: 5, excerpt: 'b = ??', message: "unexpected character '?'" })
    expect(store.program?.rootId).toBe(6)
  })
})
