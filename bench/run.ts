// `npm run bench`: our engine against TensorFlow.js (cpu, wasm) and PyTorch (1 thread), and our
// WebGPU backend against TensorFlow.js's on the same adapter, printed side by side and saved to
// out/bench-latest.json; then memory flatness over 10,000 training steps and the studio's training
// loop (EngineHost session, metrics streaming) against the bare engine loop, and the gradient-flow
// lab's model (BatchNorm + residual) against PyTorch beside the same net without them (lab.ts), the
// wide 16×1024 Adam net against PyTorch (wide.ts), and the matmul split against one thread (split.ts).
// A script, not a test: numbers, no pass/fail. The host imports its bundled CSVs with Vite's `?raw`,
// so package.json runs it with src/host/datasets/raw-register.mjs imported first (the hook must be
// in place before this file's static imports load: upload.ts reaches the host).
// `npm run bench -- --quick` shrinks the time budgets to check the script end to end;
// `--skip-webgpu` / `--webgpu-only` choose the column groups; `--lab-only` runs only the lab's two
// nets, ours and PyTorch, and writes out/bench-lab.json instead; `--upload-only` times only an
// upload over serve mode's WebSocket (upload.ts; also printed at the end of a full run).
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { LAB_MLPS, MLPS, MATMUL_SIZES, median, type ColumnResult, type TimingOptions } from './common.js'
import { benchLab, type LabResult } from './lab.js'
import { benchMemory, type MemoryResult } from './memory.js'
import { benchOurs } from './ours.js'
import { benchUpload, printUpload, type UploadResult } from './upload.js'
import { setCpuMatmulKernel } from '../src/engine/backends/cpu/index.js'
import { loadWasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import type { StudioResult } from './studio.js'
import { printStudioBig, type StudioBigResult } from './studio-big.js'
import { benchTfjs, tfjsVersion } from './tfjs.js'
import { benchTorch } from './torch.js'
import { benchSplit, printSplit, type SplitRow } from './split.js'
import { benchWide, printWide, type WideResult } from './wide.js'
import { benchGpuColumns } from './gpu-columns.js'

const quick = process.argv.includes('--quick')
const labOnly = process.argv.includes('--lab-only')
const studioOnly = process.argv.includes('--studio-only')
const labRows = !process.argv.includes('--webgpu-only') && !studioOnly
const cpuColumns = labRows && !labOnly
const gpuColumns = !process.argv.includes('--skip-webgpu') && !labOnly && !studioOnly
const uploadOnly = process.argv.includes('--upload-only')
// ~2 s of timed repeats per figure keeps the medians stable and the whole run near 2-3 minutes.
const timing: Required<TimingOptions> = quick ? { budgetMs: 200, warmupMs: 50, repeats: 3 } : { budgetMs: 2000, warmupMs: 400, repeats: 5 }

interface Column {
  key: string
  result: ColumnResult | null
  note?: string
}

const progress = (msg: string): void => void process.stderr.write(`… ${msg}\n`)

/** Ratios printed: each of our columns over each peer on the same hardware. */
const RATIOS: [string, string][] = [
  ['ours', 'ours-1t'],
  ['ours', 'ours-ts'],
  ['ours', 'tfjs-cpu'],
  ['ours', 'tfjs-wasm'],
  ['ours', 'torch-1t'],
  ['ours-webgpu', 'tfjs-webgpu'],
]

async function main(): Promise<void> {
  if (uploadOnly) return printUpload(await benchUpload())
  const t0 = performance.now()
  const columns: Column[] = []
  let torch: ReturnType<typeof benchTorch> | null = null
  const load0 = loadavg()[0]
  let memory: MemoryResult[] = []
  let studio: StudioResult | null = null
  let studioBig: StudioBigResult | null = null
  let lab: LabResult | null = null
  let wide: WideResult | null = null
  let split: SplitRow[] = []
  let upload: UploadResult | null = null
  // Both WebAssembly kernel setups loaded once, so switching columns starts no extra threads.
  const pooled = loadWasmGemm()
  const single = loadWasmGemm({ threads: 1 })
  const kernel = setCpuMatmulKernel('auto', () => pooled)
  if (cpuColumns) {
    progress(`ours (cpu backend, float32 matmul: ${kernel.kernel}, ${kernel.threads} thread(s) for large products)`)
    columns.push({
      key: 'ours',
      result: await benchOurs(timing),
      note: `float32 matmul kernel ${kernel.kernel} on ${kernel.threads} thread(s), split from 128³ multiply-adds where measured to pay (${kernel.reason})`,
    })
    if (kernel.threads > 1) {
      progress('ours (cpu backend, WebAssembly kernel on one thread)')
      setCpuMatmulKernel('auto', () => single)
      columns.push({
        key: 'ours-1t',
        result: await benchOurs(timing),
        note: 'the WebAssembly kernel kept on one thread (BPS_CPU_MATMUL_THREADS=1)',
      })
    }
    if (kernel.kernel !== 'ts') {
      progress('ours (cpu backend, TS matmul kernel)')
      setCpuMatmulKernel('ts')
      columns.push({
        key: 'ours-ts',
        result: await benchOurs(timing),
        note: 'the pure-TS matmul kernel (the fallback where WebAssembly SIMD is unavailable)',
      })
    }
    setCpuMatmulKernel('auto', () => pooled)
    for (const backend of ['cpu', 'wasm'] as const) {
      progress(`tfjs ${backend}`)
      const r = await benchTfjs(backend, timing)
      columns.push({ key: `tfjs-${backend}`, result: r, note: r.leakedTensors ? `${r.leakedTensors} tensors leaked` : undefined })
    }
    progress('torch (1 thread)')
    torch = benchTorch(timing)
    columns.push(
      'skipped' in torch
        ? { key: 'torch-1t', result: null, note: torch.skipped }
        : { key: 'torch-1t', result: torch.result, note: blasNote(torch.blas) },
    )
  }
  // Ours as shipped (the 'ours' column's kernel setup) against PyTorch on one thread.
  if (labRows) lab = await benchLab(timing, quick ? 1 : 3, progress)
  if (cpuColumns) {
    wide = await benchWide(timing, quick ? 1 : 3, progress, (on) => void setCpuMatmulKernel('auto', () => (on ? single : pooled)))
    progress('matmul split vs one thread')
    if (pooled.ok && single.ok) split = await benchSplit(single.gemm, pooled.gemm, undefined, quick ? 3 : 7, quick ? 60 : 250)
    progress('memory flatness')
    memory = [await benchMemory(MLPS[0], quick ? [100, 1000] : [1000, 10_000]), await benchMemory(MLPS[1], quick ? [20, 100] : [200, 2000])]
  }
  if (cpuColumns || studioOnly) {
    progress('studio loop vs bare loop')
    const { benchStudio } = await import('./studio.js')
    studio = await benchStudio(quick ? 1500 : 10_000)
    progress('studio loop vs bare loop, 2-(1024×16)-2 Adam')
    const { benchStudioBig } = await import('./studio-big.js')
    studioBig = await benchStudioBig(quick ? 6000 : 30_000)
  }
  if (cpuColumns) {
    progress('upload over loopback')
    upload = await benchUpload()
  }
  let gpuAdapter: string | null = null
  if (gpuColumns) {
    const gpu = await benchGpuColumns(timing, progress)
    columns.push(...gpu.columns)
    gpuAdapter = gpu.adapter
  }

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage1mAtStart: load0,
    loadAverage1mAtEnd: loadavg()[0],
    float32Matmul: kernel.kernel,
    float32MatmulThreads: kernel.threads,
    node: process.version,
    tfjs: tfjsVersion,
    torch: !torch || 'skipped' in torch ? (lab?.torchVersion ?? null) : torch.version,
    torchBlas: !torch || 'skipped' in torch ? (lab?.torchBlas ?? null) : torch.blas,
    webgpuAdapter: gpuAdapter,
  }
  console.log(
    `\nMachine: ${machine.cpu}, ${machine.cores} cores (load average ${load0.toFixed(2)} at start, ${machine.loadAverage1mAtEnd.toFixed(2)} at end) · Node ${machine.node} · tfjs ${machine.tfjs} · torch ${machine.torch ?? 'n/a'} · WebGPU adapter ${gpuAdapter ?? 'n/a'}`,
  )
  console.log(
    `Timing: median of ${timing.repeats} repeats, ~${timing.budgetMs} ms per figure after warm-up${quick ? ' (--quick: rough figures)' : ''}`,
  )

  if (columns.length) {
    printTable(
      'Training steps/s (forward + softmax CE + backward + SGD step), float32',
      'net',
      MLPS.map((s) => s.name),
      columns,
      (r, i) => r.train[i]?.steps.perSec ?? NaN,
    )
    const losses = columns.map((c) => `${c.key} ${c.result ? c.result.train.map((t) => t.loss.toFixed(3)).join(' / ') : 'n/a'}`)
    console.log(`  last loss per net (a sanity check; each column ran its own number of steps): ${losses.join(', ')}`)
    printTable(
      'Matmul GFLOP/s (2·n³ flops), float32, [n,n]·[n,n]',
      'n',
      MATMUL_SIZES.map(String),
      columns,
      (r, i) => ((r.matmul[i]?.perSec ?? NaN) * 2 * MATMUL_SIZES[i] ** 3) / 1e9,
    )
    for (const c of columns) if (c.note) console.log(`Note (${c.key}): ${c.note}`)
  }
  if (lab) printLab(lab)
  if (wide) printWide(wide, fmt)
  if (split.length) printSplit(split)
  if (memory.length) printMemory(memory)
  if (studio) printStudio(studio)
  if (studioBig) printStudioBig(studioBig, fmt)
  if (upload) printUpload(upload)

  const elapsed = (performance.now() - t0) / 1000
  console.log(`\nTotal ${elapsed.toFixed(0)} s`)
  mkdirSync('out', { recursive: true })
  const date = new Date().toISOString()
  const results = { columns, memory, studio, studioBig, upload, lab, wide, split }
  const json = labOnly
    ? { date, quick, machine, timing, labMlps: LAB_MLPS, lab }
    : { date, quick, machine, timing, mlps: MLPS, matmulSizes: MATMUL_SIZES, labMlps: LAB_MLPS, ...results }
  const file = labOnly ? 'out/bench-lab.json' : 'out/bench-latest.json'
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n')
  console.log(`Results written to ${file}`)
}

function printTable(title: string, rowHead: string, rows: string[], columns: Column[], pick: (r: ColumnResult, i: number) => number): void {
  const byKey = new Map(columns.map((c) => [c.key, c]))
  const ratios = RATIOS.filter(([a, b]) => byKey.has(a) && byKey.has(b))
  const head = [rowHead, ...columns.map((c) => c.key), ...ratios.map(([a, b]) => `${a}/${b}`)]
  const value = (c: Column | undefined, i: number): number => (c?.result ? pick(c.result, i) : NaN)
  const body = rows.map((name, i) => {
    const ratioCells = ratios.map(([a, b]) => {
      const v = value(byKey.get(a), i) / value(byKey.get(b), i)
      return Number.isFinite(v) ? `${v.toFixed(2)}×` : '—'
    })
    return [name, ...columns.map((c) => fmt(value(c, i))), ...ratioCells]
  })
  printRows(title, head, body)
}

/** A titled table: the first column left-aligned, the others right-aligned. */
function printRows(title: string, head: string[], body: string[][]): void {
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)))
  const line = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ')
  console.log(`\n${title}`)
  console.log(line(head))
  for (const r of body) console.log(line(r))
}

function printLab(r: LabResult): void {
  const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—')
  printRows(
    `Gradient-flow lab model vs the same net without blocks: training steps/s (SGD), float32, median of ${r.rounds} alternating round(s)`,
    ['net', 'ours', 'torch-1t', 'ours/torch-1t'],
    r.nets.map((n, i) => [n.name, fmt(median(n.ours)), fmt(n.torch.length ? median(n.torch) : NaN), ratio(r.ratios[i])]),
  )
  const perRound = r.labOverPlainPerRound.map(ratio).join(', ')
  console.log(
    `  lab ratio / plain ratio: ${ratio(r.labOverPlain)} (issue #13: at least the plain net's ratio minus 10%, i.e. ≥ 0.90×); per round: ${perRound || '—'}`,
  )
  const losses = r.nets.map((n) => `${n.oursLoss.toFixed(3)} / ${n.torchLoss.toFixed(3)}`).join(', ')
  console.log(`  last loss ours / torch (plain, lab; a sanity check): ${losses}`)
  if (r.torchSkipped) console.log(`Note (torch-1t): ${r.torchSkipped}`)
  else if (r.torchBlas) console.log(`Note (torch-1t): ${blasNote(r.torchBlas)}`)
}

function printMemory(results: MemoryResult[]): void {
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MB`
  console.log('\nMemory after a full GC while training (SGD, fixed batch): heap used / ArrayBuffer bytes')
  for (const r of results) {
    const cells = r.readings.map((m) => `step ${m.step}: ${mb(m.heapUsed)} / ${mb(m.arrayBuffers)}`)
    console.log(
      `  ${r.net}: ${cells.join(' → ')}  (last/first: heap ${r.heapRatio.toFixed(3)}×, ArrayBuffers ${r.arrayBufferRatio.toFixed(3)}×)`,
    )
  }
}

function printStudio(r: StudioResult): void {
  console.log('\nStudio loop vs bare engine loop, 784-256-128-10 relu, batch 128, SGD (steps/s, medians of interleaved rounds)')
  console.log(`  bare loop (nn.MLP + SGD over the same batches): ${fmt(r.bare)}`)
  console.log(
    `  studio session, metrics streamed as JSON, no evaluations: ${fmt(r.studioNoEval)}   studio/bare: ${r.ratioNoEval.toFixed(2)}×  (the loop's own overhead)`,
  )
  console.log(
    `  studio session evaluating every 50 steps (a fixed sample of each split, ≤5% of the training between): ${fmt(r.studio)}   studio/bare: ${r.ratio.toFixed(2)}×`,
  )
  console.log(
    `  bare + the trainer's weight snapshot: ${fmt(r.bareSnapshot)} (${(r.bareSnapshot / r.bare).toFixed(2)}×)` +
      ` · + its non-finite scan: ${fmt(r.bareSnapshotScan)} (${(r.bareSnapshotScan / r.bare).toFixed(2)}×)`,
  )
  console.log(`  events: ${r.eventsPerSecond.toFixed(1)}/s, ${(r.eventBytesPerSecond / 1024).toFixed(1)} KiB/s of JSON`)
}

/** Debian builds torch on the system BLAS; the reference one makes its matmuls several times slower. */
function blasNote(blas: string): string {
  const kind = blas.includes('/blas/')
    ? 'reference (Netlib) BLAS, unoptimised'
    : blas.includes('openblas')
      ? 'OpenBLAS'
      : 'unrecognised BLAS'
  return `matmul/Linear run on libblas.so.3 -> ${blas} (${kind}); a pip torch (MKL) would be faster`
}

/** Three significant digits, so small and large figures share a column. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) return '—'
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
