// Diagnostic: typed arrays allocated (by constructor and length) and GC time per training step of each
// LAB_MLPS net on the CPU backend. `npx tsx bench/alloc-lab.ts`; the counting proxy adds its own cost.
import { PerformanceObserver } from 'node:perf_hooks'
import { nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { setCpuMatmulKernel } from '../src/engine/backends/cpu/index.js'
import { loadWasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import { LAB_MLPS, makeBatch } from './common.js'

const single = loadWasmGemm({ threads: 1 })
setCpuMatmulKernel('auto', () => single)
let gcMs = 0
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration
}).observe({ entryTypes: ['gc'] })
const counts = new Map<string, number>()
let counting = false
const F32 = globalThis.Float32Array
const F64 = globalThis.Float64Array
function wrap<T extends Float32ArrayConstructor | Float64ArrayConstructor>(C: T, name: string): T {
  return new Proxy(C, {
    construct(target, args) {
      if (counting) {
        const n = typeof args[0] === 'number' ? args[0] : ((args[0] as { length?: number })?.length ?? -1)
        const key = `${name}[${n}]`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      return Reflect.construct(target, args)
    },
  })
}
globalThis.Float32Array = wrap(F32, 'F32')
globalThis.Float64Array = wrap(F64, 'F64')
const steps = 20
for (const spec of LAB_MLPS) {
  const { x: xs, labels } = makeBatch(spec)
  const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1, blocks: spec.blocks })
  const opt = new optim.SGD(model.namedParameters(), { lr: spec.lr, checkFinite: false })
  const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
  const step = (): void => {
    opt.zeroGrad()
    const loss = softmaxCrossEntropy(model.forward(x), labels)
    loss.backward()
    opt.step()
    loss.dataSync()
  }
  for (let i = 0; i < 5; i++) step()
  counts.clear()
  counting = true
  gcMs = 0
  const c0 = process.cpuUsage()
  for (let i = 0; i < steps; i++) step()
  const c = process.cpuUsage(c0)
  counting = false
  await new Promise((r) => setTimeout(r, 10))
  console.log(`${spec.name}: ${((c.user + c.system) / 1000 / steps).toFixed(2)} ms CPU/step, GC ${(gcMs / steps).toFixed(2)} ms/step`)
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${k}: ${(v / steps).toFixed(1)}/step`)
}
