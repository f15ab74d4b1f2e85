// Links carry the whole form: every field survives a round trip, the link stays short for small
// changes, and a damaged, newer or partly invalid link applies what it can and says what it did not.
import { describe, expect, it } from 'vitest'
import { decodeLink, encodeLink, formDiff, fromBase64Url, isLinkHash, LINK_VERSION, toBase64Url } from './link-codec'
import { buildSpec, defaultForm, type SessionForm } from './session-form'
import { formIssues } from './session-form-issues'
import { chooseL2, dataL2 } from './l2-default'

const FILE_A = 'f0123456789abcdef'
const FILE_B = 'ffedcba9876543210'
const FILE_C = 'f00000000000000aa'
const FILE_D = 'f00000000000000bb'
const FILE_E = 'f00000000000000cc'

/** A form where every field differs from the defaults (and which the protocol accepts). */
function everyFieldChanged(): SessionForm {
  return {
    source: 'bundled',
    data: { generator: 'spiral3', n: 321, noise: 0.25, seed: 5, testRatio: 0.2, classes: 4, features: ['x1', 'x2', 'x1x2', 'sinx1'] },
    bundled: { name: 'wine', testRatio: 0.25, seed: 9, standardize: false },
    csv: {
      fileId: FILE_A,
      target: 'price',
      features: ['a', 'b'],
      task: 'regression',
      standardize: false,
      standardizeTarget: false,
      testRatio: 0.1,
      seed: 3,
      imageShape: [1, 2],
    },
    idx: {
      imagesFileId: FILE_B,
      labelsFileId: FILE_C,
      limit: 2000,
      scale: false,
      testRatio: 0.15,
      seed: 4,
      testImagesFileId: FILE_D,
      testLabelsFileId: FILE_E,
      classNames: ['T-shirt/top', 'Trouser', 'Pullover'],
    },
    hidden: [6, 6, 3],
    activations: ['relu', 'gelu', 'sigmoid'],
    blocks: [
      { norm: 'layer', normAt: 'pre', dropout: 0.1, residual: true },
      { norm: 'batch', normAt: 'post', dropout: 0, residual: false },
      { norm: 'none', normAt: 'mid', dropout: 0.2, residual: false },
    ],
    init: 'he-normal',
    loss: 'softmaxCrossEntropy',
    optimizer: {
      type: 'rmsprop',
      lr: 0.003,
      momentum: 0.5,
      nesterov: true,
      beta1: 0.8,
      beta2: 0.99,
      eps: 1e-6,
      alpha: 0.95,
      weightDecay: 0.01,
    },
    batchSize: 17,
    evalEvery: 25,
    trainSeed: 42,
    schedule: { type: 'cosine', warmupSteps: 10, stepSize: 500, gamma: 0.3, periodSteps: 2000, minLr: 0.0001 },
    l1: 0.001,
    l2: 0.002,
    l2Auto: false,
    clipNorm: 5,
    stop: { maxEpochs: 30, maxSteps: 4000, targetLoss: 0.05, earlyStopping: { patience: 5, minDelta: 0.001 } },
    alarms: { explodingGradNorm: 500, explodingFactor: 50, vanishingGradNorm: 1e-6, pause: false },
    maxStepsPerSecond: 30,
    backend: 'cpu',
  }
}

const encode = (patch: (f: SessionForm) => void): string => {
  const f = defaultForm()
  patch(f)
  return encodeLink(f)
}
/** A link built by hand from a payload (as another version, or a damaged copy, might write it). */
const raw = (payload: unknown, version = LINK_VERSION): string => `x=${version}.${toBase64Url(JSON.stringify(payload))}`

describe('link codec', () => {
  it('round-trips a form where every field differs from the defaults', () => {
    const form = everyFieldChanged()
    expect(formIssues(form)).toEqual({})
    // Each top-level field (and each nested one) really differs, so the round trip covers it.
    const diff = formDiff(form, defaultForm()) as Record<string, unknown>
    expect(Object.keys(diff).sort()).toEqual(Object.keys(defaultForm()).sort())
    const decoded = decodeLink(`#${encodeLink(form)}`)
    expect(decoded).toEqual({ form, files: {}, messages: [] })
    expect(buildSpec(decoded!.form!)).toEqual(buildSpec(form))
  })

  it('writes only what differs from the defaults: the default form is a short link', () => {
    expect(encodeLink(defaultForm())).toBe(`x=3.${toBase64Url('{"f":{}}')}`)
    const moons = encode((f) => (f.data.generator = 'moons'))
    expect(JSON.parse(fromBase64Url(moons.slice(4))!)).toEqual({ f: { data: { generator: 'moons' } } })
    expect(moons.length).toBeLessThan(60)
    expect(decodeLink(moons)!.form).toEqual({ ...defaultForm(), data: { ...defaultForm().data, generator: 'moons' } })
  })

  it('is url-safe base64 of UTF-8 (non-ASCII column names survive)', () => {
    const link = encode((f) => Object.assign(f.csv, { fileId: FILE_A, target: 'Größe €', features: ['日本'] }))
    expect(link).toMatch(/^x=3\.[A-Za-z0-9_-]+$/)
    expect(decodeLink(link)!.form!.csv).toMatchObject({ target: 'Größe €', features: ['日本'] })
  })

  it('names the uploaded files the form uses, by content id, so a missing one can be asked for', () => {
    const form = defaultForm()
    form.source = 'csv'
    Object.assign(form.csv, { fileId: FILE_A, target: 'y' })
    const decoded = decodeLink(encodeLink(form, { [FILE_A]: 'houses.csv', [FILE_B]: 'unused.idx' }))
    expect(decoded!.files).toEqual({ [FILE_A]: 'houses.csv' })
    expect(decoded!.form!.csv.fileId).toBe(FILE_A)
  })

  it('IDX: the test pair travels with the training pair, class names with the form; a link from before them still reads', () => {
    const form = defaultForm()
    form.source = 'idx'
    Object.assign(form.idx, { imagesFileId: FILE_B, labelsFileId: FILE_C, testImagesFileId: FILE_D, testLabelsFileId: FILE_E })
    form.idx.classNames = ['cat', 'dog']
    const names = { [FILE_B]: 'train-images', [FILE_C]: 'train-labels', [FILE_D]: 't10k-images', [FILE_E]: 't10k-labels' }
    const decoded = decodeLink(encodeLink(form, names))!
    expect(decoded.files).toEqual(names)
    expect(decoded.form!.idx).toEqual(form.idx)
    expect(buildSpec(decoded.form!).data).toMatchObject({ testImagesFileId: FILE_D, testLabelsFileId: FILE_E, classNames: ['cat', 'dog'] })
    // Format 1 as written before the fields existed: they take their defaults, with nothing to say.
    const old = `x=1.${toBase64Url(JSON.stringify({ f: { source: 'idx', idx: { imagesFileId: FILE_B, labelsFileId: FILE_C, limit: 500 } } }))}`
    const read = decodeLink(old)!
    expect(read.messages).toEqual([])
    expect(read.form!.idx).toMatchObject({ limit: 500, testImagesFileId: null, testLabelsFileId: null, classNames: null })
  })

  it('reads a format-1 link as it meant: its CSV regression trained on the raw target (format 2 defaults to standardising it)', () => {
    const csv = { f: { source: 'csv', csv: { fileId: FILE_A, target: 'progression' } } }
    expect(decodeLink(raw(csv, 1))!.form!.csv).toMatchObject({ target: 'progression', standardizeTarget: false })
    expect(decodeLink(raw(csv, 1))!.messages).toEqual([])
    expect(decodeLink(raw(csv))!.form!.csv.standardizeTarget).toBe(true)
    const on = { f: { ...csv.f, csv: { ...csv.f.csv, standardizeTarget: true } } }
    expect(decodeLink(raw(on, 1))!.form!.csv.standardizeTarget).toBe(true)
  })

  it('a regression with the default L2 reopens the same experiment; so does a user who set it to 0', () => {
    const diabetes = (f: SessionForm): void => {
      f.source = 'csv'
      Object.assign(f.csv, { fileId: FILE_A, target: 'progression' })
    }
    // What the form store does once the CSV's task is known (l2-default.ts), as a user sees it.
    const withDefault = defaultForm()
    diabetes(withDefault)
    withDefault.l2 = dataL2('regression')
    const decoded = decodeLink(encodeLink(withDefault))!
    expect(decoded).toEqual({ form: withDefault, files: {}, messages: [] })
    expect(buildSpec(decoded.form!).train).toMatchObject({ l2: 0.01 })
    expect(decoded.form!.l2Auto).toBe(true) // switching to a classification set still restores 0

    const own = defaultForm()
    diabetes(own)
    chooseL2(own, 0)
    const reopened = decodeLink(encodeLink(own))!.form!
    expect(reopened).toEqual(own)
    expect(reopened).toMatchObject({ l2: 0, l2Auto: false }) // the data's default never replaces it
  })

  it('reads a format-2 link as it meant: its L2 is its own, a regression’s included (format 3 follows the data)', () => {
    const csv = { f: { source: 'csv', csv: { fileId: FILE_A, target: 'progression' } } }
    const old = decodeLink(raw(csv, 2))!
    expect(old.messages).toEqual([])
    expect(old.form).toMatchObject({ l2: 0, l2Auto: false })
    expect(decodeLink(raw({ f: { ...csv.f, l2: 0.003 } }, 2))!.form).toMatchObject({ l2: 0.003, l2Auto: false })
    expect(decodeLink(raw(csv))!.form).toMatchObject({ l2: 0, l2Auto: true })
  })

  it('leaves hashes that are not experiment links alone', () => {
    expect(isLinkHash('')).toBe(false)
    expect(decodeLink('#section-2')).toBeNull()
  })

  it('says a link with invalid base64 is damaged and applies nothing', () => {
    const decoded = decodeLink('#x=1.ab$cd')!
    expect(decoded.form).toBeNull()
    expect(decoded.messages).toEqual([expect.stringMatching(/damaged: its settings are not valid base64url/)])
    expect(decodeLink('#x=1.a')!.messages[0]).toMatch(/not valid base64url/)
  })

  it('says a link with invalid JSON, or JSON that is not fields, is damaged', () => {
    expect(decodeLink(`x=1.${toBase64Url('{"f":{')}`)!.messages).toEqual([expect.stringMatching(/not valid JSON/)])
    expect(decodeLink(raw([1, 2]))!.messages).toEqual([expect.stringMatching(/not an object of fields/)])
    expect(decodeLink(raw({ f: 'moons' }))!.messages).toEqual([expect.stringMatching(/not an object of fields/)])
    expect(decodeLink('x=moons')!.messages).toEqual([expect.stringMatching(/should read #x=<version>/)])
  })

  it('drops a field out of range, naming it and why, and applies the rest', () => {
    const decoded = decodeLink(raw({ f: { optimizer: { type: 'sgd', lr: 50 }, data: { generator: 'moons', n: 5 }, hidden: [4] } }))!
    expect(decoded.messages).toEqual([
      expect.stringMatching(/^Link: "optimizer\.lr" was not applied: must be at most 10 \(it is 50\)/),
      expect.stringMatching(/^Link: "data\.n" was not applied: must be at least 10 \(it is 5\)/),
    ])
    expect(decoded.form).toMatchObject({ optimizer: { type: 'sgd', lr: 0.01 }, data: { generator: 'moons', n: 500 }, hidden: [4] })
    expect(decoded.form!.activations).toEqual(['tanh'])
    expect(formIssues(decoded.form!)).toEqual({})
  })

  it('drops fields of the wrong kind or with unknown names, also for a source that is not selected', () => {
    const decoded = decodeLink(
      raw({ f: { batchSize: '32', source: 'ftp', bundled: { name: 'mnist' }, activations: ['relu', 'swish'], trainSeed: null, l1: null } }),
    )!
    expect(decoded.messages).toEqual([
      'Link: "batchSize" was not applied: must be a number (it is "32").',
      'Link: "source" was not applied: "ftp" is not one of generator, bundled, csv, idx.',
      'Link: "bundled.name" was not applied: "mnist" is not one of iris, wine, breast-cancer, digits.',
      expect.stringMatching(/^Link: "activations" was not applied: "swish" is not one of relu/),
      'Link: "l1" was not applied: must not be empty.',
    ])
    expect(decoded.form).toEqual(defaultForm())
  })

  it('reads a newer link as far as it agrees, with a clear message, and ignores fields it does not know', () => {
    const decoded = decodeLink(raw({ f: { data: { generator: 'xor', warp: 2 }, quantum: true }, extra: 1 }, 4))!
    expect(decoded.messages).toEqual([
      expect.stringMatching(/made by a newer Backprop Studio \(link format 4; this version reads format 3\)/),
      'Link: ignored "extra", which this version does not know.',
      'Link: ignored "data.warp", which this version does not know.',
      'Link: ignored "quantum", which this version does not know.',
    ])
    expect(decoded.form!.data.generator).toBe('xor')
  })
})
