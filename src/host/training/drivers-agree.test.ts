// The one training step through both drivers: a CPU trainer (answered at once) and a WebGPU
// trainer (awaited, Dawn on SwiftShader) built from the same spec and seed take the same steps —
// losses, rates, statistics and alarms — with the L1/L2 penalty and clipping on, and with
// BatchNorm, dropout (masks drawn on the host from one seeded generator) and a residual, refuse the same
// step for the same reason when the lr makes them diverge, and evaluate alike.
import { describe, expect, it } from 'vitest'
import { mean, mul, tanh } from '../../engine'
import { SessionSpec, type RequestPayload } from '../../shared/protocol'
import { prepareData } from '../data-source'
import { chooseBackend } from '../gpu'
import { planLoss, type LossPlan } from '../setup'
import { spec as specInput } from '../test-helpers'
import { Trainer, type StepOutcome } from '../trainer'
import { runAsync, runSync } from './drive'

/** A CPU and a WebGPU trainer over the same data, each with its own copy of the (live) spec. */
async function pair(over: Partial<RequestPayload<'session.create'>>, loss?: LossPlan['loss']): Promise<{ cpu: Trainer; gpu: Trainer }> {
  const s = SessionSpec.parse(specInput(over))
  const d = prepareData(s.data, null)
  const planned = planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data')
  const plan = loss ? { ...planned, loss } : planned
  const { backend } = await chooseBackend('webgpu')
  return { cpu: new Trainer(d, plan, structuredClone(s)), gpu: new Trainer(d, plan, structuredClone(s), backend) }
}

const onCpu = (t: Trainer, sample: boolean): StepOutcome | null => runSync(t.step(sample))!.value
const onGpu = async (t: Trainer, sample: boolean): Promise<StepOutcome | null> => (await runAsync(t.step(sample)))!.value

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(1e-3, Math.abs(a), Math.abs(b))

describe('one step, two drivers: CPU and WebGPU agree', () => {
  it('20 steps with adam, l1, l2 and clipping: the same losses, rates, statistics and evaluation', async () => {
    const { cpu, gpu } = await pair({
      model: { hidden: [12, 8], activations: ['relu', 'tanh'] },
      data: { generator: 'spiral', n: 300, seed: 4 },
      optimizer: { type: 'adam', lr: 0.01 },
      train: {
        batchSize: 24,
        evalEvery: 25,
        seed: 7,
        l1: 1e-3,
        l2: 1e-3,
        clipNorm: 0.5,
        schedule: { type: 'step', stepSize: 5, gamma: 0.5, warmupSteps: 0 },
      },
    })
    expect(gpu.device).not.toBeNull()
    for (let i = 1; i <= 20; i++) {
      const sample = i % 5 === 1
      const a = onCpu(cpu, sample)
      const b = await onGpu(gpu, sample)
      if (!a?.ok || !b?.ok) throw new Error(`step ${i} was refused: ${JSON.stringify([a, b])}`)
      expect(close(a.loss, b.loss, 1e-4), `loss of step ${i}: ${a.loss} vs ${b.loss}`).toBe(true)
      expect(b.lr).toBe(a.lr)
      expect(b.alarm).toEqual(a.alarm)
      expect(b.stats === null).toBe(!sample)
      b.stats?.forEach((s, k) => {
        const c = a.stats![k]
        for (const key of ['gradNorm', 'meanAbsGrad', 'maxAbsGrad', 'weightNorm', 'updateRatio'] as const)
          expect(close(s[key], c[key], 1e-3), `${key} of layer ${k}, step ${i}`).toBe(true)
        expect([s.deadFraction, s.saturatedFraction]).toEqual([c.deadFraction, c.saturatedFraction])
      })
    }
    expect([cpu.stepCount, gpu.stepCount]).toEqual([20, 20])
    const ea = runSync(cpu.evaluation())!.value!
    const eb = (await runAsync(gpu.evaluation()))!.value!
    expect(eb.step).toBe(20)
    expect(close(ea.testLoss, eb.testLoss, 1e-4) && close(ea.trainLoss, eb.trainLoss, 1e-4)).toBe(true)
    await gpu.syncMirror()
    const wa = cpu.model.parameters().flatMap((p) => Array.from(p.dataSync()))
    const wb = gpu.model.parameters().flatMap((p) => Array.from(p.dataSync()))
    wb.forEach((w, k) => expect(Math.abs(w - wa[k])).toBeLessThan(1e-4 + 1e-3 * Math.abs(wa[k])))
  }, 60_000)

  it('BatchNorm (mid) + dropout + residual: the same losses step by step, running statistics mirrored back', async () => {
    const blocks = [
      { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
      { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.1, residual: true },
    ]
    const { cpu, gpu } = await pair({
      model: { hidden: [10, 10], activation: 'tanh', blocks },
      data: { generator: 'spiral', n: 300, seed: 4 },
      // SGD: a linear layer's bias before BatchNorm has a zero gradient up to rounding, which Adam
      // would scale up to full steps of noise, different on each backend (in PyTorch as well).
      optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
      train: { batchSize: 24, evalEvery: 25, seed: 7 },
    })
    for (let i = 1; i <= 15; i++) {
      const a = onCpu(cpu, i % 5 === 1)
      const b = await onGpu(gpu, i % 5 === 1)
      if (!a?.ok || !b?.ok) throw new Error(`step ${i} was refused: ${JSON.stringify([a, b])}`)
      expect(close(a.loss, b.loss, 1e-4), `loss of step ${i}: ${a.loss} vs ${b.loss}`).toBe(true)
      b.stats?.forEach((s, k) =>
        expect([s.deadFraction, s.saturatedFraction]).toEqual([a.stats![k].deadFraction, a.stats![k].saturatedFraction]),
      )
      // The norm rows: γ/β from the device's batched read, the running-statistics gap from the kept state.
      expect(b.norms?.length ?? 0).toBe(i % 5 === 1 ? 2 : 0)
      b.norms?.forEach((s, k) => {
        const c = a.norms![k]
        expect(s.meanGap !== null && s.varFactor !== null, `norm ${k} has its running-statistics gap on the device`).toBe(true)
        for (const key of ['gammaGradNorm', 'betaGradNorm', 'weightNorm', 'meanGap', 'varFactor'] as const)
          expect(close(s[key]!, c[key]!, 1e-3), `${key} of norm ${k}, step ${i}: ${s[key]} vs ${c[key]}`).toBe(true)
      })
    }
    // Evaluation in eval mode on both: the running statistics, no dropout.
    const ea = runSync(cpu.evaluation())!.value!
    const eb = (await runAsync(gpu.evaluation()))!.value!
    expect(
      close(ea.testLoss, eb.testLoss, 1e-4) && close(ea.trainLoss, eb.trainLoss, 1e-4),
      `${JSON.stringify(ea)} vs ${JSON.stringify(eb)}`,
    ).toBe(true)
    await gpu.syncMirror()
    const buffers = (t: Trainer) => t.model.namedBuffers().map(([k, b]) => [k, Array.from(b.dataSync())] as const)
    const [ba, bb] = [buffers(cpu), buffers(gpu)]
    expect(bb.map(([k]) => k)).toEqual(ba.map(([k]) => k))
    bb.forEach(([k, v], j) => v.forEach((x, e) => expect(Math.abs(x - ba[j][1][e]), `${k}[${e}]`).toBeLessThan(1e-4 + 1e-3 * Math.abs(x))))
    expect(bb.find(([k]) => k === 'norms.1.num_batches_tracked')![1]).toEqual([15])
    expect(gpu.model.dropoutRng!.getState()).toEqual(cpu.model.dropoutRng!.getState())

    // A step abandoned while its read is awaited (a batch-size change) puts its statistics and masks back.
    const before = await Promise.all(gpu.driver.model.buffers().map((b) => b.data()))
    const rng = gpu.model.dropoutRng!.getState()
    const pending = runAsync(gpu.step(false))
    gpu.setBatchSize(20)
    expect((await pending)!.value).toBeNull()
    expect(await Promise.all(gpu.driver.model.buffers().map((b) => b.data()))).toEqual(before)
    expect(gpu.model.dropoutRng!.getState()).toEqual(rng)
  }, 60_000)

  /** Steps both trainers until one refuses (or `max` steps); every outcome must match on the way. */
  async function runToRefusal(cpu: Trainer, gpu: Trainer, max: number): Promise<[StepOutcome, StepOutcome]> {
    for (let i = 1; i <= max; i++) {
      const a = onCpu(cpu, false)!
      const b = (await onGpu(gpu, false))!
      expect(b.ok, `step ${i}: ${JSON.stringify([a, b])}`).toBe(a.ok)
      if (!a.ok || !b.ok) return [a, b]
    }
    throw new Error(`no refusal in ${max} steps`)
  }

  it('a diverging lr: the same step refused for the same reason, the weights left as before it', async () => {
    const diverging = (train: object): Partial<RequestPayload<'session.create'>> => ({
      data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] },
      model: { hidden: [8], activation: 'linear' },
      optimizer: { type: 'sgd', lr: 10 },
      train: { batchSize: 16, seed: 1, ...train },
    })
    // Exploding alarms out of the way: the NaN/Inf guards decide.
    const guards = await pair(diverging({ alarms: { explodingGradNorm: 1e300 } }))
    const [a, b] = await runToRefusal(guards.cpu, guards.gpu, 500)
    expect(b).toEqual(a)
    expect(a.ok ? null : a.alarm.kind).toMatch(/^(nan|inf)$/)
    await guards.gpu.syncMirror()
    for (const t of [guards.cpu, guards.gpu])
      for (const p of t.model.parameters()) expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true)
    // With the default alarms the exploding gradient pauses first, at the same step and layer.
    const alarms = await pair(diverging({}))
    const [c, d] = await runToRefusal(alarms.cpu, alarms.gpu, 500)
    expect(c.ok ? null : c.alarm.kind).toBe('exploding')
    expect(d.ok ? null : { ...d.alarm, message: d.alarm.message.replace(/norm \S+/, '') }).toEqual(
      c.ok ? null : { ...c.alarm, message: c.alarm.message.replace(/norm \S+/, '') },
    )
  }, 60_000)

  it('an update that overflows a weight: undone on both, the same weight and value named', async () => {
    // A finite loss near float32's limit: its gradient is finite (its squares are not, in float32:
    // the device sums them again in float64), lr times it is not. Alarms that do not pause let the
    // update through, so the overflow guard is what catches it.
    const { cpu, gpu } = await pair(
      { optimizer: { type: 'sgd', lr: 10 }, train: { batchSize: 16, seed: 1, alarms: { pause: false } } },
      (out) => mul(mean(tanh(out)), 3e38),
    )
    const before = cpu.model.parameters().map((p) => Array.from(p.dataSync()))
    const a = onCpu(cpu, false)!
    const b = (await onGpu(gpu, false))!
    expect(b).toEqual(a)
    expect(a.ok ? null : a.alarm.message).toMatch(/^step 1: the update made layers\.\d\.(weight|bias) -?Infinity; training paused/)
    await gpu.syncMirror()
    for (const t of [cpu, gpu]) expect(t.model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(before)
  }, 60_000)
})
