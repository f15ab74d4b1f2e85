import { describe, expect, it, vi } from 'vitest'
import { createEngineClient } from '../../../engine/engine-client'
import { FakeHost, fakeHistograms, metricsBatch } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { useSessionStore } from '../../../stores/session'
import { useMetricsStore } from '../../../stores/metrics'
import { POLL_HOST_SHARE, POLL_INTERVAL_MS, Poller, toBase64, useStudioInspectStore } from './studio-inspect'
import { useFakeHost } from '../../../stores/fake-host-setup'

let host: FakeHost

async function ready() {
  const session = useSessionStore()
  await session.init()
  await vi.advanceTimersByTimeAsync(0)
  const inspect = useStudioInspectStore()
  return { session, inspect, id: session.info!.state.sessionId }
}

const count = (kind: string) => host.kinds().filter((k) => k === kind).length

useFakeHost((h) => (host = h))

describe('Poller', () => {
  it('runs at most one fetch at a time and at most once per interval, with one trailing fetch for many pokes', async () => {
    let inFlight = 0
    let maxInFlight = 0
    let calls = 0
    const release: (() => void)[] = []
    const poller = new Poller(500, () => {
      calls++
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      return new Promise<void>((resolve) => release.push(() => (inFlight--, resolve())))
    })
    poller.poke()
    expect(calls).toBe(1)
    for (let i = 0; i < 50; i++) poller.poke() // a fast run pokes on every batch
    await vi.advanceTimersByTimeAsync(2_000)
    expect(calls).toBe(1) // the first is still in flight: nothing queues behind it
    release.shift()!()
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toBe(1) // that fetch took 2 s: the next waits until 2 s / POLL_HOST_SHARE after it began
    await vi.advanceTimersByTimeAsync(2_000 / POLL_HOST_SHARE - 2_000)
    expect(calls).toBe(2) // the 50 pokes became one trailing fetch
    release.shift()!()
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toBe(2)
    expect(maxInFlight).toBe(1)
  })

  it('keeps the interval between starts even when fetches are fast', async () => {
    const starts: number[] = []
    const poller = new Poller(250, async () => void starts.push(Date.now()))
    const t0 = Date.now()
    for (let t = 0; t < 1_000; t += 10) {
      poller.poke()
      await vi.advanceTimersByTimeAsync(10)
    }
    expect(starts.length).toBeGreaterThanOrEqual(4)
    expect(starts.length).toBeLessThanOrEqual(5)
    starts.slice(1).forEach((s, i) => expect(s - starts[i]!).toBeGreaterThanOrEqual(250))
    expect(starts[0]).toBe(t0)
  })

  it('spaces slow fetches so they take about POLL_HOST_SHARE of the time (a big model)', async () => {
    const starts: number[] = []
    const poller = new Poller(250, async () => {
      starts.push(Date.now())
      await new Promise((r) => setTimeout(r, 400)) // the host took 400 ms to answer
    })
    for (let t = 0; t < 19_000; t += 50) {
      poller.poke()
      await vi.advanceTimersByTimeAsync(50)
    }
    starts.slice(1).forEach((s, i) => expect(s - starts[i]!).toBeGreaterThanOrEqual(400 / POLL_HOST_SHARE))
    expect(starts.length).toBe(5) // 0, 4, 8, 12, 16 s
  })

  it('forgets pending pokes when stopped', async () => {
    let calls = 0
    const poller = new Poller(100, async () => void calls++)
    poller.poke()
    await vi.advanceTimersByTimeAsync(0)
    poller.poke()
    poller.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toBe(1)
  })
})

describe('studio-inspect store', () => {
  it('polls histograms and the boundary while a panel is shown, rate-limited during a fast run', async () => {
    const { inspect, id } = await ready()
    const releaseHist = inspect.acquire('histograms')
    const releaseBoundary = inspect.acquire('boundary')
    await vi.advanceTimersByTimeAsync(0)
    expect(count('session.histograms')).toBe(1)
    expect(count('session.boundary')).toBe(1)
    expect(count('session.predictions')).toBe(0) // planar classification: the boundary says it all
    // Two seconds of batches every 20 ms.
    for (let step = 1; step <= 100; step++) {
      host.emit('train.metrics', metricsBatch(id, step, step))
      await vi.advanceTimersByTimeAsync(20)
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(count('session.histograms')).toBeLessThanOrEqual(1 + Math.ceil(3_000 / POLL_INTERVAL_MS.histograms))
    expect(count('session.histograms')).toBeGreaterThanOrEqual(4)
    expect(count('session.boundary')).toBeLessThanOrEqual(1 + Math.ceil(3_000 / POLL_INTERVAL_MS.boundary))
    expect(inspect.boundary?.resolution).toBe(64)
    expect(inspect.histograms.layerCount).toBe(3)
    releaseHist()
    releaseBoundary()
    const before = host.requests.length
    host.emit('train.metrics', metricsBatch(id, 101, 101))
    await vi.advanceTimersByTimeAsync(2_000)
    expect(host.requests.length).toBe(before) // nobody is looking: no polling
  })

  it('asks once after a single step while paused', async () => {
    const { session, inspect, id } = await ready()
    inspect.acquire('histograms')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(count('session.histograms')).toBe(1)
    await session.step()
    host.emit('train.metrics', metricsBatch(id, 1, 1))
    await vi.advanceTimersByTimeAsync(5_000)
    expect(count('session.histograms')).toBe(2)
    expect(inspect.histograms.samples(0).map((s) => s.step)).toEqual([0, 1])
  })

  it('keeps a bounded histogram history', async () => {
    const { inspect } = await ready()
    for (let step = 1; step <= 150; step++) inspect.histograms.add(fakeHistograms(step, 3))
    expect(inspect.histograms.samples(2)).toHaveLength(100)
    expect(inspect.histograms.samples(2)[0]!.step).toBe(51)
    inspect.histograms.add(fakeHistograms(150, 3)) // the same step again replaces, not appends
    expect(inspect.histograms.samples(2)).toHaveLength(100)
  })

  it('drops a reply that arrives after the run was reset', async () => {
    // Hold every histograms reply until the test lets it through.
    const gate: (() => void)[] = []
    const t = host.transport()
    setEngineClient(
      createEngineClient({
        ...t,
        send: async (m) => (m.kind === 'session.histograms' && (await new Promise<void>((r) => gate.push(r))), t.send(m)),
      }),
    )
    const { session, inspect } = await ready()
    inspect.acquire('histograms')
    await vi.advanceTimersByTimeAsync(0)
    expect(gate).toHaveLength(1)
    await session.reset()
    await vi.advanceTimersByTimeAsync(0)
    gate.shift()!()
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.histograms.layerCount).toBe(0) // the old run's reply was dropped
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS.histograms)
    expect(gate).toHaveLength(1) // and the reset asked again, once
    gate.shift()!()
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.histograms.layerCount).toBe(3)
  })

  it('records alarms into the run, shows the latest in the banner, and a reset clears them', async () => {
    const { session, inspect, id } = await ready()
    host.emit('train.alarm', {
      sessionId: id,
      step: 12,
      kind: 'exploding',
      layer: 'layers.1',
      parameter: 'layers.1.weight',
      message: 'Exploding gradient at step 12 in layers.1',
      paused: true,
    })
    host.emit('train.alarm', {
      sessionId: 's999',
      step: 3,
      kind: 'nan',
      layer: null,
      parameter: null,
      message: 'another session',
      paused: true,
    })
    expect(inspect.alarms.map((a) => a.step)).toEqual([12])
    expect(inspect.alarmBanner?.message).toMatch(/step 12 in layers\.1/)
    expect(useMetricsStore().buffers.trainLoss.sampleCount).toBe(0) // the alarm is not mistaken for metrics
    await session.reset()
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.alarms).toEqual([])
    expect(inspect.alarmBanner).toBeNull()
  })

  it('shows a host error in the panel and refuses an empty histogram range', async () => {
    const { inspect } = await ready()
    host.overrides.set('session.boundary', () => ({ error: { code: 'engine', message: 'session.boundary: out of memory' } }))
    inspect.acquire('boundary')
    await vi.advanceTimersByTimeAsync(0)
    expect(inspect.errors.boundary).toMatch(/out of memory/)
    inspect.setHistogramRange({ lo: 1, hi: 1 })
    expect(inspect.errors.histograms).toBe('Histogram range: lo must be below hi (got 1 … 1)')
    expect(inspect.histRange).toBe('auto')
    inspect.setHistogramRange({ lo: -0.5, hi: 0.5 })
    inspect.acquire('histograms')
    await vi.advanceTimersByTimeAsync(0)
    expect(host.last('session.histograms')!.payload).toMatchObject({ range: { lo: -0.5, hi: 0.5 }, bins: 30 })
  })

  it('follows a session adopted from a run (time travel): its step, not the old session', async () => {
    const { session, inspect } = await ready()
    inspect.acquire('boundary')
    inspect.acquire('histograms')
    await vi.advanceTimersByTimeAsync(0)
    const adopted = host.addSession(
      { model: { hidden: [4] }, data: { generator: 'circle', n: 100 }, optimizer: { type: 'sgd', lr: 0.1 } },
      { step: 200, status: 'paused' },
    )
    await session.adoptSession(adopted.state.sessionId)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(host.last('session.boundary')!.payload.sessionId).toBe(adopted.state.sessionId)
    expect(inspect.boundary?.step).toBe(200)
    expect(inspect.histograms.samples(0).map((s) => s.step)).toEqual([200])
    expect(inspect.histograms.layerCount).toBe(2)
  })

  it('imports safetensors weights as base64 and says what the host answered', async () => {
    const { inspect, id } = await ready()
    host.overrides.set('session.importWeights', () => ({ result: { loaded: ['layers.0.weight', 'layers.0.bias'], step: 0 } }))
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    expect(await inspect.importWeights(bytes)).toEqual({ ok: true, message: 'Loaded 2 tensors: layers.0.weight, layers.0.bias' })
    expect(host.last('session.importWeights')!.payload).toEqual({ sessionId: id, safetensorsBase64: toBase64(bytes) })
    expect(
      atob(toBase64(bytes))
        .split('')
        .map((c) => c.charCodeAt(0)),
    ).toEqual([0, 1, 2, 250, 255])
    host.overrides.set('session.importWeights', () => ({
      error: { code: 'invalid_payload', message: 'session.importWeights: layers.0.weight has shape [3,2], the model needs [2,8]' },
    }))
    expect(await inspect.importWeights(bytes)).toEqual({
      ok: false,
      message: 'session.importWeights: layers.0.weight has shape [3,2], the model needs [2,8]',
    })
  })

  it('encodes large files without overflowing the stack', () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 256)
    expect(toBase64(big).length).toBe(400_000)
  })
})
