// An in-memory stand-in for the engine host, for unit tests of the client and the stores: it
// answers requests with protocol-valid replies, records what it was asked, and emits events.
// Data follows the host's rules closely enough for the studio: generators, the bundled sets,
// CSV and raw IDX uploads (chunked, checked, stored by content id). Loss fit, output width, class
// counts and parameter counts are not imitated: they are the host's own rules (shared/model-rules.ts).
import {
  PROTOCOL_VERSION,
  DataSpec,
  SessionSpec,
  errorReply,
  eventMessage,
  okReply,
  type ErrorCode,
  type EventKind,
  type EventPayload,
  ACTIVATION_NAMES,
  INIT_NAMES,
  type RequestKind,
  type RequestMessage,
  type RequestPayload,
  type RequestResult,
} from '../../shared/protocol'
import { DATA_LIMITS } from '../../shared/protocol-data'
import { describeModel, generatorClassCount, lossMismatch, modelParamCount, outputWidth, resolveLoss } from '../../shared/model-rules'
import { Listeners, type ConnectionStatus, type Transport } from './transport'

type State = RequestResult<'session.start'>
type Info = RequestResult<'session.create'>
type Override = (message: RequestMessage) => { error: { code: ErrorCode; message: string } } | { result: unknown } | undefined
type Preview = RequestResult<'dataset.preview'>
type Stored = RequestResult<'files.info'>
type DataIn = RequestPayload<'dataset.preview'>
/** The fake's answer to one request kind: that kind's payload in, that kind's result out. */
type FakeAnswer<K extends RequestKind> = (payload: RequestPayload<K>, kind: K) => RequestResult<K>
type FakeAnswers = { [K in RequestKind]?: FakeAnswer<K> }

export const FAKE_BACKEND = { name: 'cpu', reason: 'no WebGPU adapter in tests' } as const

/** What hello offers: a few generators and the four bundled sets, with their real sizes. */
export const FAKE_GENERATORS = [
  { name: 'circle', label: 'Circle', task: 'binary', description: 'a disc inside a ring' },
  { name: 'spiral', label: 'Spiral', task: 'binary', description: 'two interleaved spirals' },
  { name: 'blobs', label: 'Blobs', task: 'multiclass', description: 'Gaussian blobs, one per class' },
  { name: 'reg-plane', label: 'Plane', task: 'regression', description: 'a tilted plane' },
] as const
export const FAKE_DATASETS = [
  { name: 'iris', label: 'Iris', task: 'multiclass', rows: 150, features: 4, classes: 3, description: 'Fisher, 1936 (UCI, CC BY 4.0)' },
  { name: 'wine', label: 'Wine', task: 'multiclass', rows: 178, features: 13, classes: 3, description: 'Forina et al. (UCI, CC BY 4.0)' },
  {
    name: 'breast-cancer',
    label: 'Breast cancer',
    task: 'binary',
    rows: 569,
    features: 30,
    classes: 2,
    description: 'Wolberg et al. (UCI, CC BY 4.0)',
  },
  {
    name: 'digits',
    label: 'Digits',
    task: 'multiclass',
    rows: 1797,
    features: 64,
    classes: 10,
    description: 'Alpaydin & Kaynak (UCI, CC BY 4.0)',
  },
] as const
const IRIS_COLUMNS = ['sepal length', 'sepal width', 'petal length', 'petal width']

/** What a data spec describes: the columns the model sees, classes, and the preview's labels. */
interface DataFacts {
  task: Preview['task']
  nClasses: number
  featureNames: string[]
  axisNames: [string, string]
  classNames: string[] | null
  targetName: string
  planar: boolean
  description: string
}

/** The file's bytes from base64 (atob exists in browsers and in Node ≥ 16). */
function fromBase64(text: string): Uint8Array {
  const bin = atob(text)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** 'f' + 16 hex digits of a 64-bit FNV-1a hash (the host uses SHA-256; tests only need stable ids). */
function contentId(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n)
  return `f${h.toString(16).padStart(16, '0')}`
}

class FileError extends Error {}

/** The fake refusing a request as the host would: an error reply with this code and message. */
class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Check and summarise a CSV as the host does: equal column counts, numeric or categorical columns. */
function summariseCsv(text: string): { summary: Stored['summary']; rows: string[][]; header: string[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (lines.length < 2) throw new FileError('the file needs a header row and at least one data row')
  const header = lines[0]!.split(',').map((h) => h.trim())
  const empty = header.findIndex((h) => h === '')
  if (empty >= 0) throw new FileError(`row 1 (header), column ${empty + 1}: the column has no name`)
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim())
    if (cells.length !== header.length) throw new FileError(`row ${i + 2}: expected ${header.length} columns, found ${cells.length}`)
    return cells
  })
  const columns = header.map((name, j) => {
    const values = rows.map((r) => r[j]!)
    const present = values.filter((v) => v !== '')
    const numeric = present.length > 0 && present.every((v) => Number.isFinite(Number(v)))
    return {
      name,
      type: numeric ? ('numeric' as const) : ('categorical' as const),
      missing: values.length - present.length,
      distinct: Math.min(1000, new Set(present).size),
      examples: [...new Set(present)].slice(0, 3),
    }
  })
  return { summary: { format: 'csv', rows: rows.length, columns, preview: rows.slice(0, 5), warnings: [] }, rows, header }
}

/** Check and summarise a raw IDX file's header (magic 0 0 dtype ndims, then big-endian dims). */
function summariseIdx(bytes: Uint8Array): Stored['summary'] {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new FileError('header: the magic number does not start with two zero bytes, so this is not an IDX file')
  if (bytes[2] !== 0x08) throw new FileError(`header: data type 0x${bytes[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`)
  const ndims = bytes[3]!
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 4 + 4 * ndims)
    throw new FileError(`header: ${ndims} dimensions announced but the file ends after ${bytes.length} bytes`)
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i))
  const expected = 4 + 4 * ndims + dims.reduce((a, b) => a * b, 1)
  if (bytes.length !== expected)
    throw new FileError(`body: the dimensions ${dims.join('×')} need ${expected} bytes, the file has ${bytes.length}`)
  return { format: 'idx', dtype: 'uint8', dims, role: ndims === 1 ? 'labels' : 'images' }
}

export class FakeHost {
  readonly requests: RequestMessage[] = []
  readonly sessions = new Map<string, State>()
  /** What each session was made of (its state lives in `sessions`). */
  private readonly infos = new Map<string, Omit<Info, 'state'>>()
  /** Stored files by id, with a CSV's cells (for previews). */
  readonly files = new Map<string, Stored & { rows?: string[][]; header?: string[] }>()
  private readonly uploads = new Map<string, { name: string; total: number; bytes: number; chunks: Uint8Array[] }>()
  /** Answer a kind differently (an error, a malformed result); undefined falls through. */
  readonly overrides = new Map<RequestKind, Override>()
  private readonly events = new Listeners<unknown>()
  private readonly statuses = new Listeners<ConnectionStatus>()
  private nextSession = 1
  private connection: ConnectionStatus = { state: 'open' }

  kinds(): RequestKind[] {
    return this.requests.map((r) => r.kind)
  }

  last<K extends RequestKind>(kind: K): RequestMessage<K> | undefined {
    return this.requests.filter((r) => r.kind === kind).at(-1) as RequestMessage<K> | undefined
  }

  emit<K extends EventKind>(event: K, payload: EventPayload<K>): void {
    this.events.emit(eventMessage(event, payload))
  }

  emitRaw(raw: unknown): void {
    this.events.emit(raw)
  }

  setStatus(status: ConnectionStatus): void {
    this.connection = status
    this.statuses.emit(status)
  }

  transport(): Transport {
    return {
      send: async (message) => {
        this.requests.push(message)
        await Promise.resolve()
        const override = this.overrides.get(message.kind)?.(message)
        if (override)
          return 'error' in override
            ? errorReply(message.id, override.error.code, override.error.message)
            : okReply(message.id, override.result)
        return this.answer(message)
      },
      onEvent: (listener) => this.events.add(listener),
      status: () => this.connection,
      onStatus: (listener) => this.statuses.add(listener),
      close: () => this.setStatus({ state: 'closed' }),
    }
  }

  /** A session as session.create makes it; `at` places it mid-run, as runs.open does. */
  addSession(payload: unknown, at: { step?: number; status?: State['status']; runId?: string } = {}): Info {
    const spec = SessionSpec.parse(payload)
    const facts = this.facts(spec.data)
    const loss = resolveLoss(spec.model.loss, facts.task)
    const mismatch = lossMismatch(loss, facts.task)
    if (mismatch) throw new FileError(`model.loss: ${loss} ${mismatch}, but this is a ${facts.task} dataset`)
    const outputSize = outputWidth(loss, facts.nClasses)
    const s: State = {
      sessionId: `s${this.nextSession++}`,
      status: at.status ?? 'idle',
      step: at.step ?? 0,
      epoch: 0,
      backend: { ...FAKE_BACKEND },
    }
    const sizes = [facts.featureNames.length, ...spec.model.hidden, outputSize]
    const act = (i: number) => spec.model.activations?.[i] ?? spec.model.activation
    const layers = sizes.slice(1).map((out, i) => ({
      name: `layers.${i}`,
      inFeatures: sizes[i]!,
      outFeatures: out,
      activation: i < spec.model.hidden.length ? act(i) : ('linear' as const),
    }))
    const paramCount = modelParamCount(sizes, spec.model.blocks)
    const info = {
      spec,
      paramCount,
      layers,
      loss,
      task: facts.task,
      inputFeatures: sizes[0]!,
      outputSize,
      featureNames: facts.featureNames,
      classNames: facts.classNames,
      planar: facts.planar,
      ...(at.runId ? { runId: at.runId } : {}),
    }
    this.sessions.set(s.sessionId, s)
    this.infos.set(s.sessionId, info)
    return { ...info, state: s }
  }

  /** Store a file as a finished upload would (for tests that start with one uploaded). */
  addFile(name: string, content: string | Uint8Array): Stored {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
    return this.store(name, bytes)
  }

  private store(name: string, bytes: Uint8Array): Stored {
    const fileId = contentId(bytes)
    if (/\.csv$/i.test(name)) {
      const { summary, rows, header } = summariseCsv(new TextDecoder().decode(bytes))
      const file = { fileId, name, bytes: bytes.length, summary }
      this.files.set(fileId, { ...file, rows, header })
      return file
    }
    const file = { fileId, name, bytes: bytes.length, summary: summariseIdx(bytes) }
    this.files.set(fileId, file)
    return file
  }

  private file(id: string, what: string) {
    const f = this.files.get(id)
    if (!f) throw new FileError(`${what}: no stored file ${id}`)
    return f
  }

  /** The facts of a data spec, as the host would find them (FileError when it cannot). */
  facts(input: DataIn): DataFacts {
    const d = DataSpec.parse(input)
    if (d.source === 'bundled') {
      const set = FAKE_DATASETS.find((x) => x.name === d.name)!
      const featureNames = d.name === 'iris' ? IRIS_COLUMNS : Array.from({ length: set.features }, (_, i) => `f${i + 1}`)
      const classNames = Array.from({ length: set.classes }, (_, i) => `class ${i}`)
      return {
        task: set.task,
        nClasses: set.classes,
        featureNames,
        axisNames: [featureNames[0]!, featureNames[1]!],
        classNames,
        targetName: 'class',
        planar: false,
        description: set.description,
      }
    }
    if (d.source === 'csv') {
      const f = this.file(d.fileId, 'data.fileId')
      if (f.summary.format !== 'csv') throw new FileError(`data.fileId: ${f.name} is not a CSV file`)
      const columns = f.summary.columns
      const target = columns.find((c) => c.name === d.target)
      if (!target) throw new FileError(`data.target: there is no column "${d.target}" (columns: ${columns.map((c) => c.name).join(', ')})`)
      const featureNames = d.features ?? columns.filter((c) => c.type === 'numeric' && c.name !== d.target).map((c) => c.name)
      const missing = featureNames.find((n) => !columns.some((c) => c.name === n))
      if (missing) throw new FileError(`data.features: there is no column "${missing}"`)
      if (featureNames.length === 0) throw new FileError('data.features: no numeric column besides the target')
      const classes = target.type === 'categorical' || target.distinct <= 10
      const task = d.task !== 'auto' ? d.task : !classes ? 'regression' : target.distinct === 2 ? 'binary' : 'multiclass'
      const j = f.header!.indexOf(d.target)
      const classNames = task === 'regression' ? null : [...new Set(f.rows!.map((r) => r[j]!))].sort()
      const axisNames: [string, string] = [featureNames[0]!, featureNames[1] ?? featureNames[0]!]
      return {
        task,
        nClasses: classNames?.length ?? 1,
        featureNames,
        axisNames,
        classNames,
        targetName: d.target,
        planar: featureNames.length === 2,
        description: `${f.name}: ${f.summary.rows} rows`,
      }
    }
    if (d.source === 'idx') {
      const images = this.file(d.imagesFileId, 'data.imagesFileId')
      this.file(d.labelsFileId, 'data.labelsFileId')
      if (images.summary.format !== 'idx' || images.summary.role !== 'images')
        throw new FileError(`data.imagesFileId: ${images.name} is not an IDX images file`)
      const pixels = images.summary.dims.slice(1).reduce((a, b) => a * b, 1)
      const featureNames = Array.from({ length: pixels }, (_, i) => `px${i}`)
      return {
        task: 'multiclass',
        nClasses: 10,
        featureNames,
        axisNames: ['px0', 'px1'],
        classNames: Array.from({ length: 10 }, (_, i) => String(i)),
        targetName: 'label',
        planar: false,
        description: images.name,
      }
    }
    const g = FAKE_GENERATORS.find((x) => x.name === d.generator)
    if (!g) throw new FileError(`data.generator: "${d.generator}" is not offered by this host`)
    const nClasses = generatorClassCount(g.name, g.task, d.classes)
    const classNames = g.task === 'regression' ? null : Array.from({ length: nClasses }, (_, i) => String(i))
    return {
      task: g.task,
      nClasses,
      featureNames: [...d.features],
      axisNames: ['x1', 'x2'],
      classNames,
      targetName: 'y',
      planar: true,
      description: g.description,
    }
  }

  private preview(input: DataIn): Preview {
    const facts = this.facts(input)
    const n = 8
    const points = Array.from({ length: 2 * n }, (_, i) => Math.sin(i + 1))
    const labels = Array.from({ length: n }, (_, i) => (facts.task === 'regression' ? i / n : i % facts.nClasses))
    const isTest = labels.map((_, i) => i % 4 === 3)
    return { ...facts, points, labels, isTest, trainCount: 6, testCount: 2 }
  }

  private upload(p: RequestPayload<'files.upload'>): RequestResult<'files.upload'> {
    if (p.bytes > DATA_LIMITS.maxUploadBytes)
      throw new FileError(`${p.name}: ${p.bytes} bytes is over the ${DATA_LIMITS.maxUploadBytes}-byte limit`)
    const up = p.index === 0 ? { name: p.name, total: p.total, bytes: p.bytes, chunks: [] as Uint8Array[] } : this.uploads.get(p.uploadId)
    if (!up) throw new FileError(`${p.name}: chunk ${p.index} of an upload that never started`)
    if (up.chunks.length !== p.index) throw new FileError(`${p.name}: chunk ${p.index} arrived, expected chunk ${up.chunks.length}`)
    up.chunks.push(p.chunk ?? fromBase64(p.chunkBase64 ?? ''))
    this.uploads.set(p.uploadId, up)
    if (up.chunks.length < up.total) return { uploadId: p.uploadId, received: up.chunks.length, done: false, file: null }
    this.uploads.delete(p.uploadId)
    const parts = up.chunks
    const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0))
    let at = 0
    for (const b of parts) {
      bytes.set(b, at)
      at += b.length
    }
    if (bytes.length !== up.bytes) throw new FileError(`${p.name}: received ${bytes.length} bytes, announced ${up.bytes}`)
    return { uploadId: p.uploadId, received: up.total, done: true, file: this.store(p.name, bytes) }
  }

  /** The request's session, or the host's not_found refusal. */
  private session(kind: RequestKind, sessionId: string): State {
    const state = this.sessions.get(sessionId)
    if (!state) throw new Refusal('not_found', `${kind}: no session ${sessionId}`)
    return state
  }

  private change(kind: RequestKind, sessionId: string, change: (s: State) => Partial<State>): State {
    const state = this.session(kind, sessionId)
    const next = { ...state, ...change(state) }
    this.sessions.set(next.sessionId, next)
    return next
  }

  /**
   * What the fake answers, keyed by the protocol's request kinds: each takes that kind's payload and
   * returns that kind's result type, so a wrong answer fails to compile. A kind it does not answer
   * gets an unknown_kind error; a test that needs one answers it through `overrides`.
   */
  private readonly answers: FakeAnswers = {
    'host.hello': () => ({
      protocolVersion: PROTOCOL_VERSION,
      generators: [...FAKE_GENERATORS],
      datasets: [...FAKE_DATASETS],
      activations: [...ACTIVATION_NAMES],
      initializers: [...INIT_NAMES],
      limits: { maxHiddenLayers: 16, maxWidth: 1024, maxSamples: 100000, maxBatchSize: 4096, maxStepsPerRequest: 100000, maxSessions: 8 },
    }),
    'dataset.preview': (p) => this.preview(p),
    'session.create': ({ record: _record, ...p }) => {
      if (p.backend === 'webgpu') throw new Refusal('backend_unavailable', 'WebGPU was asked for, but this host has no WebGPU adapter')
      return this.addSession(p)
    },
    'files.upload': (p) => this.upload(p),
    'files.info': (p) => {
      const { rows: _rows, header: _header, ...file } = this.file(p.fileId, 'fileId')
      return file
    },
    'session.info': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      return { ...this.infos.get(state.sessionId)!, state }
    },
    'session.start': (p, kind) => this.change(kind, p.sessionId, () => ({ status: 'running' })),
    'session.pause': (p, kind) => this.change(kind, p.sessionId, () => ({ status: 'paused' })),
    'session.step': (p, kind) => this.change(kind, p.sessionId, (s) => ({ status: 'paused', step: s.step + (p.steps ?? 1) })),
    'session.reset': (p, kind) => this.change(kind, p.sessionId, () => ({ status: 'idle', step: 0, epoch: 0 })),
    'session.update': (p, kind) => this.change(kind, p.sessionId, () => ({})),
    'session.dispose': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      this.sessions.delete(state.sessionId)
      this.infos.delete(state.sessionId)
      return { sessionId: state.sessionId }
    },
    'session.histograms': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      return fakeHistograms(state.step, this.infos.get(state.sessionId)!.layers.length)
    },
    'session.boundary': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      if (!this.infos.get(state.sessionId)!.planar) throw new Refusal('invalid_payload', 'session.boundary: the inputs are not 2-D')
      return fakeBoundary(state.step, p.resolution ?? 64)
    },
    'session.describe': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      const { spec, layers, loss, task, inputFeatures } = this.infos.get(state.sessionId)!
      const sizes = [inputFeatures, ...layers.map((l) => l.outFeatures)]
      const hiddenActivations = layers.slice(0, -1).map((l) => l.activation)
      return describeModel({
        sizes,
        hiddenActivations,
        loss,
        task,
        auto: spec.model.loss === 'auto',
        optimizer: spec.optimizer.type,
        blocks: spec.model.blocks,
      })
    },
    'session.predictions': (p, kind) => {
      const state = this.session(kind, p.sessionId)
      return {
        step: state.step,
        split: 'test',
        actual: [0, 1, 1],
        predicted: [0, 1, 0],
        confusion: [
          [1, 0],
          [1, 1],
        ],
      }
    },
  }

  private answer(m: RequestMessage): unknown {
    const answer = this.answers[m.kind] as FakeAnswer<RequestKind> | undefined
    if (!answer) return errorReply(m.id, 'unknown_kind', `the fake host does not answer ${m.kind} (a test answers it through overrides)`)
    try {
      return okReply(m.id, answer(m.payload, m.kind))
    } catch (err) {
      if (err instanceof Refusal) return errorReply(m.id, err.code, err.message)
      if (err instanceof FileError) return errorReply(m.id, 'invalid_payload', `${m.kind}: ${err.message}`)
      throw err
    }
  }
}

/** A metrics batch for `sessionId` covering steps from..to (inclusive), loss falling with step. */
export function metricsBatch(sessionId: string, from: number, to: number, layers = 3): EventPayload<'train.metrics'> {
  const steps = Array.from({ length: to - from + 1 }, (_, i) => from + i)
  return {
    sessionId,
    steps,
    trainLoss: steps.map((s) => 1 / (1 + s)),
    epoch: Math.floor(to / 10),
    evals: to % 50 === 0 ? [{ step: to, trainLoss: 0.5, testLoss: 0.6, trainAccuracy: 0.8, testAccuracy: 0.75 }] : [],
    layers: [
      {
        step: to,
        stats: Array.from({ length: layers }, (_, i) => ({
          gradNorm: 0.1 * (i + 1),
          meanAbsGrad: 0.01,
          maxAbsGrad: 0.2,
          weightNorm: 1,
          updateRatio: 1e-3,
          deadFraction: null,
          saturatedFraction: null,
        })),
      },
    ],
    stepsPerSecond: 1000,
    lr: 0.01,
  }
}

/** A histogram of `count` values spread over [-1, 1] in 4 bins. */
function fakeHistogram(count: number): RequestResult<'session.histograms'>['layers'][number]['weights'] {
  const per = Math.floor(count / 4)
  return {
    lo: -1,
    hi: 1,
    counts: [per, per, per, count - 3 * per],
    underflow: 0,
    overflow: 0,
    count,
    nonFinite: 0,
    min: -1,
    max: 1,
    mean: 0,
    std: 0.5,
  }
}

/** Histograms at `step` for `layers` layers (no gradients before the first step). */
export function fakeHistograms(step: number, layers: number): RequestResult<'session.histograms'> {
  return {
    step,
    layers: Array.from({ length: layers }, (_, i) => ({
      name: `layers.${i}`,
      weights: fakeHistogram(16),
      grads: step > 0 ? fakeHistogram(16) : null,
      biases: fakeHistogram(4),
    })),
  }
}

/** A binary decision boundary at `step`: P(class 1) rising from left to right. */
export function fakeBoundary(step: number, resolution: number): RequestResult<'session.boundary'> {
  const values = Array.from({ length: resolution * resolution }, (_, k) => (k % resolution) / (resolution - 1))
  return { step, resolution, xRange: [-1, 1], yRange: [-1, 1], values, confidence: [], kind: 'probability', min: 0, max: 1 }
}
