import { describe, expect, it, vi } from 'vitest'
import { isReactive, isRef } from 'vue'
import { FAKE_BACKEND, FakeHost, metricsBatch } from '../engine/fake-host'
import { PREVIEW_DELAY_MS, REBUILD_DELAY_MS, UPDATE_DELAY_MS, useSessionStore } from './session'
import { useConnectionStore } from './connection'
import { useErrorsStore } from './errors'
import { useFormStore } from './form'
import { useMetricsStore } from './metrics'
import { useFakeHost } from './fake-host-setup'

let host: FakeHost

async function ready() {
  const store = useSessionStore()
  await store.init()
  return store
}

useFakeHost((h) => (host = h))

describe('session store: lifecycle', () => {
  it('init asks the host what it offers, previews the data and builds a session from the form', async () => {
    const store = await ready()
    await vi.advanceTimersByTimeAsync(0)
    expect(host.kinds()).toEqual(['host.hello', 'dataset.preview', 'session.create'])
    expect(host.last('session.create')!.payload).toMatchObject({
      model: { hidden: [8, 8], activation: 'tanh' },
      data: { generator: 'spiral' },
      optimizer: { type: 'adam', lr: 0.01 },
      train: { batchSize: 32 },
    })
    expect(useConnectionStore().hello?.generators.map((g) => g.name)).toContain('spiral')
    expect(useFormStore().preview?.trainCount).toBe(6)
    // The form's own count (shown before the session exists) agrees with the host's.
    expect(store.info?.paramCount).toBe(2 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2)
    expect(useFormStore().shape?.paramCount).toBe(store.info?.paramCount)
    expect(store.state).toMatchObject({ status: 'idle', step: 0, backend: FAKE_BACKEND })
    expect(useMetricsStore().buffers.layerNames).toEqual(['hidden 1 (2→8)', 'hidden 2 (8→8)', 'output (8→2)'])
    expect(useConnectionStore().status.state).toBe('open')
  })

  it('play, pause, step and reset drive the current session', async () => {
    const store = await ready()
    const id = store.info!.state.sessionId
    await store.play()
    expect(store.running).toBe(true)
    await store.pause()
    expect(store.state?.status).toBe('paused')
    await store.step()
    expect(host.last('session.step')!.payload).toEqual({ sessionId: id, steps: 1 })
    expect(store.state?.step).toBe(1)
    host.emit('train.metrics', metricsBatch(id, 1, 1))
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(1)
    await store.reset()
    expect(store.state?.step).toBe(0)
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(0)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
  })

  it('rebuilds the session after a structural edit, and a Play during the wait acts on the new one', async () => {
    const store = await ready()
    const first = store.info!.state.sessionId
    useFormStore().form.hidden.push(4)
    await vi.advanceTimersByTimeAsync(0)
    expect(store.stale).toBe(true)
    await store.play()
    const second = store.info!.state.sessionId
    expect(second).not.toBe(first)
    expect(host.last('session.dispose')!.payload).toEqual({ sessionId: first })
    expect(host.last('session.create')!.payload.model.hidden).toEqual([8, 8, 4])
    expect(host.last('session.start')!.payload).toEqual({ sessionId: second })
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(2) // the debounced rebuild found nothing to do
    expect(useMetricsStore().buffers.layerNames).toHaveLength(4)
  })

  it('changes lr and batch size live, without a new session', async () => {
    const store = await ready()
    await store.play()
    useFormStore().form.optimizer.lr = 0.1
    useFormStore().form.batchSize = 64
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS + REBUILD_DELAY_MS)
    expect(host.last('session.update')!.payload).toEqual({ sessionId: store.info!.state.sessionId, optimizer: { lr: 0.1 }, batchSize: 64 })
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
    expect(store.running).toBe(true)
  })
})

describe('session store: studio settings', () => {
  it('sends every live setting as a patch of what changed, mid-run, without a reset', async () => {
    const store = await ready()
    await store.play()
    const id = store.info!.state.sessionId
    useFormStore().form.optimizer.beta1 = 0.8
    useFormStore().form.schedule = { ...useFormStore().form.schedule, type: 'cosine', periodSteps: 400, minLr: 0.001 }
    useFormStore().form.l2 = 0.01
    useFormStore().form.clipNorm = 1
    useFormStore().form.stop.earlyStopping = { patience: 3, minDelta: 0 }
    useFormStore().form.alarms.pause = false
    useFormStore().form.maxStepsPerSecond = 10
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS + REBUILD_DELAY_MS)
    expect(host.last('session.update')!.payload).toEqual({
      sessionId: id,
      optimizer: { beta1: 0.8 },
      schedule: { type: 'cosine', periodSteps: 400, minLr: 0.001, warmupSteps: 0 },
      l2: 0.01,
      clipNorm: 1,
      stop: { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: { patience: 3, minDelta: 0 } },
      alarms: { explodingGradNorm: 1000, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: false },
      maxStepsPerSecond: 10,
    })
    // A second edit sends only itself.
    useFormStore().form.optimizer.lr = 0.003
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS)
    expect(host.last('session.update')!.payload).toEqual({ sessionId: id, optimizer: { lr: 0.003 } })
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
    expect(store.running).toBe(true)
  })

  it('does not rebuild a session that has trained until the user asks (Rebuild, Reset or Play)', async () => {
    const store = await ready()
    await store.step(5)
    useFormStore().form.activations[0] = 'gelu'
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS * 2)
    expect(store.stale).toBe(true)
    expect(store.progressed).toBe(true)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
    expect(store.state?.step).toBe(5)
    await store.rebuild()
    expect(host.last('session.create')!.payload.model).toMatchObject({ activations: ['gelu', 'tanh'] })
    expect(store.state?.step).toBe(0)
    expect(store.stale).toBe(false)
  })

  it('rebuilds at once while the session has not trained yet (as Playground does)', async () => {
    const store = await ready()
    useFormStore().addLayer()
    useFormStore().moveLayer(2, -2)
    useFormStore().form.hidden[0] = 3
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(host.last('session.create')!.payload.model).toMatchObject({ hidden: [3, 8, 8], activations: ['tanh', 'tanh', 'tanh'] })
    expect(store.info?.paramCount).toBe(useFormStore().shape?.paramCount)
  })

  it('shows why a backend was refused, next to the backend choice', async () => {
    const store = await ready()
    useFormStore().form.backend = 'webgpu'
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(store.createError).toEqual({ code: 'backend_unavailable', message: expect.stringMatching(/no WebGPU adapter/) })
    expect(useErrorsStore().errors.at(-1)!.message).toMatch(/^Backend unavailable: /)
    useFormStore().form.backend = 'cpu'
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(store.createError).toBeNull()
    expect(store.info?.spec.backend).toBe('cpu')
  })

  it('previews each source, skips one with nothing chosen, and counts parameters from the preview', async () => {
    const store = await ready()
    useFormStore().form.source = 'csv'
    await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS + REBUILD_DELAY_MS)
    expect(host.kinds().filter((k) => k === 'dataset.preview')).toHaveLength(1)
    expect(useFormStore().freshPreview).toBeNull()
    expect(useErrorsStore().errors.at(-1)?.message).toMatch(/CSV file: upload a CSV file first/)

    const file = host.addFile('houses.csv', 'rooms,area,city,price\n3,80,a,200\n4,95,b,260\n2,50,a,150\n5,120,b,400\n')
    useFormStore().form.csv = { ...useFormStore().form.csv, fileId: file.fileId, target: 'price', features: null }
    await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS + REBUILD_DELAY_MS)
    expect(host.last('dataset.preview')!.payload).toMatchObject({ source: 'csv', fileId: file.fileId, target: 'price' })
    expect(useFormStore().freshPreview?.featureNames).toEqual(['rooms', 'area'])
    expect(useFormStore().shape).toMatchObject({ inputs: 2 })
    expect(store.info?.spec.data).toMatchObject({ source: 'csv' })
    expect(store.info?.paramCount).toBe(useFormStore().shape?.paramCount)

    useFormStore().form.source = 'bundled'
    await vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS + REBUILD_DELAY_MS)
    expect(useFormStore().freshPreview?.axisNames).toEqual(['sepal length', 'sepal width'])
    expect(store.info?.inputFeatures).toBe(4)
    expect(store.info?.paramCount).toBe(useFormStore().shape?.paramCount)
  })
})

describe('session store: metrics', () => {
  it('ingests batches into plain buffers and bumps a version, ignoring other sessions', async () => {
    const store = await ready()
    const id = store.info!.state.sessionId
    await store.play()
    const v0 = useMetricsStore().version
    host.emit('train.metrics', metricsBatch(id, 1, 50))
    host.emit('train.metrics', metricsBatch('s999', 51, 60))
    expect(useMetricsStore().version).toBe(v0 + 1)
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(50)
    expect(useMetricsStore().buffers.testLoss.points()).toEqual([{ x: 50, y: 0.6 }])
    expect(useMetricsStore().buffers.layers.length).toBe(1)
    expect(useMetricsStore().buffers.layers.layers).toBe(3)
    expect(useMetricsStore().latest).toMatchObject({ step: 50, trainLoss: 0.5, testLoss: 0.6, testAccuracy: 0.75, stepsPerSecond: 1000 })
    expect(store.state?.step).toBe(50)
    // The buffers never become reactive proxies, however many points they hold.
    expect(isReactive(useMetricsStore().buffers)).toBe(false)
    expect(isRef(useMetricsStore().buffers.trainLoss)).toBe(false)
  })
})

describe('session store: errors', () => {
  it('shows an error reply in the banner, counts repeats, and dismisses it', async () => {
    const store = await ready()
    host.overrides.set('session.start', () => ({ error: { code: 'backend_unavailable', message: 'webgpu: no adapter' } }))
    await store.play()
    await store.play()
    expect(useErrorsStore().errors).toEqual([
      { id: expect.any(Number), message: 'Backend unavailable: webgpu: no adapter', count: 2, topic: 'session' },
    ])
    useErrorsStore().dismissError(useErrorsStore().errors[0]!.id)
    expect(useErrorsStore().errors).toEqual([])
  })

  it('refuses bad settings locally, naming the field', async () => {
    const store = await ready()
    await store.play()
    useFormStore().form.optimizer.lr = 50
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS)
    expect(useErrorsStore().errors[0]!.message).toMatch(/^Check the settings: Learning rate must be at most 10 \(it is 50\)$/)
    expect(host.kinds()).not.toContain('session.update')
    useFormStore().form.hidden[0] = 0
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(
      useErrorsStore()
        .errors.map((e) => e.message)
        .join('\n'),
    ).toMatch(/Hidden layer 1's width must be at least 1 \(it is 0\)/)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
  })

  it('fixing an invalid field applies the structural edit made meanwhile and clears its banner (no stuck rebuild)', async () => {
    const store = await ready()
    const form = useFormStore().form
    form.optimizer.lr = 50
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS)
    form.optimizer.type = 'sgd'
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS * 2)
    expect(store.stale).toBe(true)
    expect(useErrorsStore().errors.map((e) => e.message)).toEqual([expect.stringMatching(/^Check the settings: Learning rate must/)])
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
    form.optimizer.lr = 0.1
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS * 2)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(2)
    expect(host.last('session.create')!.payload.optimizer).toMatchObject({ type: 'sgd', lr: 0.1 })
    expect(store.stale).toBe(false)
    expect(useErrorsStore().errors).toEqual([])
  })

  it('shows the reason a run paused itself (e.g. a NaN loss)', async () => {
    const store = await ready()
    const id = store.info!.state.sessionId
    await store.play()
    const paused = {
      sessionId: id,
      status: 'paused',
      step: 120,
      epoch: 3,
      backend: { ...FAKE_BACKEND },
      message: 'loss became NaN at step 120; paused',
    } as const
    host.emit('session.state', paused)
    host.emit('session.state', paused)
    expect(store.state?.status).toBe('paused')
    expect(useErrorsStore().errors.map((e) => [e.message, e.count])).toEqual([['loss became NaN at step 120; paused', 1]])
  })

  it('forgets the session when the host crashes, and Play builds a new one', async () => {
    const store = await ready()
    await store.play()
    host.sessions.clear()
    host.emit('host.status', { status: 'crashed', message: 'worker exited with code 134' })
    expect(store.info).toBeNull()
    expect(store.running).toBe(false)
    expect(useErrorsStore().errors[0]!.message).toBe('The engine host crashed: worker exited with code 134')
    await store.play()
    expect(store.running).toBe(true)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(2)
  })

  it('recovers when the host no longer knows the session', async () => {
    const store = await ready()
    host.sessions.clear()
    await store.step()
    expect(useErrorsStore().errors[0]!.message).toMatch(/no session/)
    expect(store.info).toBeNull()
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(store.info).not.toBeNull()
    await store.step()
    expect(store.state?.step).toBe(1)
  })

  it('retries the first connection when the socket comes back, without a second session', async () => {
    host.overrides.set('host.hello', () => ({ error: { code: 'internal', message: 'host.hello: engine not ready' } }))
    const store = useSessionStore()
    expect(await store.init()).toBe(false)
    expect(useConnectionStore().hello).toBeNull()
    host.overrides.clear()
    host.setStatus({ state: 'reconnecting' })
    host.setStatus({ state: 'open' })
    await vi.advanceTimersByTimeAsync(0)
    expect(useConnectionStore().hello).not.toBeNull()
    expect(store.info).not.toBeNull()
    host.setStatus({ state: 'reconnecting' })
    host.setStatus({ state: 'open' })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.kinds().filter((k) => k === 'host.hello')).toHaveLength(2)
    expect(host.kinds().filter((k) => k === 'session.create')).toHaveLength(1)
  })

  it('follows the connection status', async () => {
    await ready()
    host.setStatus({ state: 'reconnecting', detail: 'engine connection refused or dropped' })
    expect(useConnectionStore().status).toEqual({ state: 'reconnecting', detail: 'engine connection refused or dropped' })
  })
})
