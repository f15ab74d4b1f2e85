// The PyTorch export of a real host's run, trained by its own train.py with Debian's python3-torch:
// `--continue` from a checkpoint takes the studio's next 100 steps (the same losses to 1e-5: Adam
// with a warmup-cosine schedule, L2 and clipping; SGD with Nesterov momentum; RMSprop on a table
// with LayerNorm and dropout; BatchNorm with dropout), and the bundle trains in one process and on 2 ranks (gloo), the 2-rank run's weights
// equal to the one-process run's with the same global batch after 50 steps. An export of an
// earlier checkpoint carries that checkpoint's step. BPS_SKIP_PYTHON=1 skips the python parts.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeSafetensors } from '../../engine'
import type { RequestPayload } from '../../shared/protocol'
import { checkpointTensors, cleanupAfterEach, make, tempDir } from '../runs/test-helpers'
import { spec } from '../test-helpers'
import { PYTORCH_EXPORT_FILES } from '../../shared/export-files'

cleanupAfterEach()

const PYTHON = '/usr/bin/python3'
const SKIP = process.env.BPS_SKIP_PYTHON === '1'
if (SKIP) console.log('export-continue.test.ts: python parts skipped: BPS_SKIP_PYTHON=1 (they need python3-torch)')

const K = 40 // the exported checkpoint
const N = 100 // the steps the studio and train.py --continue take from there

/** A run trained K + N steps in a real host with a checkpoint every K; its export at `at` written to a folder. */
async function trainAndExport(s: RequestPayload<'session.create'>, at = K) {
  const dataDir = tempDir()
  const { ok } = make(dataDir, K)
  const info = await ok('session.create', s)
  await ok('session.step', { sessionId: info.state.sessionId, steps: K + N })
  const { files } = await ok('runs.export', { runId: info.runId!, format: 'pytorch', checkpointStep: at })
  const dir = join(dataDir, 'export')
  mkdirSync(dir)
  for (const f of files) writeFileSync(join(dir, f.name), Buffer.from(f.content, f.encoding === 'base64' ? 'base64' : 'utf8'))
  const metrics = await ok('runs.metrics', { runId: info.runId!, maxPoints: 20_000 })
  return { dir, dataDir, files: files.map((f) => f.name), metrics, ok, runId: info.runId! }
}

function trainPy(dir: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, ['train.py', 'data.csv', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  if (r.error) throw new Error(`${PYTHON} train.py: ${r.error.message} (install python3-torch, or set BPS_SKIP_PYTHON=1)`)
  if (r.status !== 0) throw new Error(`train.py ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`)
  return { stdout: r.stdout, stderr: r.stderr }
}

/** "step S loss L" lines → [S, L]. */
const losses = (stdout: string): [number, number][] =>
  [...stdout.matchAll(/^step (\d+) loss (\S+)$/gm)].map((m) => [Number(m[1]), Number(m[2])] as [number, number])

const tensorsOf = (path: string) => decodeSafetensors(new Uint8Array(readFileSync(path)))

const blocks = [
  { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
  { norm: 'batch' as const, normAt: 'post' as const, dropout: 0.1, residual: true },
]
// 140 training rows in batches of 21: 7 an epoch, the last short, so 100 steps cross epochs.
const base = (over: Partial<RequestPayload<'session.create'>>) =>
  spec({ data: { generator: 'spiral', n: 200, seed: 3 }, train: { batchSize: 21, evalEvery: 1000, seed: 5 }, ...over })
const CASES: Record<string, RequestPayload<'session.create'>> = {
  'Adam, warmup + cosine schedule, L2, clipping': base({
    model: { hidden: [8, 6], activation: 'tanh' },
    optimizer: { type: 'adam', lr: 0.02, beta1: 0.85 },
    train: {
      batchSize: 21,
      evalEvery: 1000,
      seed: 5,
      schedule: { type: 'cosine', periodSteps: 150, minLr: 0.001, warmupSteps: 10 },
      l2: 0.001,
      clipNorm: 1,
    },
  }),
  'SGD with Nesterov momentum': base({
    model: { hidden: [8], activation: 'relu' },
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
  }),
  // A table: its standardisation stays a first step of model.py, so layer 0 is the studio's parameter.
  'RMSprop, step schedule, L1; wine table with LayerNorm and dropout': base({
    data: { source: 'bundled', name: 'wine', seed: 3 },
    model: {
      hidden: [8, 8],
      activation: 'relu',
      blocks: [
        { norm: 'layer', normAt: 'mid', dropout: 0, residual: false },
        { norm: 'none', normAt: 'mid', dropout: 0.3, residual: true },
      ],
    },
    optimizer: { type: 'rmsprop', lr: 0.01, momentum: 0.5, weightDecay: 0.01 },
    train: { batchSize: 21, evalEvery: 1000, seed: 5, schedule: { type: 'step', stepSize: 30, gamma: 0.5, warmupSteps: 0 }, l1: 0.001 },
  }),
  'BatchNorm + dropout + residual, Adam': base({
    model: { hidden: [8, 8], activation: 'relu', blocks },
    optimizer: { type: 'adam', lr: 0.01 },
  }),
}

describe.skipIf(SKIP)('train.py --continue (python3-torch)', () => {
  it.each(Object.keys(CASES))(
    "takes the studio's next 100 steps: the same losses to 1e-5 (%s)",
    async (name) => {
      const run = await trainAndExport(CASES[name])
      expect(run.files.sort()).toEqual(PYTORCH_EXPORT_FILES)
      const ours = run.metrics.steps.map((s, i): [number, number] => [s, run.metrics.trainLoss[i]]).filter(([s]) => s > K)
      expect(ours.map(([s]) => s)).toEqual(Array.from({ length: N }, (_, i) => K + 1 + i))
      const theirs = losses(trainPy(run.dir, ['--continue', '--steps', String(N), '--log-every', '1']).stdout)
      expect(theirs.map(([s]) => s)).toEqual(ours.map(([s]) => s))
      const worst = Math.max(...theirs.map(([, l], i) => Math.abs(l - ours[i][1])))
      console.log(`export-continue.test.ts: ${name}: largest loss difference over ${N} steps ${worst.toExponential(2)}`)
      theirs.forEach(([s, l], i) => expect(Math.abs(l - ours[i][1]), `step ${s}: ${l} vs the studio's ${ours[i][1]}`).toBeLessThan(1e-5))
    },
    120_000,
  )
})

/** Two ranks: torchrun when it starts here, else the two processes launched with its environment variables. */
async function twoRanks(dir: string, args: string[]): Promise<{ path: string; outs: string[] }> {
  const torchrun = spawnSync(PYTHON, ['-m', 'torch.distributed.run', '--nproc_per_node=2', 'train.py', 'data.csv', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (torchrun.status === 0) return { path: 'torchrun --nproc_per_node=2', outs: [torchrun.stdout] }
  // Debian's torch 1.13 torchrun fails before it starts a rank on Python 3.12 (elastic's redirects
  // map); the script is the same either way, only the launcher differs.
  const port = String(29_500 + Math.floor(Math.random() * 1000))
  const rank = (r: number) =>
    new Promise<string>((resolve, reject) => {
      const env = { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, RANK: String(r), LOCAL_RANK: String(r), WORLD_SIZE: '2' }
      const p = spawn(PYTHON, ['train.py', 'data.csv', ...args], { cwd: dir, env })
      let out = ''
      let err = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (err += d))
      p.on('error', reject)
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rank ${r} exited with ${code}:\n${err}`))))
    })
  const why = torchrun.stderr.trim().split('\n').at(-1)
  return {
    path: `2 processes with MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE (torchrun did not start: ${why})`,
    outs: await Promise.all([rank(0), rank(1)]),
  }
}

describe.skipIf(SKIP)('train.py in one process and on 2 ranks (DistributedDataParallel, gloo)', () => {
  it('the 2-rank run ends with the weights of the one-process run with the same global batch (50 steps, to 1e-5)', async () => {
    const run = await trainAndExport(CASES['SGD with Nesterov momentum'])
    const common = ['--steps', '50', '--batch-size', '16', '--device', 'cpu', '--log-every', '10']
    const single = trainPy(run.dir, [...common, '--out', 'single.safetensors'])
    expect(losses(single.stdout).map(([s]) => s)).toEqual([50, 60, 70, 80, 90])
    const ddp = await twoRanks(run.dir, [...common, '--out', 'ddp.safetensors', '--save-every', '25'])
    console.log(`export-continue.test.ts: 2 ranks via ${ddp.path}`)
    // Rank 0 alone logs (rank 1's output is empty) and writes the weights and checkpoints.
    expect(ddp.outs.slice(1)).toEqual(ddp.outs.length > 1 ? [''] : [])
    // Rank 0 logs the global batch's loss (the ranks' mean): the one process's.
    const [one, two] = [losses(single.stdout), losses(ddp.outs[0])]
    expect(two.map(([s]) => s)).toEqual(one.map(([s]) => s))
    two.forEach(([s, l], i) => expect(Math.abs(l - one[i][1]), `step ${s}`).toBeLessThan(1e-5))
    const a = tensorsOf(join(run.dir, 'single.safetensors'))
    const b = tensorsOf(join(run.dir, 'ddp.safetensors'))
    expect(b.metadata.step).toBe(String(K + 50))
    expect(tensorsOf(join(run.dir, `checkpoint-step-${K + 25}.safetensors`)).metadata.step).toBe(String(K + 25))
    expect(Object.keys(b.tensors)).toEqual(Object.keys(a.tensors))
    const start = tensorsOf(join(run.dir, 'weights.safetensors')).tensors
    const worst = Math.max(
      ...Object.entries(a.tensors).flatMap(([k, t]) => Array.from(t.data, (v, i) => Math.abs(v - b.tensors[k].data[i]))),
    )
    console.log(`export-continue.test.ts: 2 ranks vs 1 process after 50 steps: largest weight difference ${worst.toExponential(2)}`)
    for (const [k, t] of Object.entries(a.tensors)) {
      expect(
        t.data.some((v, i) => v !== start[k].data[i]),
        `${k} trained`,
      ).toBe(true)
      t.data.forEach((v, i) => expect(Math.abs(v - b.tensors[k].data[i]), `${k}[${i}]`).toBeLessThan(1e-5))
    }
  }, 180_000)
})

describe('export of an earlier checkpoint', () => {
  it("carries that checkpoint's step: weights metadata, train_state.json and train.py's start", async () => {
    const run = await trainAndExport(CASES['Adam, warmup + cosine schedule, L2, clipping'], K)
    const weights = tensorsOf(join(run.dir, 'weights.safetensors'))
    expect(weights.metadata.step).toBe(String(K))
    expect(tensorsOf(join(run.dir, 'optimizer.safetensors')).metadata.step).toBe(String(K))
    const state = JSON.parse(readFileSync(join(run.dir, 'train_state.json'), 'utf8'))
    expect(state).toMatchObject({ step: K, optimizer: 'adam', sampler: { batchSize: 21, stepsPerEpoch: 7 } })
    expect(readFileSync(join(run.dir, 'train.py'), 'utf8')).toContain(`START_STEP = ${K}\n`)
    // Adam's moments in torch.optim's keys and nn.Linear's [out, in] layout; t as each parameter's step.
    const ours = checkpointTensors(run.dataDir, run.runId, K)
    const optim = tensorsOf(join(run.dir, 'optimizer.safetensors')).tensors
    const m = ours['optim.layers.1.weight.m']
    const [fin, fout] = m.shape
    expect(optim['net.2.weight.exp_avg'].shape).toEqual([fout, fin])
    for (let i = 0; i < fin; i++)
      for (let o = 0; o < fout; o++) expect(optim['net.2.weight.exp_avg'].data[o * fin + i]).toBe(m.data[i * fout + o])
    expect(Array.from(optim['net.2.bias.exp_avg_sq'].data)).toEqual(Array.from(ours['optim.layers.1.bias.v'].data))
    expect(Array.from(optim['net.0.weight.step'].data)).toEqual([K])
    expect(Object.keys(optim).filter((k) => k.endsWith('.step'))).toHaveLength(6)
    // The latest checkpoint (the default) is K + N.
    const { files } = await run.ok('runs.export', { runId: run.runId, format: 'safetensors' })
    expect(decodeSafetensors(Buffer.from(files[0].content, 'base64')).metadata.step).toBe(String(K + N))
    const { files: at0 } = await run.ok('runs.export', { runId: run.runId, format: 'safetensors', checkpointStep: 0 })
    expect(decodeSafetensors(Buffer.from(at0[0].content, 'base64')).metadata.step).toBe('0')
  })
})
