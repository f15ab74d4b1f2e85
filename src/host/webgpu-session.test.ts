// Sessions on the WebGPU backend through the engine host, on Dawn + SwiftShader (VK_ICD_FILENAMES
// comes from vitest.config.ts): training, metrics, evaluation, alarms, inspections, checkpoints
// and resume, the CPU/WebGPU agreement from one seed, and what 'auto' and a missing device say.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { WebGpuBackend } from '../engine'
import type { RequestPayload } from '../shared/protocol'
import { setDeviceSource } from './gpu'
import { cleanupAfterEach, make as makeWithDir, tempDir, checkpointTensors } from './runs/test-helpers'
import { sleep, spec, testHost } from './test-helpers'
import { until } from './test-wait'

let current: ReturnType<typeof testHost> | null = null
function make() {
  current = testHost()
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
  setDeviceSource(null)
})
cleanupAfterEach()

const gpuSpec = (over: Partial<RequestPayload<'session.create'>> = {}) => spec({ backend: 'webgpu', ...over })

/** The live session object behind an id (for reading its CPU mirror after a read-back). */
/** The live session behind an id in the current host (its step count and whether a device slice is in flight). */
const live = (id: string) => current!.host['sessions'].get(id)!

async function mirror(h: ReturnType<typeof testHost>, id: string) {
  const s = h.host['sessions'].get(id)!
  await s.trainer.syncMirror()
  return s
}

describe('webgpu sessions: choosing the backend', () => {
  it("'webgpu' trains on the device and says so; 'auto' declines the software adapter with the reason", async () => {
    const { ok } = make()
    const gpu = await ok('session.create', gpuSpec())
    expect(gpu.state.backend).toMatchObject({
      name: 'webgpu',
      reason: expect.stringMatching(/^requested \(.*swiftshader.*software adapter/i),
    })
    const auto = await ok('session.create', spec({ backend: 'auto' }))
    expect(auto.state.backend).toMatchObject({
      name: 'cpu',
      reason: expect.stringMatching(/^auto: only a software WebGPU adapter \(.*\) was found; the CPU backend is faster$/i),
    })
    const done = await ok('session.step', { sessionId: gpu.state.sessionId, steps: 5 })
    expect(done).toMatchObject({ step: 5, status: 'paused', backend: { name: 'webgpu' } })
  })

  it('without a device: webgpu is refused naming the reason, auto falls back to the CPU saying why', async () => {
    const { ok, fail } = make()
    setDeviceSource(async () => ({ problem: 'Dawn found no WebGPU adapter (test)' }))
    const refused = await fail('session.create', gpuSpec())
    expect(refused.code).toBe('backend_unavailable')
    expect(refused.message).toBe('WebGPU is unavailable: Dawn found no WebGPU adapter (test); choose cpu or auto')
    const auto = await ok('session.create', spec({ backend: 'auto' }))
    expect(auto.state.backend).toEqual({ name: 'cpu', reason: 'auto: Dawn found no WebGPU adapter (test)' })
    setDeviceSource(async () => {
      throw new Error('device lost at creation')
    })
    const thrown = await fail('session.create', gpuSpec())
    expect(thrown).toMatchObject({
      code: 'backend_unavailable',
      message: expect.stringContaining('creating the WebGPU device failed: device lost at creation'),
    })
  })
})

describe('webgpu sessions: training', () => {
  it('the loss falls and accuracy rises on xor and spiral; metrics carry layer stats and evaluations', async () => {
    const { ok, of } = make()
    for (const generator of ['xor', 'spiral'] as const) {
      const { state } = await ok(
        'session.create',
        gpuSpec({
          model: { hidden: [16, 16], activation: 'relu' },
          data: { generator, n: 400, seed: 2 },
          optimizer: { type: 'adam', lr: 0.03 },
          train: { batchSize: 32, evalEvery: 100, seed: 3 },
        }),
      )
      const done = await ok('session.step', { sessionId: state.sessionId, steps: 300 })
      expect(done.step).toBe(300)
      const batches = of('train.metrics', state.sessionId)
      expect(batches.flatMap((b) => b.steps)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
      const loss = batches.flatMap((b) => b.trainLoss)
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      expect(mean(loss.slice(-30)), generator).toBeLessThan(mean(loss.slice(0, 30)) * 0.6)
      const evals = batches.flatMap((b) => b.evals)
      expect(evals.map((e) => e.step)).toEqual([0, 100, 200, 300])
      expect(evals.at(-1)!.testAccuracy!, generator).toBeGreaterThan(Math.max(0.8, evals[0].testAccuracy! + 0.2))
      const sample = batches[0].layers[0]
      expect(sample.step).toBe(1)
      expect(sample.stats).toHaveLength(3)
      for (const st of sample.stats) {
        expect(st.gradNorm).toBeGreaterThan(0)
        expect(st.weightNorm).toBeGreaterThan(0)
        expect(st.updateRatio).toBeCloseTo((0.03 * st.gradNorm) / st.weightNorm, 6)
      }
      expect(sample.stats[0].deadFraction).toEqual(expect.any(Number))
      expect(sample.stats[2].deadFraction).toBeNull()
    }
  }, 60_000)

  it('CPU and WebGPU from one seed agree within float32 tolerance after 50 steps (adam, l1, l2, clipping)', async () => {
    const { ok, of } = make()
    const s = (backend: 'cpu' | 'webgpu') =>
      spec({
        backend,
        model: { hidden: [12, 8], activation: 'tanh' },
        data: { generator: 'spiral', n: 300, seed: 4 },
        optimizer: { type: 'adam', lr: 0.01 },
        train: { batchSize: 24, evalEvery: 25, seed: 7, l1: 1e-3, l2: 1e-3, clipNorm: 0.5 },
      })
    const cpu = await ok('session.create', s('cpu'))
    const gpu = await ok('session.create', s('webgpu'))
    await ok('session.step', { sessionId: cpu.state.sessionId, steps: 50 })
    await ok('session.step', { sessionId: gpu.state.sessionId, steps: 50 })
    const lc = of('train.metrics', cpu.state.sessionId).flatMap((b) => b.trainLoss)
    const lg = of('train.metrics', gpu.state.sessionId).flatMap((b) => b.trainLoss)
    expect(lg).toHaveLength(50)
    lg.forEach((v, i) => expect(Math.abs(v - lc[i]), `step ${i + 1}`).toBeLessThan(1e-4 + 1e-4 * Math.abs(lc[i])))
    const ec = of('train.metrics', cpu.state.sessionId).flatMap((b) => b.evals)
    const eg = of('train.metrics', gpu.state.sessionId).flatMap((b) => b.evals)
    expect(eg.map((e) => e.step)).toEqual([0, 25, 50])
    eg.forEach((e, i) => expect(e.testLoss).toBeCloseTo(ec[i].testLoss, 4))
    const a = (await mirror(current!, cpu.state.sessionId)).trainer.model.parameters()
    const b = (await mirror(current!, gpu.state.sessionId)).trainer.model.parameters()
    b.forEach((p, i) => {
      const x = p.dataSync()
      const y = a[i].dataSync()
      for (let k = 0; k < x.length; k++) expect(Math.abs(x[k] - y[k])).toBeLessThan(1e-4 + 1e-3 * Math.abs(y[k]))
    })
  }, 60_000)

  it('GPU memory stays flat over a long run (the pool is collected as steps go)', async () => {
    const { ok } = make()
    const { state } = await ok(
      'session.create',
      gpuSpec({ optimizer: { type: 'adam', lr: 0.01 }, train: { batchSize: 16, evalEvery: 100, seed: 1 } }),
    )
    const be = current!.host['sessions'].get(state.sessionId)!.trainer.device!.be as WebGpuBackend
    const settled = async () => {
      gc!()
      for (let i = 0; i < 3; i++) await sleep(10)
      return be.memory()
    }
    await ok('session.step', { sessionId: state.sessionId, steps: 200 })
    const early = await settled()
    await ok('session.step', { sessionId: state.sessionId, steps: 1000 })
    const late = await settled()
    expect(late.buffersInUse).toBeLessThanOrEqual(early.buffersInUse + 16)
    expect(late.buffers).toBeLessThanOrEqual(early.buffers * 1.5 + 64)
  }, 60_000)

  it('pause, reset and live updates while a device session runs; another CPU session goes on beside it', async () => {
    const { ok, of } = make()
    const g = await ok('session.create', gpuSpec({ optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } }))
    const c = await ok('session.create', spec())
    await ok('session.start', { sessionId: g.state.sessionId })
    await ok('session.start', { sessionId: c.state.sessionId })
    await until(
      () => live(g.state.sessionId).step > 5 && live(c.state.sessionId).step > 20,
      'the device session past step 5, the CPU one past 20',
      20_000,
    )
    const paused = await ok('session.pause', { sessionId: g.state.sessionId })
    expect(paused.status).toBe('paused')
    expect(paused.step).toBeGreaterThan(5)
    await until(() => !live(g.state.sessionId).busy, 'the device slice in flight to end', 20_000)
    // No step lands after the pause: the last batch ends at the paused step.
    expect(
      of('train.metrics', g.state.sessionId)
        .flatMap((b) => b.steps)
        .at(-1),
    ).toBe(paused.step)
    const cpuState = await ok('session.pause', { sessionId: c.state.sessionId })
    expect(cpuState.step).toBeGreaterThan(20)
    await ok('session.update', { sessionId: g.state.sessionId, optimizer: { lr: 0.2, momentum: 0.5 } })
    await ok('session.step', { sessionId: g.state.sessionId, steps: 1 })
    const sample = of('train.metrics', g.state.sessionId).at(-1)!.layers[0]
    expect(sample.step).toBe(paused.step + 1)
    for (const st of sample.stats) expect(st.updateRatio).toBeCloseTo((0.2 * st.gradNorm) / st.weightNorm, 6)
    await ok('session.start', { sessionId: g.state.sessionId })
    await until(() => live(g.state.sessionId).step > paused.step + 2, 'the restarted device session to step', 20_000)
    const reset = await ok('session.reset', { sessionId: g.state.sessionId })
    expect(reset).toMatchObject({ status: 'idle', step: 0 })
    await until(() => !live(g.state.sessionId).busy, 'the device slice in flight to end', 20_000)
    expect((await ok('session.info', { sessionId: g.state.sessionId })).state.step).toBe(0)
    const again = await ok('session.step', { sessionId: g.state.sessionId, steps: 3 })
    expect(again).toMatchObject({ step: 3, status: 'paused' })
  }, 30_000)
})

describe('webgpu sessions: stop conditions', () => {
  const stop = (over: object) => ({ maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null, ...over })

  it('maxSteps, targetLoss on the test loss (evaluated on the device), the train loss without a test split, early stopping', async () => {
    const { ok, of } = make()
    const a = await ok('session.create', gpuSpec({ train: { batchSize: 16, evalEvery: 50, seed: 1, stop: stop({ maxSteps: 40 }) } }))
    expect(await ok('session.step', { sessionId: a.state.sessionId, steps: 500 })).toMatchObject({
      status: 'paused',
      step: 40,
      message: 'stopped: reached 40 steps (maxSteps)',
    })
    const b = await ok(
      'session.create',
      gpuSpec({
        optimizer: { type: 'adam', lr: 0.05 },
        data: { generator: 'gauss', n: 300, seed: 2 },
        train: { batchSize: 16, evalEvery: 10, seed: 1, stop: stop({ targetLoss: 0.2 }) },
      }),
    )
    const sb = await ok('session.step', { sessionId: b.state.sessionId, steps: 3000 })
    const evals = of('train.metrics', b.state.sessionId).flatMap((m) => m.evals)
    expect(evals.at(-1)!.step).toBe(sb.step)
    expect(evals.at(-1)!.testLoss).toBeLessThanOrEqual(0.2)
    expect(evals.slice(0, -1).every((e) => e.testLoss > 0.2)).toBe(true)
    expect(sb.message).toBe(`stopped: test loss ${evals.at(-1)!.testLoss.toFixed(4)} reached the target 0.2 at step ${sb.step}`)
    const c = await ok(
      'session.create',
      gpuSpec({
        data: { generator: 'xor', n: 100, testRatio: 0 },
        train: { batchSize: 16, evalEvery: 5, seed: 1, stop: stop({ targetLoss: 100 }) },
      }),
    )
    const sc = await ok('session.step', { sessionId: c.state.sessionId, steps: 100 })
    expect(sc).toMatchObject({ step: 0, status: 'paused' })
    expect(sc.message).toMatch(/^stopped: train loss \d\.\d{4} reached the target 100 at step 0$/)
    const d = await ok(
      'session.create',
      gpuSpec({ train: { batchSize: 16, evalEvery: 10, seed: 1, stop: stop({ earlyStopping: { patience: 3, minDelta: 10 } }) } }),
    )
    const sd = await ok('session.step', { sessionId: d.state.sessionId, steps: 1000 })
    expect(sd.step).toBe(30)
    expect(sd.message).toMatch(/^stopped: early stopping — test loss has not improved for 3 evaluations \(best \d\.\d{4} at step 0\)$/)
  }, 60_000)
})

describe('webgpu sessions: alarms', () => {
  it('a diverging run pauses at the step named with finite weights restored, as on the CPU', async () => {
    const { ok, of } = make()
    const train = { batchSize: 16, seed: 1, alarms: { explodingGradNorm: 1e300 } }
    const { state } = await ok(
      'session.create',
      gpuSpec({
        data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] },
        model: { hidden: [8], activation: 'linear' },
        optimizer: { type: 'sgd', lr: 10 },
        train,
      }),
    )
    const done = await ok('session.step', { sessionId: state.sessionId, steps: 500 })
    expect(done.status).toBe('paused')
    expect(done.step).toBeLessThan(500)
    expect(done.message).toMatch(new RegExp(`^step ${done.step + 1}: .*; training paused\\. Lower the learning rate or reset\\.$`))
    const alarms = of('train.alarm', state.sessionId)
    expect(alarms).toHaveLength(1)
    expect(alarms[0]).toMatchObject({ step: done.step + 1, message: done.message, paused: true })
    expect(['nan', 'inf']).toContain(alarms[0].kind)
    const s = await mirror(current!, state.sessionId)
    for (const p of s.trainer.model.parameters()) expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true)
    // The device copy is what trains on: it holds the same finite weights.
    for (const p of s.trainer.device!.model.parameters()) expect(Array.from(await p.data()).every(Number.isFinite)).toBe(true)
  }, 30_000)

  it('an exploding gradient pauses before its update: the weights stay those of the step before', async () => {
    const { ok, of } = make()
    const { state } = await ok(
      'session.create',
      gpuSpec({ train: { batchSize: 16, seed: 1, evalEvery: 50, alarms: { explodingGradNorm: 1e-3, pause: true } } }),
    )
    const before = (await mirror(current!, state.sessionId)).trainer.model.parameters().map((p) => Array.from(p.dataSync()))
    const done = await ok('session.step', { sessionId: state.sessionId, steps: 10 })
    expect(done).toMatchObject({ step: 0, status: 'paused' })
    expect(of('train.alarm', state.sessionId)[0]).toMatchObject({ kind: 'exploding', step: 1, paused: true })
    const after = (await mirror(current!, state.sessionId)).trainer.model.parameters().map((p) => Array.from(p.dataSync()))
    expect(after).toEqual(before)
  })
})

describe('webgpu sessions: inspections', () => {
  it('histograms, boundary, predictions, network, neuron map, graph and gradcheck answer, also mid-run', async () => {
    const { ok } = make()
    const { state } = await ok('session.create', gpuSpec({ model: { hidden: [6], activation: 'tanh' } }))
    const id = state.sessionId
    await ok('session.step', { sessionId: id, steps: 20 })
    const hist = await ok('session.histograms', { sessionId: id, bins: 10, range: 'auto' })
    expect(hist.step).toBe(20)
    expect(hist.layers[0].weights.counts.reduce((a, b) => a + b, 0)).toBe(2 * 6)
    expect(hist.layers[0].grads).not.toBeNull()
    const boundary = await ok('session.boundary', { sessionId: id, resolution: 16 })
    expect(boundary.values).toHaveLength(16 * 16)
    const preds = await ok('session.predictions', { sessionId: id, split: 'test', max: 10 })
    expect(preds.predicted).toHaveLength(10)
    const net = await ok('session.network', { sessionId: id, maxEdgesPerLayer: 100 })
    expect(net.step).toBe(20)
    const update = net.layers[0]
    expect(update).toBeDefined()
    const map = await ok('session.neuronMap', { sessionId: id, layer: 0, neuron: 1, resolution: 8 })
    expect(map.values).toHaveLength(64)
    const graph = await ok('session.graph', { sessionId: id, batchSize: 4 })
    expect(graph.nodes.length).toBeGreaterThan(3)
    const check = await ok('session.gradcheck', { sessionId: id, param: 'layers.0.weight', maxElements: 4 })
    expect(check.maxRelError).toBeLessThan(1e-3)
    // Mid-run the read waits for the running slice and sees a consistent step.
    await ok('session.start', { sessionId: id })
    await until(() => live(id).step > 20 && live(id).busy, 'a device slice in flight past step 20', 20_000)
    const mid = await ok('session.histograms', { sessionId: id, bins: 5, range: 'auto' })
    expect(mid.step).toBeGreaterThan(20)
    const s = await ok('session.pause', { sessionId: id })
    expect(s.step).toBeGreaterThanOrEqual(mid.step)
  }, 30_000)
})

describe('webgpu sessions: checkpoints and resume', () => {
  it('checkpoints hold the trained weights; runs.open resumes on the device and continues like one run', async () => {
    const spec150 = () =>
      gpuSpec({
        optimizer: { type: 'adam', lr: 0.01 },
        data: { generator: 'spiral', n: 200, seed: 3 },
        train: { batchSize: 21, evalEvery: 50, seed: 5 },
      })
    const dirA = tempDir()
    const a = makeWithDir(dirA, 50)
    const runA = await a.ok('session.create', spec150())
    await a.ok('session.step', { sessionId: runA.state.sessionId, steps: 150 })
    await a.ok('session.dispose', { sessionId: runA.state.sessionId })

    const dirB = tempDir()
    const b1 = makeWithDir(dirB, 50)
    const runB = await b1.ok('session.create', spec150())
    await b1.ok('session.step', { sessionId: runB.state.sessionId, steps: 100 })
    await b1.ok('session.dispose', { sessionId: runB.state.sessionId })
    const b2 = makeWithDir(dirB, 50)
    expect((await b2.ok('runs.list', {})).runs[0]).toMatchObject({ status: 'saved', checkpoints: [0, 50, 100] })
    const opened = await b2.ok('runs.open', { runId: runB.runId! })
    expect(opened.step).toBe(100)
    expect((await b2.ok('session.info', { sessionId: opened.sessionId })).state.backend.name).toBe('webgpu')
    await b2.ok('session.step', { sessionId: opened.sessionId, steps: 50 })
    await b2.ok('session.dispose', { sessionId: opened.sessionId })

    const ta = checkpointTensors(dirA, runA.runId!, 150)
    const tb = checkpointTensors(dirB, runB.runId!, 150)
    expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort())
    expect(Object.keys(ta)).toContain('optim.layers.0.weight.m')
    for (const k of Object.keys(ta)) {
      const x = ta[k].data
      const y = tb[k].data
      for (let i = 0; i < x.length; i++) expect(Math.abs(Number(x[i]) - Number(y[i])), k).toBeLessThan(1e-4 + 1e-4 * Math.abs(Number(x[i])))
    }
    const ma = await a.ok('runs.metrics', { runId: runA.runId!, maxPoints: 20_000 })
    const mb = await b2.ok('runs.metrics', { runId: runB.runId!, maxPoints: 20_000 })
    expect(mb.steps).toEqual(ma.steps)
    mb.trainLoss.forEach((v, i) => expect(v).toBeCloseTo(ma.trainLoss[i], 4))
  }, 60_000)

  it('a live device run exports where it is now; imported weights train on the device; delete waits for the last save', async () => {
    const dir = tempDir()
    const run = makeWithDir(dir, 50)
    const { ok } = run
    const a = await ok('session.create', gpuSpec())
    await ok('session.step', { sessionId: a.state.sessionId, steps: 37 })
    // Exported while paused between checkpoints: the weights at step 37 are read back and saved first.
    const out = await ok('runs.export', { runId: a.runId!, format: 'json' })
    expect(out.files.length).toBeGreaterThan(0)
    const at = checkpointTensors(dir, a.runId!, 37)
    await ok('session.start', { sessionId: a.state.sessionId })
    await until(() => run.host['sessions'].get(a.state.sessionId)!.step > 37, 'the run to go on past step 37', 20_000)
    const running = await ok('runs.export', { runId: a.runId!, format: 'json' })
    expect(running.files.length).toBeGreaterThan(0)
    const bytes = readFileSync(join(dir, a.runId!, 'checkpoints', 'step-37.safetensors'))
    const b = await ok('session.create', gpuSpec({ train: { batchSize: 16, evalEvery: 50, seed: 99 } }))
    const r = await ok('session.importWeights', { sessionId: b.state.sessionId, safetensorsBase64: bytes.toString('base64') })
    expect(r.loaded).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight'])
    const w = Array.from(at['layers.0.weight'].data as Float32Array)
    const hist = await ok('session.histograms', { sessionId: b.state.sessionId, bins: 8, range: 'auto' })
    expect(hist.layers[0].weights.mean).toBeCloseTo(w.reduce((x, y) => x + y, 0) / w.length, 5)
    // The device copy, which trains, holds the imported weights too.
    const device = run.host['sessions'].get(b.state.sessionId)!
    expect(Array.from(await device.trainer.device!.model.layers[0].weight.data())).toEqual(w)
    await ok('session.step', { sessionId: b.state.sessionId, steps: 2 })
    expect((await ok('session.info', { sessionId: b.state.sessionId })).state.step).toBe(2)
    await ok('runs.delete', { runId: a.runId! })
    expect(existsSync(join(dir, a.runId!))).toBe(false)
  }, 30_000)
})
