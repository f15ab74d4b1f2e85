// Exports that need no Python: safetensors in PyTorch's layout, the JSON round trip, metrics CSV,
// and errors that name what does not fit.
import { writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeSafetensors, nn, noGrad, tensor } from '../../engine'
import { exportRun, fileStem, type ExportedFileOut } from './index'
import { f32Text, JSON_EXPORT_FORMAT, type JsonExport } from './json'
import { csvField, metricsCsv } from './metrics-csv'
import { fixedInputs, makeRun, makeSpec, removeRuns } from './test-fixture'

afterAll(removeRuns)

const bytesOf = (f: ExportedFileOut): Uint8Array => new Uint8Array(Buffer.from(f.content, 'base64'))

describe('export: safetensors', () => {
  // The fixture's checkpoint also holds optim.* tensors: the exact key list shows they are left out.
  it('writes nn.Sequential state_dict names with weights transposed to [out, in]', async () => {
    const { run, model } = makeRun(makeSpec(), 3)
    const [file] = await exportRun(run, 'safetensors')
    expect(file).toMatchObject({ name: 'spiral-run.safetensors', encoding: 'base64' })
    const st = decodeSafetensors(bytesOf(file))
    expect(Object.keys(st.tensors).sort()).toEqual([
      'net.0.bias',
      'net.0.weight',
      'net.2.bias',
      'net.2.weight',
      'net.4.bias',
      'net.4.weight',
    ])
    expect(st.metadata.format).toBe('pt')
    expect(st.metadata.step).toBe('100')
    expect(JSON.parse(st.metadata.architecture)).toEqual({
      kind: 'mlp',
      sizes: [3, 5, 4, 3],
      features: ['x1', 'x2', 'x1x2'],
      hiddenActivation: 'tanh',
      outputActivation: 'linear',
    })
    model.layers.forEach((layer, i) => {
      const w = st.tensors[`net.${2 * i}.weight`]
      expect(w.shape).toEqual([layer.outFeatures, layer.inFeatures])
      const ours = layer.weight.dataSync()
      for (let r = 0; r < layer.inFeatures; r++) {
        for (let c = 0; c < layer.outFeatures; c++) expect(w.data[c * layer.inFeatures + r]).toBe(ours[r * layer.outFeatures + c])
      }
      expect(Array.from(st.tensors[`net.${2 * i}.bias`].data)).toEqual(Array.from(layer.bias!.dataSync()))
    })
  })

  it('names the tensor whose shape does not fit the spec', async () => {
    const { run } = makeRun(makeSpec({ model: { hidden: [5, 4] } }), 3)
    await expect(exportRun({ ...run, spec: makeSpec({ model: { hidden: [6, 4] } }) }, 'safetensors')).rejects.toThrow(
      'export: layers.0.weight is [3,5], the spec needs [3,6]',
    )
    await expect(exportRun({ ...run, spec: makeSpec({ model: { hidden: [5] } }) }, 'onnx')).rejects.toThrow(
      'export: the checkpoint has layers.2.bias but the spec has 2 layers',
    )
  })

  it('reports a missing checkpoint as not_found and a damaged one by what is wrong', async () => {
    const { run } = makeRun(makeSpec(), 3)
    await expect(exportRun({ ...run, checkpointPath: `${run.dir}/nope.safetensors` }, 'json')).rejects.toMatchObject({ code: 'not_found' })
    writeFileSync(run.checkpointPath, new Uint8Array(4))
    await expect(exportRun(run, 'json')).rejects.toThrow(/8-byte header length/)
  })
})

describe('export: json', () => {
  it('round-trips: a model rebuilt from the JSON gives the same outputs', async () => {
    const spec = makeSpec({ model: { activation: 'gelu' } })
    const { run, forward } = makeRun(spec, 3, { name: 'gelu "quoted"' })
    const [file] = await exportRun(run, 'json')
    expect(file).toMatchObject({ name: 'gelu-quoted.json', mediaType: 'application/json', encoding: 'utf8' })
    const doc = JSON.parse(file.content) as JsonExport
    expect(doc).toMatchObject({ format: JSON_EXPORT_FORMAT, version: 1, name: 'gelu "quoted"', spec, checkpoint: { step: '100' } })
    expect(doc.architecture).toMatchObject({ sizes: [3, 5, 4, 3], hiddenActivation: 'gelu', outputActivation: 'linear' })
    expect(doc.layers.map((l) => l.activation)).toEqual(['gelu', 'gelu', 'linear'])
    const rebuilt = new nn.MLP(doc.architecture.sizes, { activation: 'gelu' })
    rebuilt.layers.forEach((l, i) => {
      l.weight.assign(tensor(doc.layers[i].weight))
      l.bias!.assign(tensor(doc.layers[i].bias))
    })
    const x = fixedInputs(6, 3)
    const y = noGrad(() => Array.from(rebuilt.forward(tensor(x)).dataSync()))
    expect(y).toEqual(forward(x).flat())
  })

  it("with blocks: each hidden layer's norm (γ, β, running statistics), dropout and residual; rebuilt, the same eval outputs", async () => {
    const blocks = [
      { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
      { norm: 'layer' as const, normAt: 'post' as const, dropout: 0, residual: true },
    ]
    const { run, forward } = makeRun(makeSpec({ model: { hidden: [5, 5], blocks } }), 3)
    const doc = JSON.parse((await exportRun(run, 'json'))[0].content) as JsonExport
    expect(
      doc.layers.map(
        (l) => l.block && { norm: l.block.norm?.kind, at: l.block.norm?.at, dropout: l.block.dropout, residual: l.block.residual },
      ),
    ).toEqual([
      { norm: 'batch', at: 'mid', dropout: 0.2, residual: false },
      { norm: 'layer', at: 'post', dropout: 0, residual: true },
      undefined,
    ])
    const rebuilt = new nn.MLP(doc.architecture.sizes, { activation: 'tanh', blocks }).eval()
    rebuilt.layers.forEach((l, i) => {
      l.weight.assign(tensor(doc.layers[i].weight))
      l.bias!.assign(tensor(doc.layers[i].bias))
    })
    rebuilt.norms.forEach((n, i) => {
      const j = doc.layers[i].block!.norm!
      n!.weight.assign(tensor(j.weight))
      n!.bias.assign(tensor(j.bias))
      if (n instanceof nn.BatchNorm1d) {
        n.runningMean.assign(tensor(j.runningMean!))
        n.runningVar.assign(tensor(j.runningVar!))
        expect(j.numBatchesTracked).toBe(4)
      }
    })
    const x = fixedInputs(6, 3)
    expect(noGrad(() => Array.from(rebuilt.forward(tensor(x)).dataSync()))).toEqual(forward(x).flat())
  })

  it('writes float32 values as the shortest decimal that reads back exactly, one weight row per line', async () => {
    expect([0.1, -2.5, 1 / 3, 1e-8, 3.4e38].map((v) => f32Text(Math.fround(v)))).toEqual(['0.1', '-2.5', '0.33333334', '1e-8', '3.4e+38'])
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround(Math.sin(i) * 10 ** ((i % 13) - 6))
      expect(Math.fround(Number(f32Text(v)))).toBe(v)
    }
    const { run, model } = makeRun(makeSpec(), 3)
    const [file] = await exportRun(run, 'json')
    const firstRow = Array.from(model.layers[0].weight.dataSync().subarray(0, 5), f32Text).join(', ')
    expect(file.content).toContain(`\n        [${firstRow}],\n`)
  })
})

describe('export: metrics-csv', () => {
  it('writes one row per step with eval columns where an eval happened, skipping a torn tail', async () => {
    const batches = [
      { steps: [1, 2], trainLoss: [0.9, 0.8], evals: [], layers: [] },
      {
        steps: [3],
        trainLoss: [0.7],
        evals: [{ step: 3, trainLoss: 0.65, testLoss: 0.75, trainAccuracy: 0.5, testAccuracy: 0.25 }],
        layers: [],
      },
    ]
    const log = batches.map((b) => JSON.stringify(b)).join('\n') + '\n{"steps":[4],"trainL'
    const { run } = makeRun(makeSpec(), 3, { metrics: log })
    const [file] = await exportRun(run, 'metrics-csv')
    expect(file).toMatchObject({ name: 'spiral-run-metrics.csv', mediaType: 'text/csv', encoding: 'utf8' })
    expect(file.content).toBe(
      'step,train_loss,eval_train_loss,test_loss,train_accuracy,test_accuracy\n' +
        '1,0.9,,,,\n' +
        '2,0.8,,,,\n' +
        '3,0.7,0.65,0.75,0.5,0.25\n',
    )
    expect(metricsCsv(log).skippedLines).toBe(1)
  })

  it('keeps regression evals (null accuracy) and the last value of a step logged twice', () => {
    const log = [
      { steps: [1], trainLoss: [2], evals: [{ step: 1, trainLoss: 1.5, testLoss: 1.8, trainAccuracy: null, testAccuracy: null }] },
      { steps: [1, 2], trainLoss: [1, 0.5], evals: [] },
    ]
      .map((b) => JSON.stringify(b))
      .join('\n')
    expect(metricsCsv(log).csv.split('\n').slice(1)).toEqual(['1,1,1.5,1.8,,', '2,0.5,,,,', ''])
  })

  it('adds R², RMSE and MAE columns for a regression run whose evals carry them', () => {
    const fit = (r2: number, rmse: number, mae: number) => ({ r2, rmse, mae })
    const log = [
      { steps: [1], trainLoss: [3000], evals: [] },
      {
        steps: [2],
        trainLoss: [2900],
        evals: [
          {
            step: 2,
            trainLoss: 2800,
            testLoss: 3100,
            trainAccuracy: null,
            testAccuracy: null,
            regression: { train: fit(0.5, 52.9, 41), test: { ...fit(0.4, 55.7, 44), r2: null } },
          },
        ],
      },
    ]
      .map((b) => JSON.stringify(b))
      .join('\n')
    expect(metricsCsv(log).csv.split('\n')).toEqual([
      'step,train_loss,eval_train_loss,test_loss,train_accuracy,test_accuracy,train_r2,test_r2,train_rmse,test_rmse,train_mae,test_mae',
      '1,3000,,,,,,,,,,',
      '2,2900,2800,3100,,,0.5,,52.9,55.7,41,44',
      '',
    ])
  })

  it('drops rows past a rewind line (a reset or a resume after a crash)', () => {
    const log = [
      { steps: [1, 2, 3], trainLoss: [3, 2, 1], evals: [] },
      { k: 'rewind', step: 1 },
      { steps: [2], trainLoss: [2.5], evals: [] },
    ]
      .map((b) => JSON.stringify(b))
      .join('\n')
    expect(metricsCsv(log).csv.split('\n').slice(1)).toEqual(['1,3,,,,', '2,2.5,,,,', ''])
  })

  it('quotes fields as RFC 4180 says', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField(1e-7)).toBe('1e-7')
    expect(csvField(null)).toBe('')
  })
})

describe('export: file names', () => {
  it('makes a safe, non-empty stem from any run name', () => {
    expect(fileStem('My run: 3 layers / gelu')).toBe('My-run-3-layers-gelu')
    expect(fileStem('../../etc/passwd')).toBe('etc-passwd')
    expect(fileStem('日本')).toBe('model')
  })
})
