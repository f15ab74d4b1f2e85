// The lab model's cost over the plain net's in CPU time, for a shared machine where wall-clock
// figures swing 2× with other jobs: both nets (bench/common.ts's LAB_MLPS, the float32 matmul on
// one WebAssembly thread) train in alternating rounds of 10 steps, each round timed with
// process.cpuUsage(), and the median of the per-round lab/plain ratios is printed. Issue #13's
// criterion in these terms: lab/plain ≤ PyTorch's lab/plain ÷ 0.9. A diagnostic, not part of
// `npm run bench`: `npx tsx bench/lab-cpu.ts [rounds]`; PARTS=1 adds BatchNorm-only and
// residual-only variants.
import { nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { setCpuMatmulKernel } from '../src/engine/backends/cpu/index.js'
import { loadWasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import { LAB_MLPS, makeBatch, median, type MlpSpec } from './common.js'

const single = loadWasmGemm({ threads: 1 })
setCpuMatmulKernel('auto', () => single)
const [plain, lab] = LAB_MLPS
const variants: MlpSpec[] = [plain, lab]
if (process.env.PARTS) {
  variants.push({ ...lab, name: 'BatchNorm only', blocks: lab.blocks!.map((b) => ({ ...b, residual: false })) })
  variants.push({ ...lab, name: 'residual only', blocks: lab.blocks!.map((b) => ({ ...b, norm: 'none' as const })) })
}
const steps = variants.map((spec) => {
  const { x: xs, labels } = makeBatch(spec)
  const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1, blocks: spec.blocks })
  const opt = new optim.SGD(model.namedParameters(), { lr: spec.lr, checkFinite: false })
  const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
  return (): void => {
    opt.zeroGrad()
    const loss = softmaxCrossEntropy(model.forward(x), labels)
    loss.backward()
    opt.step()
    loss.dataSync()
  }
})

const rounds = Number(process.argv[2] ?? 40)
const perStep: number[][] = variants.map(() => [])
const ratios: number[] = []
for (let r = 0; r < rounds; r++) {
  for (const [i, step] of steps.entries()) {
    const c0 = process.cpuUsage()
    for (let k = 0; k < 10; k++) step()
    const c = process.cpuUsage(c0)
    perStep[i].push((c.user + c.system) / 1000 / 10)
  }
  // The first rounds warm up the JIT.
  if (r >= 3) ratios.push(perStep[1][r] / perStep[0][r])
}
const sorted = [...ratios].sort((a, b) => a - b)
const q = (f: number): string => sorted[Math.floor(sorted.length * f)].toFixed(3)
for (const [i, spec] of variants.entries()) console.log(`${spec.name}: ${median(perStep[i]).toFixed(2)} ms CPU per step (median)`)
console.log(`lab/plain CPU time per round: median ${median(ratios).toFixed(3)} (quartiles ${q(0.25)}-${q(0.75)})`)
