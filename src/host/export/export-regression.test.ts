// Exports of a regression run that trained on a standardised target (the diabetes CSV): every
// format predicts in the target's own units, as the studio shows them (μ + σ·output), because the
// scaling is folded into the output layer (JSON, ONNX) or applied after it (the PyTorch package,
// whose layers stay the studio's own parameters). The python checks use /usr/bin/python3 with
// python3-torch and python3-onnx; BPS_SKIP_PYTHON=1 skips them, as in export-python.test.ts.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tensor } from '../../engine'
import { prepareData, type SplitData } from '../data-source'
import { FileStore } from '../datasets/store'
import { ingest } from '../datasets/uploads'
import { planLoss } from '../setup'
import { unscale } from '../target-scaling'
import { exportRun } from './index'
import type { JsonExport } from './json'
import { foldTargetScaling, type ExportLayer } from './model'
import { makeRun, makeSpec, removeRuns, type Fixture } from './test-fixture'

afterAll(removeRuns)

const PYTHON = '/usr/bin/python3'
const SKIP = process.env.BPS_SKIP_PYTHON === '1'

function runPython(
  script: string,
  input: unknown,
): { forward?: { y: number[][] }[]; train?: { rc: number; loss0: number; stderr: string }[]; models?: { y: number[][] }[] } {
  const r = spawnSync(PYTHON, [fileURLToPath(new URL(`./testdata/${script}`, import.meta.url))], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.error) throw new Error(`${PYTHON} ${script}: ${r.error.message} (install python3-torch and python3-onnx, or set BPS_SKIP_PYTHON=1)`)
  if (r.status !== 0) throw new Error(`${PYTHON} ${script} exited with ${r.status}:\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

let store: FileStore
let fx: Fixture
let d: SplitData
/** Raw rows of the diabetes file (the first training rows) and the studio's predictions for them, in the target's units. */
let x: number[][]
let y: number[]
let studio: number[]

beforeAll(async () => {
  store = new FileStore(null)
  const csv = readFileSync(new URL('../../../e2e/fixtures/diabetes.csv', import.meta.url))
  const fileId = (await ingest(store, 'diabetes.csv', csv)).fileId
  const spec = makeSpec({ data: { source: 'csv', fileId, target: 'progression' }, model: { hidden: [8, 8], activation: 'relu' } })
  d = prepareData(spec.data, store)
  fx = makeRun(spec, 1, { name: 'diabetes run', seed: 5, files: store })
  const f = d.raw.nFeatures
  const rows = d.trainRows.slice(0, 8)
  x = rows.map((r) => Array.from(d.raw.x.subarray(r * f, (r + 1) * f)))
  y = rows.map((r) => d.raw.y[r])
  const z = d.toModelInputs(Float32Array.from(x.flat()), x.length)
  const out = fx.forward(x.map((_, r) => Array.from(z.subarray(r * f, (r + 1) * f))))
  studio = out.map((o) => unscale(o[0], d.targetScaling))
})

async function writeExport(format: 'pytorch' | 'onnx' | 'json', sub: string): Promise<string> {
  const dir = join(fx.run.dir, sub)
  mkdirSync(dir, { recursive: true })
  for (const file of await exportRun(fx.run, format))
    writeFileSync(join(dir, file.name), Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8'))
  return dir
}

/** Relative closeness in float32 terms: predictions are in the hundreds. */
function expectPredictions(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length)
  got.forEach((v, i) => expect(Math.abs(v - want[i]), `row ${i}: ${v} vs ${want[i]}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]))))
}

describe('foldTargetScaling', () => {
  it('maps the output layer to μ + σ·(x·W + b) in float64 before rounding', () => {
    const l: ExportLayer = {
      inFeatures: 2,
      outFeatures: 1,
      weight: Float32Array.from([0.5, -2]),
      bias: Float32Array.from([0.25]),
      activation: 'linear',
      norm: null,
      dropout: 0,
      residual: false,
    }
    const f = foldTargetScaling(l, { mean: 150, std: 80 })
    expect(Array.from(f.weight)).toEqual([40, -160])
    expect(Array.from(f.bias)).toEqual([170])
  })
})

describe('export of a regression run on a standardised target', () => {
  it('the diabetes target trains standardised with the training rows’ statistics', () => {
    const s = d.targetScaling!
    const trainY = d.trainRows.map((r) => d.raw.y[r])
    const mean = trainY.reduce((a, b) => a + b, 0) / trainY.length
    expect(s.mean).toBeCloseTo(mean, 9)
    expect(s.std).toBeGreaterThan(70) // the target spans 25–346
  })

  it('JSON: a plain forward of the exported layers gives the studio’s predictions in the target’s units', async () => {
    const dir = await writeExport('json', 'json')
    const j = JSON.parse(readFileSync(join(dir, 'diabetes-run.json'), 'utf8')) as JsonExport
    const got = x.map((row) => {
      let h = row
      for (const l of j.layers) {
        const o = l.bias.map((b, k) => b + h.reduce((acc, v, i) => acc + v * l.weight[i][k], 0))
        h = l.activation === 'relu' ? o.map((v) => Math.max(0, v)) : o
      }
      return h[0]
    })
    expectPredictions(got, studio)
    expect(Math.min(...got)).toBeGreaterThan(-1000) // in the hundreds, not standard deviations
  })

  it.skipIf(SKIP)(
    'ONNX and the PyTorch package give the studio’s predictions; train.py trains on the standardised target',
    async () => {
      const onnxDir = await writeExport('onnx', 'onnx')
      const torchDir = await writeExport('pytorch', 'pytorch')
      expect(readFileSync(join(torchDir, 'model.py'), 'utf8')).toMatch(/^TARGET_SCALING = \([0-9.]+, [0-9.]+\)$/m)
      // data.csv ships the raw target, as the user's file has it.
      expect(readFileSync(join(torchDir, 'data.csv'), 'utf8').split('\n')[1]).toBe([...x[0], y[0]].join(','))
      const onnx = runPython('check_onnx.py', [{ path: join(onnxDir, 'diabetes-run.onnx'), x }])
      expectPredictions(
        onnx.models![0].y.map((r) => r[0]),
        studio,
      )
      const torch = runPython('check_torch.py', { forward: [{ dir: torchDir, x }], train: [{ dir: torchDir, csv: 'data.csv', x, y }] })
      expectPredictions(
        torch.forward![0].y.map((r) => r[0]),
        studio,
      )
      const t = torch.train![0]
      expect(t.rc, t.stderr).toBe(0)
      // train.py's loss is the studio's training loss: MSE on the standardised target.
      const f = d.raw.nFeatures
      const z = d.toModelInputs(Float32Array.from(x.flat()), x.length)
      const s = d.targetScaling!
      const plan = planLoss('auto', 'regression', 1, 'diabetes')
      const ours = plan
        .loss(
          fx.model.forward(tensor(x.map((_, r) => Array.from(z.subarray(r * f, (r + 1) * f))))),
          Float32Array.from(y, (v) => (v - s.mean) / s.std),
        )
        .dataSync()[0]
      expect(Math.abs(t.loss0 - ours)).toBeLessThan(1e-5)
    },
    240_000,
  )
})
