// Adopting a session the host already has (a run opened at a checkpoint): the studio shows it as
// it is, without rebuilding it from the form, with the run's history up to that step.
import { describe, expect, it, vi } from 'vitest'
import { FakeHost } from '../engine/fake-host'
import { useOpenRun } from '../features/runs/composables/use-open-run'
import { REBUILD_DELAY_MS, UPDATE_DELAY_MS, useSessionStore } from './session'
import { useErrorsStore } from './errors'
import { useFormStore } from './form'
import { useMetricsStore } from './metrics'
import { useRunsStore } from '../features/runs/stores/runs'
import { useFakeHost } from './fake-host-setup'

const RUN = 'r-20261126-abcdef'
/** Not the form's defaults (spiral, [8, 8], tanh, adam 0.01, batch 32): adopting must bring it in. */
const SPEC = {
  model: { hidden: [4], activation: 'relu' },
  data: { generator: 'circle', n: 300, noise: 0.2, seed: 7, testRatio: 0.25 },
  optimizer: { type: 'sgd', lr: 0.1 },
  train: { batchSize: 16, evalEvery: 50, seed: 7 },
} as const
/** The run's saved history runs to step 300; the session is opened at 200. */
const HISTORY = {
  runId: RUN,
  steps: [1, 100, 200, 300],
  trainLoss: [0.9, 0.5, 0.3, 0.2],
  evals: [100, 200, 300].map((step) => ({ step, trainLoss: 0.4, testLoss: 0.45, trainAccuracy: 0.8, testAccuracy: 0.7 })),
  gradNorms: [100, 200, 300].map((step) => ({ step, norms: [0.2, 0.1] })),
  skippedLines: 0,
}

let host: FakeHost

async function ready() {
  const store = useSessionStore()
  await store.init()
  return store
}
const count = (kind: string) => host.kinds().filter((k) => k === kind).length

useFakeHost((h) => {
  host = h
  host.overrides.set('runs.metrics', () => ({ result: HISTORY }))
})

describe('session store: adoptSession', () => {
  it('shows the adopted session, mirrors its spec in the form, and never rebuilds it', async () => {
    const store = await ready()
    const previous = store.info!.state.sessionId
    const opened = host.addSession(SPEC, { step: 200, status: 'paused', runId: RUN })
    const id = opened.state.sessionId

    expect(await store.adoptSession(id)).toBe(true)
    expect(host.last('session.dispose')!.payload).toEqual({ sessionId: previous })
    expect(store.info?.state.sessionId).toBe(id)
    expect(store.state).toMatchObject({ sessionId: id, status: 'paused', step: 200 })
    expect(useFormStore().form).toMatchObject({
      source: 'generator',
      data: SPEC.data,
      hidden: [4],
      activations: ['relu'],
      optimizer: { type: 'sgd', lr: 0.1 },
      batchSize: 16,
    })
    expect(store.stale).toBe(false)

    // The form edits it made are not user edits: no rebuild, no live update after the debounces.
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + UPDATE_DELAY_MS + 50)
    expect(count('session.create')).toBe(1)
    expect(count('session.update')).toBe(0)
    expect(count('session.dispose')).toBe(1)

    // Play trains the adopted session from where it stands.
    await store.play()
    expect(host.last('session.start')!.payload).toEqual({ sessionId: id })
    expect(store.running).toBe(true)
  })

  it('fills the block controls back from a run whose model has blocks, without a rebuild', async () => {
    const store = await ready()
    const blocks = [
      { norm: 'batch', normAt: 'pre', dropout: 0.1, residual: false },
      { norm: 'layer', normAt: 'post', dropout: 0, residual: true },
    ] as const
    const spec = { ...SPEC, model: { hidden: [4, 4], activation: 'relu', blocks } }
    const { state } = host.addSession(spec, { step: 200, status: 'paused', runId: RUN })
    expect(await store.adoptSession(state.sessionId)).toBe(true)
    const f = useFormStore()
    expect(f.form.hidden).toEqual([4, 4])
    expect(f.form.blocks).toEqual(blocks)
    expect(f.issues).toEqual({})
    expect(store.stale).toBe(false)
    // The form's count (the norms' γ and β included) is the adopted session's.
    expect(f.shape?.paramCount).toBe(store.info?.paramCount)
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + UPDATE_DELAY_MS + 50)
    expect(count('session.create')).toBe(1)
    // Adopting a plain run afterwards leaves plain controls, not the previous run's blocks.
    const plain = host.addSession(SPEC, { step: 10, status: 'paused', runId: RUN })
    await store.adoptSession(plain.state.sessionId)
    expect(f.form.blocks).toEqual([{ norm: 'none', normAt: 'mid', dropout: 0, residual: false }])
  })

  it('seeds the charts with the run history up to the adopted step only', async () => {
    const store = await ready()
    const { state } = host.addSession(SPEC, { step: 200, status: 'paused', runId: RUN })
    await store.adoptSession(state.sessionId)
    expect(host.last('runs.metrics')!.payload).toMatchObject({ runId: RUN })
    expect(useMetricsStore().buffers.layerNames).toEqual(['hidden 1 (2→4)', 'output (4→2)'])
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(3)
    expect(
      useMetricsStore()
        .buffers.testLoss.points()
        .map((p) => p.x),
    ).toEqual([100, 200])
    expect(
      [0, 1].map((layer) =>
        useMetricsStore()
          .buffers.layers.series(layer, 'gradNorm')
          .map((p) => [p.x, p.y]),
      ),
    ).toEqual([
      // The history stops at the adopted step (200): step 300 belongs to another time.
      [
        [100, 0.2],
        [200, 0.2],
      ],
      [
        [100, 0.1],
        [200, 0.1],
      ],
    ])
    expect(useMetricsStore().latest).toMatchObject({ step: 200, testLoss: 0.45, testAccuracy: 0.7, stepsPerSecond: 0 })
  })

  it('keeps the session when adopting it again, and starts with empty charts when there is no history', async () => {
    const store = await ready()
    host.overrides.set('runs.metrics', () => ({ error: { code: 'not_found', message: 'runs.metrics: no run' } }))
    const id = store.info!.state.sessionId
    host.emit('train.metrics', {
      sessionId: id,
      steps: [1],
      trainLoss: [0.7],
      epoch: 0,
      evals: [],
      layers: [],
      stepsPerSecond: 10,
      lr: 0.01,
    })
    expect(await store.adoptSession(id)).toBe(true)
    expect(count('session.dispose')).toBe(0)
    expect(store.info?.state.sessionId).toBe(id)
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(0)
    expect(useErrorsStore().errors).toEqual([])
  })

  it('adopts sessions on every data source with every option, without a rebuild or an update', async () => {
    const csv = host.addFile('houses.csv', 'rooms,area,price\n3,80,200\n4,95,260\n2,50,150\n')
    const images = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8])
    const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 3, 7])
    const imagesId = host.addFile('imgs-idx3-ubyte', images).fileId
    const labelsId = host.addFile('labels-idx1-ubyte', labels).fileId
    const train = {
      batchSize: 8,
      evalEvery: 5,
      seed: 11,
      schedule: { type: 'cosine', periodSteps: 500, minLr: 0.001, warmupSteps: 20 },
      l1: 0.001,
      l2: 0.002,
      clipNorm: 2,
      stop: { maxEpochs: 30, maxSteps: null, targetLoss: 0.01, earlyStopping: { patience: 4, minDelta: 0 } },
      alarms: { explodingGradNorm: 100, vanishingGradNorm: 1e-5, pause: false },
      maxStepsPerSecond: 30,
    } as const
    const model = { hidden: [6, 5], activation: 'relu', activations: ['gelu', 'leakyRelu'], init: 'he-uniform', loss: 'auto' } as const
    const specs = [
      {
        model,
        data: { source: 'bundled', name: 'iris', testRatio: 0.2, seed: 4, standardize: false },
        optimizer: { type: 'adamw', lr: 0.002, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.02 },
        train,
        backend: 'cpu',
      },
      {
        model,
        data: {
          source: 'csv',
          fileId: csv.fileId,
          target: 'price',
          features: ['area'],
          task: 'regression',
          standardize: true,
          testRatio: 0.3,
          seed: 2,
        },
        optimizer: { type: 'rmsprop', lr: 0.01, alpha: 0.9, eps: 1e-7, momentum: 0.1, weightDecay: 0 },
        train,
      },
      {
        model,
        data: { source: 'idx', imagesFileId: imagesId, labelsFileId: labelsId, limit: 10, scale: true, testRatio: 0.5, seed: 1 },
        optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0 },
        train,
      },
    ] as const
    const store = await ready()
    for (const spec of specs) {
      const { state } = host.addSession(spec, { step: 50, status: 'paused' })
      expect(await store.adoptSession(state.sessionId)).toBe(true)
      expect(useFormStore().form.source).toBe(spec.data.source)
      expect(useFormStore().form.activations).toEqual(['gelu', 'leakyRelu'])
      expect(useFormStore().form.schedule).toMatchObject(train.schedule)
      expect(store.stale).toBe(false)
    }
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS + UPDATE_DELAY_MS + 50)
    expect(count('session.create')).toBe(1)
    expect(count('session.update')).toBe(0)
    expect(store.info?.spec.data).toMatchObject({ source: 'idx', imagesFileId: imagesId })
  })

  it('reports a session the host does not have, and keeps the current one', async () => {
    const store = await ready()
    const current = store.info!.state.sessionId
    expect(await store.adoptSession('s999')).toBe(false)
    expect(useErrorsStore().errors[0]!.message).toMatch(/^Could not open session s999: .*no session s999/)
    expect(store.info?.state.sessionId).toBe(current)
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(count('session.create')).toBe(1)
    expect(count('session.dispose')).toBe(0)
  })
})

describe('useOpenRun', () => {
  it('opens a run at a checkpoint through the host and adopts the session it made', async () => {
    const store = await ready()
    host.overrides.set('runs.open', (m) => {
      const { runId, checkpointStep = 300 } = m.payload as { runId: string; checkpointStep?: number }
      const { state } = host.addSession(SPEC, { step: checkpointStep, status: 'paused', runId })
      return { result: { sessionId: state.sessionId, runId, step: checkpointStep } }
    })
    const { openRun } = useOpenRun()
    expect(await openRun(RUN, 100)).toBe(true)
    expect(host.last('runs.open')!.payload).toEqual({ runId: RUN, checkpointStep: 100 })
    expect(store.state?.step).toBe(100)
    // A quick second open (the scrubber) waits for the first, and disposes the session it adopted.
    const first = store.info!.state.sessionId
    const [a, b] = await Promise.all([openRun(RUN, 200), openRun(RUN)])
    expect([a, b]).toEqual([true, true])
    expect(host.last('runs.open')!.payload).toEqual({ runId: RUN })
    expect(store.state?.step).toBe(300)
    expect(host.sessions.size).toBe(1)
    expect(host.sessions.has(first)).toBe(false)
  })

  it('shows a failed open in the Runs view and leaves the studio as it was', async () => {
    const store = await ready()
    const current = store.info!.state.sessionId
    host.overrides.set('runs.open', () => ({ error: { code: 'not_found', message: 'runs.open: no checkpoint at step 150 (0, 100, 200)' } }))
    expect(await useOpenRun().openRun(RUN, 150)).toBe(false)
    expect(useRunsStore().error).toMatch(/no checkpoint at step 150/)
    expect(store.info?.state.sessionId).toBe(current)
    expect(useErrorsStore().errors).toEqual([])
  })
})
