import { cpuBackend } from '../src/engine/backends/cpu/index.js'
import { isGradEnabled, nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { makeBatch } from './common.js'
function cpuMs(): number { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
const stats = new Map<string, { ms: number; calls: number }>()
let phase = 'bwd'
const be = cpuBackend as any
for (const method of ['unary','binary','reduce','matmul','transpose','expand','activationGrad','softmaxCrossEntropy','sgdStep','adamStep','full','fromArray','cast','addInto']) {
  const f = be[method]; if (typeof f !== 'function') continue
  be[method] = function (...args: any[]) {
    const t0 = cpuMs(); const r = f.apply(this, args); const dt = cpuMs() - t0
    let op = typeof args[0] === 'string' ? `:${args[0]}` : ''
    if (method === 'matmul') op = `:${args[2].aShape}${args[2].transA?'T':''}x${args[2].bShape}${args[2].transB?'T':''}`
    const key = `${isGradEnabled() ? 'fwd' : phase} ${method}${op}`
    const s = stats.get(key) ?? { ms: 0, calls: 0 }; s.ms += dt; s.calls++; stats.set(key, s); return r
  }
}
const spec = { name: "mnist", sizes: [784, 256, 128, 10], activation: "relu" as const, batch: 128, lr: 0.1 }
const { x: xs, labels } = makeBatch(spec)
const model = new nn.MLP(spec.sizes, { activation: "relu", seed: 1 })
const opt = new optim.SGD(model.namedParameters(), { lr: 0.1, checkFinite: false })
const x = tensor(xs, { shape: [spec.batch, 784] })
const steps = Number(process.argv[2] ?? 10)
const ph = { f: 0, b: 0, o: 0 }
const run = (rec: boolean) => {
  const t0 = performance.now(); opt.zeroGrad(); phase = 'bwd'
  const loss = softmaxCrossEntropy(model.forward(x), labels); const t1 = performance.now()
  loss.backward(); const t2 = performance.now(); phase = 'opt'; opt.step(); const t3 = performance.now()
  if (rec) { ph.f += t1 - t0; ph.b += t2 - t1; ph.o += t3 - t2 }
}
for (let i = 0; i < 3; i++) run(false)
stats.clear()
const t0 = performance.now()
for (let i = 0; i < steps; i++) run(true)
const total = (performance.now() - t0) / steps
console.log(`${total.toFixed(1)} ms/step  fwd ${(ph.f/steps).toFixed(1)} bwd ${(ph.b/steps).toFixed(1)} opt ${(ph.o/steps).toFixed(1)}`)
let k = 0
for (const [key, s] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms)) { k += s.ms; console.log(`  ${key.padEnd(50)} ${(s.ms/steps).toFixed(2).padStart(8)} ms ${(s.calls/steps).toFixed(1)} calls`) }
console.log(`kernels ${(k/steps).toFixed(1)} ms`)
