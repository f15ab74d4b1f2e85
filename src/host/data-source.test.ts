import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { data } from '../engine'
import { DataSpec } from '../shared/protocol-data'
import { modelInputsOf, prepareData } from './data-source'
import { FileStore } from './datasets/store'
import { ingest } from './datasets/uploads'
import { testHost } from './test-helpers'

const parse = (input: unknown) => DataSpec.parse(input)
const mean = (ds: data.Dataset, j: number): number => {
  let s = 0
  for (let i = 0; i < ds.n; i++) s += ds.x[i * ds.nFeatures + j]
  return s / ds.n
}

async function csvStore(text: string, name = 'data.csv') {
  const store = new FileStore(null)
  const file = await ingest(store, name, new TextEncoder().encode(text))
  return { store, fileId: file.fileId }
}

describe('prepareData', () => {
  it('generators: the same split as before (trainTestSplit of the generated set), featurised; planar', () => {
    const spec = parse({ generator: 'spiral', n: 300, noise: 0.1, seed: 4, features: ['x1', 'x2', 'x1x2'] })
    const d = prepareData(spec, null)
    const raw = data.generate('spiral', { n: 300, noise: 0.1, seed: 4 })
    const { train, test } = data.trainTestSplit(raw, { testRatio: 0.3, seed: 4, stratify: true })
    expect(d.train.x).toEqual(data.featurize(train, ['x1', 'x2', 'x1x2']).x)
    expect(d.test.y).toEqual(test.y)
    expect(d).toMatchObject({
      featureNames: ['x1', 'x2', 'x1x2'],
      classNames: ['class 0', 'class 1'],
      planar: true,
      targetName: 'class',
      standardization: null,
    })
    expect(d.description).toMatch(/spiral/i)
    // toModelInputs maps raw rows exactly as the training rows were mapped.
    const rows = Float32Array.from(d.trainRows.slice(0, 5).flatMap((i) => [raw.x[2 * i], raw.x[2 * i + 1]]))
    expect(d.toModelInputs(rows, 5)).toEqual(d.train.x.subarray(0, 15))
    expect(() => d.toModelInputs(rows, 4)).toThrow('toModelInputs: 10 values are not 4 rows of 2 raw columns')
  })

  it('bundled: stratified, deterministic bit for bit, standardised with the training split only', () => {
    const spec = parse({ source: 'bundled', name: 'wine', seed: 5, testRatio: 0.25 })
    const a = prepareData(spec, null)
    const b = prepareData(spec, null)
    expect(a.train.x).toEqual(b.train.x)
    expect(a.testRows).toEqual(b.testRows)
    expect(a.testRows).not.toEqual(prepareData(parse({ ...spec, seed: 6 }), null).testRows)
    expect(data.classCounts(a.test)).toEqual([15, 18, 12]) // 59/71/48 rows, a quarter of each
    for (let j = 0; j < 13; j++) expect(Math.abs(mean(a.train, j))).toBeLessThan(1e-5)
    // The test rows use the training statistics, so their mean is not forced to 0.
    expect(Math.max(...Array.from({ length: 13 }, (_, j) => Math.abs(mean(a.test, j))))).toBeGreaterThan(0.05)
    const raw = a.raw
    const i = a.testRows[0]
    const st = a.standardization!
    expect(a.test.x[0]).toBe(Math.fround((raw.x[i * 13] - st.mean[0]) / st.std[0]))
    expect(a).toMatchObject({ planar: false, targetName: 'cultivar', classNames: ['cultivar_1', 'cultivar_2', 'cultivar_3'] })
    expect(a.featureNames).toHaveLength(13)
    const rawRows = Float32Array.from(a.raw.x.subarray(i * 13, i * 13 + 13))
    expect(a.toModelInputs(rawRows, 1)).toEqual(a.test.x.subarray(0, 13))

    const plain = prepareData(parse({ ...spec, standardize: false }), null)
    expect(plain.standardization).toBeNull()
    expect(plain.test.x[0]).toBe(raw.x[i * 13])
    expect(modelInputsOf(spec, null)).toEqual({ features: a.featureNames, standardization: st, targetScaling: null })
  })

  it('CSV: default features, task inference, session-time errors naming row and column', async () => {
    const text = 'x,y,colour,kind\n1,2,red,a\n2,1,blue,b\n3,5,red,a\n4,abc,red,b\n5,3,blue,a\n6,1,red,b\n'
    const { store, fileId } = await csvStore(text, 'toy.csv')
    const err = (over: object) => {
      try {
        prepareData(parse({ source: 'csv', fileId, target: 'kind', ...over }), store)
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`
      }
      throw new Error('expected an error')
    }
    expect(err({})).toBe('invalid_payload: "toy.csv": row 5, column "y": "abc" is not a number')
    expect(prepareData(parse({ source: 'csv', fileId, target: 'kind', features: ['x', 'colour'] }), store).featureNames).toEqual([
      'x',
      'colour=blue',
      'colour=red',
    ])
    expect(err({ target: 'colour', features: ['x'], task: 'regression' })).toBe(
      'invalid_payload: "toy.csv": row 2, column "colour" (the regression target): "red" is not a number',
    )
    const d = prepareData(parse({ source: 'csv', fileId, target: 'kind', features: ['x'], testRatio: 0.5 }), store)
    expect(d).toMatchObject({ featureNames: ['x'], classNames: ['a', 'b'], planar: false, targetName: 'kind' })
    expect(d.raw.task).toBe('binary')
    expect(d.description).toBe('CSV file "toy.csv": 6 rows, 1 feature, target "kind" (2 classes)')
    expect(() => prepareData(parse({ source: 'csv', fileId: 'f0123456789abcdef', target: 'kind' }), store)).toThrow(
      'no stored file "f0123456789abcdef" (upload it again)',
    )
  })
})

describe('dataset.preview', () => {
  it('fills every field for a generator, a bundled set and a CSV file', async () => {
    const h = testHost()
    const gen = await h.ok('dataset.preview', { generator: 'xor', n: 100, seed: 1 })
    expect(gen).toMatchObject({
      task: 'binary',
      nClasses: 2,
      trainCount: 70,
      testCount: 30,
      featureNames: ['x1', 'x2'],
      axisNames: ['x1', 'x2'],
      planar: true,
      classNames: ['class 0', 'class 1'],
    })
    expect(gen.points).toHaveLength(200)
    expect(gen.isTest.filter(Boolean)).toHaveLength(30)

    const iris = await h.ok('dataset.preview', { source: 'bundled', name: 'iris' })
    expect(iris).toMatchObject({
      task: 'multiclass',
      nClasses: 3,
      trainCount: 105,
      testCount: 45,
      axisNames: ['sepal_length_cm', 'sepal_width_cm'],
      classNames: ['setosa', 'versicolor', 'virginica'],
      targetName: 'species',
      planar: false,
    })
    expect(iris.description).toMatch(/Fisher.*CC BY 4\.0/)
    expect(iris.labels).toHaveLength(150)
    // Points are standardised like the model's inputs (with the training statistics).
    const d = prepareData(parse({ source: 'bundled', name: 'iris' }), null)
    const st = d.standardization!
    expect(iris.points.slice(0, 2)).toEqual(Array.from(d.toModelInputs(d.raw.x.slice(0, 4), 1).subarray(0, 2)))
    expect(iris.points[0]).toBe(Math.fround((Math.fround(5.1) - st.mean[0]) / st.std[0]))
    const rawPreview = await h.ok('dataset.preview', { source: 'bundled', name: 'iris', standardize: false })
    expect(rawPreview.points.slice(0, 2)).toEqual([5.1, 3.5].map(Math.fround))
    expect(rawPreview.isTest).toEqual(iris.isTest)

    const digits = await h.ok('dataset.preview', { source: 'bundled', name: 'digits', testRatio: 0.2 })
    expect(digits).toMatchObject({ nClasses: 10, trainCount: 1438, testCount: 359 })
    expect(digits.labels).toHaveLength(1797)

    const csv = readFileSync(new URL('../../e2e/fixtures/good.csv', import.meta.url))
    const file = await h.ok('files.upload', {
      uploadId: 'upreview1',
      name: 'good.csv',
      index: 0,
      total: 1,
      bytes: csv.length,
      chunkBase64: csv.toString('base64'),
    })
    const p = await h.ok('dataset.preview', {
      source: 'csv',
      fileId: file.file!.fileId,
      target: 'species',
      features: ['petal_length', 'petal_width'],
    })
    expect(p).toMatchObject({
      task: 'multiclass',
      planar: true,
      axisNames: ['petal_length', 'petal_width'],
      featureNames: ['petal_length', 'petal_width'],
      targetName: 'species',
      classNames: ['setosa', 'versicolor', 'virginica'],
    })
    expect(p.trainCount + p.testCount).toBe(150)
  })
})

describe('file stores are passed, never looked up', () => {
  it("a host's sessions and previews see its own uploads only, not another host's in the same thread", async () => {
    const a = testHost()
    const b = testHost()
    const csv = readFileSync(new URL('../../e2e/fixtures/good.csv', import.meta.url))
    const file = await a.ok('files.upload', {
      uploadId: 'upisolate1',
      name: 'good.csv',
      index: 0,
      total: 1,
      bytes: csv.length,
      chunkBase64: csv.toString('base64'),
    })
    const csvSpec = { source: 'csv' as const, fileId: file.file!.fileId, target: 'species' }
    expect((await a.ok('dataset.preview', csvSpec)).trainCount).toBeGreaterThan(0)
    const created = await a.ok('session.create', {
      model: { hidden: [4] },
      data: csvSpec,
      optimizer: { type: 'sgd', lr: 0.1 },
      backend: 'cpu',
    })
    expect(created.featureNames.length).toBeGreaterThan(0)
    // Host b was made last; a global "newest store that has the file" used to hand it a's file.
    expect(await b.fail('dataset.preview', csvSpec)).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining(file.file!.fileId),
    })
    expect(
      await b.fail('session.create', { model: { hidden: [4] }, data: csvSpec, optimizer: { type: 'sgd', lr: 0.1 }, backend: 'cpu' }),
    ).toMatchObject({ code: 'not_found' })
    a.host.dispose()
    b.host.dispose()
  })

  it('a CSV spec without a store is refused, naming the file', () => {
    expect(() => prepareData(parse({ source: 'csv', fileId: 'f0123456789abcdef', target: 'kind' }), null)).toThrow(
      'no stored file "f0123456789abcdef"',
    )
  })
})
