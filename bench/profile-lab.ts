// Where one training step of the lab model goes on the CPU backend (CPU time): every backend kernel call is
// timed and counted by method and op, split into forward (grad recording on) and backward/optimiser
// (grad off), with the step's forward, backward and optimiser phases timed around it.
// `npx tsx bench/profile-lab.ts [steps]`. A diagnostic, not a benchmark: the timing wrappers add
// their own cost per kernel call.
import { cpuBackend } from '../src/engine/backends/cpu/index.js'
import { isGradEnabled, nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { LAB_MLPS, makeBatch } from './common.js'

/** CPU time of this process (ms): on a shared machine it counts our work, not the waits for a core. */
function cpuMs(): number {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

type Key = string
const stats = new Map<Key, { ms: number; calls: number; floats: number }>()
let phase = 'forward'
const be = cpuBackend as unknown as Record<string, (...args: unknown[]) => { size?: number; p?: { size: number } }>
for (const method of [
  'unary',
  'binary',
  'reduce',
  'argmaxOneHot',
  'matmul',
  'transpose',
  'expand',
  'activationGrad',
  'softmaxCrossEntropy',
  'sgdStep',
  'adamStep',
  'full',
  'fromArray',
  'cast',
  'norm',
  'normGrad',
]) {
  const f = be[method]
  if (typeof f !== 'function') continue
  be[method] = function (this: unknown, ...args: unknown[]) {
    const t0 = cpuMs()
    const r = f.apply(this, args)
    const dt = cpuMs() - t0
    const op = typeof args[0] === 'string' ? `:${args[0]}` : ''
    const key = `${isGradEnabled() ? 'fwd' : phase}  ${method}${op}`
    const s = stats.get(key) ?? { ms: 0, calls: 0, floats: 0 }
    s.ms += dt
    s.calls++
    s.floats += (r && typeof r === 'object' && 'size' in r ? (r.size as number) : 0) || 0
    stats.set(key, s)
    return r
  }
}

const steps = Number(process.argv[2] ?? 40)
for (const spec of LAB_MLPS) {
  const { x: xs, labels } = makeBatch(spec)
  const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1, blocks: spec.blocks })
  const opt = new optim.SGD(model.namedParameters(), { lr: spec.lr, checkFinite: false })
  const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
  const phases = { forward: 0, backward: 0, step: 0 }
  const run = (record: boolean): void => {
    const t0 = cpuMs()
    opt.zeroGrad()
    phase = 'bwd'
    const loss = softmaxCrossEntropy(model.forward(x), labels)
    const t1 = cpuMs()
    loss.backward()
    const t2 = cpuMs()
    phase = 'opt'
    opt.step()
    const t3 = cpuMs()
    if (record) {
      phases.forward += t1 - t0
      phases.backward += t2 - t1
      phases.step += t3 - t2
    }
  }
  for (let i = 0; i < 20; i++) run(false)
  stats.clear()
  const t0 = cpuMs()
  for (let i = 0; i < steps; i++) run(true)
  const total = (cpuMs() - t0) / steps
  console.log(
    `\n${spec.name}: ${total.toFixed(2)} ms/step (forward ${(phases.forward / steps).toFixed(2)}, backward ${(phases.backward / steps).toFixed(2)}, optimiser ${(phases.step / steps).toFixed(2)})`,
  )
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms)
  let kernelMs = 0
  for (const [k, s] of rows) {
    kernelMs += s.ms
    console.log(
      `  ${k.padEnd(34)} ${(s.ms / steps).toFixed(3).padStart(7)} ms  ${(s.calls / steps).toFixed(1).padStart(5)} calls  ${((s.floats / steps / 1024) | 0).toString().padStart(6)} Kfloats out`,
    )
  }
  console.log(
    `  kernels total ${(kernelMs / steps).toFixed(2)} ms; outside kernels (graph, allocation wrappers, GC) ${(total - kernelMs / steps).toFixed(2)} ms`,
  )
}
