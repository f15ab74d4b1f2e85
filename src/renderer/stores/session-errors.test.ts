// The banners' topics as the session store uses them: what belongs to a session goes with it.
import { describe, expect, it, vi } from 'vitest'
import { FAKE_BACKEND, FakeHost } from '../engine/fake-host'
import { useStudioInspectStore } from '../features/studio/stores/studio-inspect'
import { PREVIEW_DELAY_MS, UPDATE_DELAY_MS, useSessionStore } from './session'
import { useErrorsStore } from './errors'
import { useFormStore } from './form'
import { useFakeHost } from './fake-host-setup'

let host: FakeHost

async function ready() {
  const store = useSessionStore()
  await store.init()
  return store
}
const messages = () => useErrorsStore().errors.map((e) => [e.message, e.topic ?? null])

useFakeHost((h) => (host = h))

describe('errors store: topics', () => {
  it('clears one topic and leaves the others and the messages without one', () => {
    const errors = useErrorsStore()
    errors.pushError('a', 'session')
    errors.pushError('b', 'form')
    errors.pushError('c')
    errors.pushError('a', 'session')
    errors.clearTopic('session')
    expect(errors.errors.map((e) => e.message)).toEqual(['b', 'c'])
    errors.clearTopic('form')
    expect(errors.errors.map((e) => e.message)).toEqual(['c'])
  })
})

describe('session store: banners belong to their session', () => {
  function pausedWith(id: string, message: string) {
    return { sessionId: id, status: 'paused', step: 120, epoch: 3, backend: { ...FAKE_BACKEND }, message } as const
  }

  it('a reset clears the session’s banners and keeps the settings’ ones', async () => {
    const store = await ready()
    await store.play()
    host.emit('session.state', pausedWith(store.info!.state.sessionId, 'stopped: reached 120 steps (maxSteps)'))
    useFormStore().form.optimizer.lr = 50
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS)
    expect(messages()).toEqual([
      ['stopped: reached 120 steps (maxSteps)', 'session'],
      [expect.stringMatching(/^Check the settings: Learning rate/), 'form'],
    ])
    useFormStore().form.optimizer.lr = 0.1
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS)
    expect(messages()).toEqual([['stopped: reached 120 steps (maxSteps)', 'session']])
    await store.reset()
    expect(messages()).toEqual([])
  })

  it('a refused request and a lost host are the session’s too; a data change clears them', async () => {
    const store = await ready()
    host.overrides.set('session.start', () => ({ error: { code: 'backend_unavailable', message: 'webgpu: no adapter' } }))
    await store.play()
    host.emit('host.status', { status: 'restarted', message: 'worker exited with code 1' })
    expect(messages()).toEqual([
      ['Backend unavailable: webgpu: no adapter', 'session'],
      ['The engine host restarted: worker exited with code 1', 'session'],
    ])
    useFormStore().form.data.generator = 'circle'
    await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS)
    expect(messages()).toEqual([])
  })

  it('a pause an alarm caused is not also a banner: the Alarms card has it', async () => {
    const store = await ready()
    const inspect = useStudioInspectStore()
    await store.play()
    const id = store.info!.state.sessionId
    const message = 'step 12: exploding gradients — layers.1 gradient norm 2e+3 exceeds 1e+3; training paused.'
    host.emit('train.alarm', { sessionId: id, step: 12, kind: 'exploding', layer: 'layers.1', parameter: null, message, paused: true })
    host.emit('session.state', pausedWith(id, message))
    expect(store.state?.status).toBe('paused')
    expect(inspect.alarms.map((a) => a.message)).toEqual([message])
    expect(messages()).toEqual([])
    // A pause for another reason still says why.
    host.emit('session.state', pausedWith(id, 'stopped: reached 120 steps (maxSteps)'))
    expect(messages()).toEqual([['stopped: reached 120 steps (maxSteps)', 'session']])
  })
})
