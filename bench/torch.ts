// The PyTorch column: runs bench/torch_bench.py under Debian's /usr/bin/python3 (torch 1.13, one
// thread, its BLAS too) on the exact bytes the JS columns use, or says why it cannot.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeBatch, makeMatrix, MLPS, MATMUL_SIZES, type ColumnResult, type MlpSpec, type TimingOptions } from './common.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_bench.py')

export type TorchOutcome = { result: ColumnResult; version: string; blas: string } | { skipped: string }

/** Torch's version, or null with the reason it is not importable. */
export function probeTorch(): { version: string } | { skipped: string } {
  const p = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' })
  if (p.status === 0) return { version: p.stdout.trim() }
  const why = p.error ? p.error.message : (p.stderr.trim().split('\n').pop() ?? `exit ${p.status}`)
  return { skipped: `${PYTHON} -c "import torch" failed (${why}); install Debian's python3-torch for this column` }
}

/** The bench's nets and matmuls by default; the lab section passes its own nets and no matmuls. */
export function benchTorch(timing: Required<TimingOptions>, mlps: MlpSpec[] = MLPS, matmulSizes = MATMUL_SIZES): TorchOutcome {
  const probe = probeTorch()
  if ('skipped' in probe) return probe
  const dir = mkdtempSync(join(tmpdir(), 'bench-torch-'))
  try {
    const file = (name: string, data: Float32Array | Int32Array): string => {
      const path = join(dir, name)
      writeFileSync(path, data)
      return path
    }
    const config = {
      timing: { budget_ms: timing.budgetMs, warmup_ms: timing.warmupMs, repeats: timing.repeats },
      mlps: mlps.map((spec, i) => {
        const { x, labels } = makeBatch(spec)
        return { ...spec, x: file(`x${i}.f32`, x), labels: file(`y${i}.i32`, labels) }
      }),
      matmuls: matmulSizes.map((n) => ({ n, a: file(`a${n}.f32`, makeMatrix(n, 1)), b: file(`b${n}.f32`, makeMatrix(n, 2)) })),
    }
    const configPath = join(dir, 'config.json')
    writeFileSync(configPath, JSON.stringify(config))
    // torch.set_num_threads(1) does not reach Debian's OpenBLAS (torch sees a generic BLAS), which
    // otherwise runs every matmul on one thread per core: measured here, a 32×1024·1024×1024 product
    // ran at 4.5 GFLOP/s with its default two threads on a loaded 2-core machine and 15.9 with one.
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
    const p = spawnSync(PYTHON, [SCRIPT, configPath], { encoding: 'utf8', maxBuffer: 1 << 20, env })
    if (p.status !== 0) return { skipped: `torch_bench.py failed (exit ${p.status}): ${p.stderr.trim().split('\n').slice(-3).join(' | ')}` }
    const out = JSON.parse(p.stdout) as ColumnResult & { version: string; blas: string }
    return { result: { train: out.train, matmul: out.matmul }, version: out.version, blas: out.blas }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
