// The exports as PyTorch and ONNX see them, checked with Debian's python3-torch and python3-onnx
// (/usr/bin/python3): outputs match the engine's float32 forward to 1e-5, train.py trains with the
// run's loss and optimiser, onnx.checker accepts the model. CI installs both packages; a missing
// one fails these tests unless BPS_SKIP_PYTHON=1 says to skip them.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { data, tensor } from '../../engine'
import { ACTIVATION_NAMES } from '../../shared/protocol'
import { prepareData } from '../data-source'
import { FileStore } from '../datasets/store'
import { ingest } from '../datasets/uploads'
import { planLoss } from '../setup'
import { exportRun } from './index'
import { fixedInputs, generatorOf, makeRun, makeSpec, removeRuns, type Fixture } from './test-fixture'

afterAll(removeRuns)

const PYTHON = '/usr/bin/python3'
const SKIP = process.env.BPS_SKIP_PYTHON === '1'
if (SKIP)
  console.log('export-python.test.ts: skipped: BPS_SKIP_PYTHON=1 (the PyTorch and ONNX export checks need python3-torch and python3-onnx)')

// The checker's JSON: its shape is asserted field by field where it is used.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function runPython(script: string, input: unknown): any {
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

async function writeExport(fx: Fixture, format: 'pytorch' | 'onnx', sub: string): Promise<string> {
  const dir = join(fx.run.dir, sub)
  mkdirSync(dir, { recursive: true })
  for (const f of await exportRun(fx.run, format))
    writeFileSync(join(dir, f.name), Buffer.from(f.content, f.encoding === 'base64' ? 'base64' : 'utf8'))
  return dir
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((row, r) =>
    row.forEach((v, c) => expect(Math.abs(v - expected[r][c]), `row ${r} col ${c}: ${v} vs ${expected[r][c]}`).toBeLessThan(1e-5)),
  )
}

const X = fixedInputs(7, 3)

describe.skipIf(SKIP)('export → PyTorch (python3-torch)', () => {
  it('model.py + weights.safetensors give the engine forward for every activation; train.py trains with the run loss and optimiser', async () => {
    const forward = await Promise.all(
      ACTIVATION_NAMES.map(async (activation, i) => {
        const fx = makeRun(makeSpec({ model: { activation, hidden: [6, 5] } }), 3, { seed: 11 + i })
        return { fx, dir: await writeExport(fx, 'pytorch', 'pytorch') }
      }),
    )
    const trainSpecs = [
      makeSpec({ model: { activation: 'gelu' }, optimizer: { type: 'adam', lr: 0.05, beta1: 0.8, weightDecay: 0.001 } }),
      makeSpec({ data: { generator: 'reg-plane', features: ['x1', 'x2'] }, optimizer: { type: 'rmsprop', lr: 0.01, momentum: 0.5 } }),
      makeSpec({
        data: { generator: 'xor', features: ['x1', 'x2'] },
        model: { loss: 'hinge', activation: 'relu' },
        optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
      }),
      makeSpec({
        data: { generator: 'xor', features: ['x1', 'x2'] },
        model: { loss: 'bceWithLogits' },
        optimizer: { type: 'adamw', lr: 0.01 },
      }),
      makeSpec({
        data: { generator: 'reg-plane', features: ['x1', 'x2'] },
        model: { loss: 'huber' },
        optimizer: { type: 'sgd', lr: 0.05 },
      }),
    ]
    const train = await Promise.all(
      trainSpecs.map(async (spec, i) => {
        const gen = generatorOf(spec)
        const task = data.listGenerators().find((g) => g.name === gen.generator)!.task
        const outputSize = task === 'multiclass' ? 3 : 1
        const fx = makeRun(spec, outputSize, { seed: 40 + i })
        const dir = await writeExport(fx, 'pytorch', 'pytorch')
        // The export ships the run's own training split, so `python train.py data.csv` just works.
        const shipped = readFileSync(join(dir, 'data.csv'), 'utf8').trim().split('\n')
        expect(shipped[0]).toBe([...gen.features, 'label'].join(','))
        expect(shipped.length - 1).toBe(prepareData(spec.data, null).train.n)
        const x = fixedInputs(8, gen.features.length)
        // Huber's targets reach past delta = 1 from the outputs, so its linear piece is checked too.
        const reach = spec.model.loss === 'huber' ? 3 : 1
        const y = x.map((_, r) => (task === 'regression' ? reach * (0.25 * r - 1) : r % (task === 'multiclass' ? 3 : 2)))
        const csv = [[...gen.features, 'label'].join(','), ...x.map((row, r) => [...row, y[r]].join(','))].join('\n') + '\n'
        writeFileSync(join(dir, 'data.csv'), csv)
        const plan = planLoss(spec.model.loss, task, outputSize, gen.generator)
        const ourLoss = plan.loss(fx.model.forward(tensor(x)), Float32Array.from(y)).dataSync()[0]
        return { spec, dir, x, y, ourLoss }
      }),
    )
    const out = runPython('check_torch.py', {
      forward: forward.map((f) => ({ dir: f.dir, x: X })),
      train: train.map((t) => ({ dir: t.dir, csv: 'data.csv', x: t.x, y: t.y })),
    })
    console.log(`export-python.test.ts: PyTorch ${out.torch}, Python ${out.python}`)

    forward.forEach((f, i) => {
      const got = out.forward[i]
      expectClose(got.y, f.fx.forward(X))
      expect(got.keys).toEqual(['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias'])
      const act = { relu: 'ReLU', leakyRelu: 'LeakyReLU', tanh: 'Tanh', sigmoid: 'Sigmoid', gelu: 'GELU', linear: 'Identity' }[
        ACTIVATION_NAMES[i]
      ]
      expect(got.modules).toEqual(['Linear', act, 'Linear', act, 'Linear'])
    })

    const expected = [
      { optimizer: 'Adam', group: { lr: 0.05, betas: [0.8, 0.999], eps: 1e-8, weight_decay: 0.001 } },
      { optimizer: 'RMSprop', group: { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0.5, weight_decay: 0 } },
      { optimizer: 'SGD', group: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0 } },
      { optimizer: 'AdamW', group: { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01 } },
      { optimizer: 'SGD', group: { lr: 0.05, momentum: 0, nesterov: false, weight_decay: 0 } },
    ]
    train.forEach((t, i) => {
      const got = out.train[i]
      expect(got.rc, `train.py for ${t.spec.optimizer.type}:\n${got.stderr}`).toBe(0)
      // The fixture's checkpoint is step 100: two more steps end at 102.
      expect(got.stdout).toMatch(/^step 102 loss [0-9.e-]+\nsaved weights-trained\.safetensors\n$/)
      expect(got).toMatchObject({ ...expected[i], changed: true, finite: true })
      expect(Math.abs(got.loss0 - t.ourLoss)).toBeLessThan(1e-5)
    })
  }, 240_000)
})

describe.skipIf(SKIP)("export → PyTorch for table data (the standardisation as the module's first step)", () => {
  it('bundled and CSV runs: model.py takes the raw columns and matches our forward on standardised inputs; data.csv is the training rows', async () => {
    const store = new FileStore(null)
    const csv = readFileSync(new URL('../../../e2e/fixtures/good.csv', import.meta.url))
    const fileId = (await ingest(store, 'good.csv', csv)).fileId
    const specs = [
      makeSpec({ data: { source: 'bundled', name: 'wine', seed: 3 }, model: { hidden: [6], activation: 'relu' } }),
      makeSpec({
        data: { source: 'csv', fileId, target: 'species', features: ['sepal_length', 'petal_length', 'petal_width', 'site'] },
        model: { hidden: [5, 4], activation: 'tanh' },
      }),
    ]
    const cases = await Promise.all(
      specs.map(async (spec, i) => {
        const d = prepareData(spec.data, store)
        const fx = makeRun(spec, 3, { seed: 60 + i, files: store })
        const dir = await writeExport(fx, 'pytorch', 'pytorch')
        const f = d.raw.nFeatures
        // Raw rows as the user's file has them: the first training rows, unstandardised.
        const rows = d.trainRows.slice(0, 6)
        const x = rows.map((r) => Array.from(d.raw.x.subarray(r * f, (r + 1) * f)))
        const y = rows.map((r) => d.raw.y[r])
        const z = d.toModelInputs(Float32Array.from(x.flat()), x.length)
        const ours = fx.forward(Array.from({ length: x.length }, (_, r) => Array.from(z.subarray(r * f, (r + 1) * f))))
        const shipped = readFileSync(join(dir, 'data.csv'), 'utf8').trim().split('\n')
        expect(shipped[0]).toBe([...d.raw.featureNames, 'label'].join(','))
        expect(shipped.length - 1).toBe(d.train.n)
        expect(shipped[1]).toBe([...x[0], y[0]].join(','))
        const plan = planLoss(spec.model.loss, d.raw.task, 3, 'table')
        const ourLoss = plan
          .loss(
            fx.model.forward(tensor(Array.from({ length: x.length }, (_, r) => Array.from(z.subarray(r * f, (r + 1) * f))))),
            Float32Array.from(y),
          )
          .dataSync()[0]
        return { dir, x, y, ours, ourLoss }
      }),
    )
    const out = runPython('check_torch.py', {
      forward: cases.map((c) => ({ dir: c.dir, x: c.x })),
      train: cases.map((c) => ({ dir: c.dir, csv: 'data.csv', x: c.x, y: c.y })),
    })
    cases.forEach((c, i) => {
      expectClose(out.forward[i].y, c.ours)
      const got = out.train[i]
      expect(got.rc, got.stderr).toBe(0)
      expect(got).toMatchObject({ changed: true, finite: true })
      expect(Math.abs(got.loss0 - c.ourLoss)).toBeLessThan(1e-5)
    })
  }, 240_000)
})

describe.skipIf(SKIP)('export → ONNX (python3-onnx)', () => {
  it('passes onnx.checker and evaluates to the engine forward for every activation', async () => {
    const cases = await Promise.all(
      ACTIVATION_NAMES.map(async (activation, i) => {
        const binary = activation === 'sigmoid' // one model with a single logit
        const spec = makeSpec({ model: { activation }, ...(binary ? { data: { generator: 'xor', features: ['x1', 'x2', 'x1x2'] } } : {}) })
        const fx = makeRun(spec, binary ? 1 : 3, { seed: 23 + i })
        return { fx, out: binary ? 1 : 3, path: join(await writeExport(fx, 'onnx', 'onnx'), 'spiral-run.onnx') }
      }),
    )
    const res = runPython(
      'check_onnx.py',
      cases.map((c) => ({ path: c.path, x: X })),
    )
    console.log(`export-python.test.ts: onnx ${res.onnx}, Python ${res.python}`)
    cases.forEach((c, i) => {
      const m = res.models[i]
      expectClose(m.y, c.fx.forward(X))
      expect(m.opset).toEqual([13])
      expect(m.inputs).toEqual([['x', ['N', 3]]])
      expect(m.outputs).toEqual([['logits', ['N', c.out]]])
      expect(m.initializer_types).toEqual([1]) // FLOAT
    })
    expect(res.models.map((m: { ops: string[] }) => m.ops.filter((o) => o !== 'MatMul' && o !== 'Add'))).toEqual([
      ['Relu'],
      ['LeakyRelu'],
      ['Tanh'],
      ['Sigmoid'],
      ['Div', 'Erf', 'Mul'],
      [],
    ])
  }, 120_000)
})

describe.skipIf(SKIP)('export with the lab blocks → PyTorch and ONNX', () => {
  const bn = (over: object = {}) => ({ norm: 'batch' as const, normAt: 'mid' as const, dropout: 0, residual: false, ...over })
  const ln = (over: object = {}) => ({ norm: 'layer' as const, normAt: 'mid' as const, dropout: 0, residual: false, ...over })
  const plain = (over: object = {}) => ({ norm: 'none' as const, normAt: 'mid' as const, dropout: 0, residual: false, ...over })
  // spiral3 with features x1, x2, x1x2: 3 inputs, so a residual on the first layer needs 3 units.
  const specs = [
    makeSpec({ model: { hidden: [5, 5], activation: 'relu', blocks: [bn({ dropout: 0.2 }), bn({ dropout: 0.1, residual: true })] } }),
    makeSpec({
      model: {
        hidden: [3, 3],
        activation: 'gelu',
        blocks: [ln({ normAt: 'pre', residual: true }), bn({ normAt: 'post', residual: true, dropout: 0.3 })],
      },
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    }),
    makeSpec({
      model: {
        hidden: [4, 4, 4],
        activation: 'tanh',
        blocks: [ln(), bn({ normAt: 'pre', residual: true }), plain({ dropout: 0.5, residual: true })],
      },
    }),
  ]

  it('model.py (eval mode) matches our eval forward to 1e-5, names every tensor as the weights file does, and train.py trains it', async () => {
    const cases = await Promise.all(
      specs.map(async (spec, i) => {
        const fx = makeRun(spec, 3, { seed: 70 + i })
        const dir = await writeExport(fx, 'pytorch', 'pytorch')
        const y = X.map((_, r) => r % 3)
        const plan = planLoss(spec.model.loss, 'multiclass', 3, 'spiral3')
        const ourLoss = plan.loss(fx.model.forward(tensor(X)), Float32Array.from(y)).dataSync()[0]
        return { fx, dir, y, ourLoss }
      }),
    )
    const out = runPython('check_torch.py', {
      forward: cases.map((c) => ({ dir: c.dir, x: X })),
      train: cases.map((c) => ({ dir: c.dir, csv: 'data.csv', x: X, y: c.y })),
    })
    cases.forEach((c, i) => {
      const got = out.forward[i]
      expectClose(got.y, c.fx.forward(X))
      expect(got.training).toBe(false)
      const norms = c.fx.model.norms.flatMap((n, k) => (n ? [k] : []))
      const bns = c.fx.model.norms.flatMap((n, k) => (n && 'runningMean' in n ? [k] : []))
      expect(got.int64).toEqual(bns.map((k) => `blocks.${k}.norm.num_batches_tracked`))
      const want = c.fx.model.layers
        .slice(0, -1)
        .flatMap((_, k) => [
          `blocks.${k}.linear.weight`,
          `blocks.${k}.linear.bias`,
          ...(norms.includes(k) ? [`blocks.${k}.norm.weight`, `blocks.${k}.norm.bias`] : []),
          ...(bns.includes(k)
            ? [`blocks.${k}.norm.running_mean`, `blocks.${k}.norm.running_var`, `blocks.${k}.norm.num_batches_tracked`]
            : []),
        ])
      expect(got.keys).toEqual([...want, 'out.weight', 'out.bias'])
      const train = out.train[i]
      expect(train.rc, train.stderr).toBe(0)
      expect(train).toMatchObject({ changed: true, finite: true })
      expect(Math.abs(train.loss0 - c.ourLoss)).toBeLessThan(1e-5)
    })
    expect(out.forward[0].modules).toEqual([
      ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout'],
      ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout'],
    ])
  }, 240_000)

  it('ONNX: BatchNormalization on the running statistics, LayerNormalization (opset 17), Dropout and Add; the numpy reference matches', async () => {
    const cases = await Promise.all(
      specs.map(async (spec, i) => {
        const fx = makeRun(spec, 3, { seed: 80 + i })
        return { fx, path: join(await writeExport(fx, 'onnx', 'onnx'), 'spiral-run.onnx') }
      }),
    )
    const res = runPython(
      'check_onnx.py',
      cases.map((c) => ({ path: c.path, x: X })),
    )
    cases.forEach((c, i) => expectClose(res.models[i].y, c.fx.forward(X)))
    expect(res.models.map((m: { opset: number[] }) => m.opset)).toEqual([[13], [17], [17]])
    expect(res.models.map((m: { ops: string[] }) => m.ops)).toEqual([
      ['Add', 'BatchNormalization', 'Dropout', 'MatMul', 'Relu'],
      ['Add', 'BatchNormalization', 'Div', 'Dropout', 'Erf', 'LayerNormalization', 'MatMul', 'Mul'],
      ['Add', 'BatchNormalization', 'Dropout', 'LayerNormalization', 'MatMul', 'Tanh'],
    ])
  }, 120_000)

  it('table data with a pre-norm on the first layer: the standardisation stays a first step in model.py and ONNX', async () => {
    const spec = makeSpec({
      data: { source: 'bundled', name: 'wine', seed: 3 },
      model: { hidden: [6, 6], activation: 'tanh', blocks: [ln({ normAt: 'pre' }), bn({ residual: true })] },
    })
    const d = prepareData(spec.data, null)
    const fx = makeRun(spec, 3, { seed: 90 })
    const f = d.raw.nFeatures
    const x = d.trainRows.slice(0, 5).map((r) => Array.from(d.raw.x.subarray(r * f, (r + 1) * f)))
    const z = d.toModelInputs(Float32Array.from(x.flat()), x.length)
    const ours = fx.forward(x.map((_, r) => Array.from(z.subarray(r * f, (r + 1) * f))))
    const dir = await writeExport(fx, 'pytorch', 'pytorch')
    const onnxPath = join(await writeExport(fx, 'onnx', 'onnx'), 'spiral-run.onnx')
    expect(readFileSync(join(dir, 'model.py'), 'utf8')).toContain('self.register_buffer("input_mean"')
    const torch = runPython('check_torch.py', { forward: [{ dir, x }], train: [] })
    expectClose(torch.forward[0].y, ours)
    const onnx = runPython('check_onnx.py', [{ path: onnxPath, x }])
    expectClose(onnx.models[0].y, ours)
    expect(onnx.models[0].ops).toEqual(expect.arrayContaining(['Sub', 'Div', 'LayerNormalization']))
  }, 120_000)
})
