// The one message protocol between the renderer and the engine host, in both ways in (Electron
// IPC, serve-mode WebSocket). Every message is validated on arrival at every trust boundary with
// these schemas; nothing throws across a process boundary, failures travel as typed error replies.
import { z } from 'zod'
import { INSPECT_REQUESTS } from './protocol-inspect'
import { RUNS_REQUESTS, RunId } from './protocol-runs'

// zod probes `new Function` to JIT its validators; under our CSP (no 'unsafe-eval') that probe is
// refused and reported as a violation on every page. Interpreted validation is fast enough here.
z.config({ jitless: true })

export const PROTOCOL_VERSION = 1

// ---------------------------------------------------------------------------------------------
// Vocabulary (kept in step with the engine by protocol.test.ts)

export const ACTIVATION_NAMES = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu', 'linear'] as const
export const INIT_NAMES = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal', 'pytorch', 'zeros'] as const
export const GENERATOR_NAMES = ['circle', 'xor', 'gauss', 'spiral', 'moons', 'spiral3', 'blobs', 'reg-plane', 'reg-gauss'] as const
export const FEATURE_NAMES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'] as const
export const LOSS_NAMES = ['auto', 'mse', 'softmaxCrossEntropy', 'bceWithLogits', 'hinge'] as const
export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const
export const SESSION_STATUSES = ['idle', 'running', 'paused', 'error'] as const

export const LIMITS = {
  maxHiddenLayers: 16,
  maxWidth: 1024,
  maxSamples: 100_000,
  maxBatchSize: 4096,
  maxStepsPerRequest: 100_000,
  maxSessions: 8,
} as const

const finite = z.number().refine(Number.isFinite, 'must be a finite number')
const seed = z.number().int().min(0).max(2 ** 31 - 1)
const lr = finite.check(z.gt(0), z.lte(10))
const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')

// ---------------------------------------------------------------------------------------------
// Specs: what a session is made of

export const ModelSpec = z.strictObject({
  /** Hidden layer widths; input and output sizes follow from the data. */
  hidden: z.array(z.number().int().min(1).max(LIMITS.maxWidth)).max(LIMITS.maxHiddenLayers),
  activation: z.enum(ACTIVATION_NAMES).default('tanh'),
  init: z.enum(INIT_NAMES).default('xavier-uniform'),
  loss: z.enum(LOSS_NAMES).default('auto'),
})

export const DataSpec = z.strictObject({
  generator: z.enum(GENERATOR_NAMES),
  n: z.number().int().min(10).max(LIMITS.maxSamples).default(500),
  noise: finite.check(z.gte(0), z.lte(1)).default(0),
  testRatio: finite.check(z.gte(0), z.lte(0.9)).default(0.3),
  seed: seed.default(0),
  classes: z.number().int().min(2).max(10).optional(),
  features: z.array(z.enum(FEATURE_NAMES)).min(1).max(FEATURE_NAMES.length).default(['x1', 'x2']),
})

const weightDecay = finite.check(z.gte(0), z.lte(1)).default(0)
const momentum = finite.check(z.gte(0), z.lt(1)).default(0)
const beta = finite.check(z.gte(0), z.lt(1))

export const OptimizerSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sgd'), lr, momentum, nesterov: z.boolean().default(false), weightDecay }),
  z.strictObject({ type: z.literal('adam'), lr, beta1: beta.default(0.9), beta2: beta.default(0.999), weightDecay }),
  z.strictObject({ type: z.literal('adamw'), lr, beta1: beta.default(0.9), beta2: beta.default(0.999), weightDecay: finite.check(z.gte(0), z.lte(1)).default(0.01) }),
  z.strictObject({ type: z.literal('rmsprop'), lr, alpha: finite.check(z.gte(0), z.lte(1)).default(0.99), momentum, weightDecay }),
])

/** Hyperparameters that may change mid-run without a reset. */
export const OptimizerPatch = z.strictObject({
  lr: lr.optional(),
  momentum: finite.check(z.gte(0), z.lt(1)).optional(),
  weightDecay: finite.check(z.gte(0), z.lte(1)).optional(),
  beta1: beta.optional(),
  beta2: beta.optional(),
  alpha: finite.check(z.gte(0), z.lte(1)).optional(),
})

export const TrainSpec = z.strictObject({
  batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).default(32),
  /** Evaluate test loss and accuracy every this many steps. */
  evalEvery: z.number().int().min(1).max(100_000).default(50),
  seed: seed.default(0),
})

export const SessionSpec = z.strictObject({
  model: ModelSpec,
  data: DataSpec,
  optimizer: OptimizerSpec,
  train: TrainSpec.default({ batchSize: 32, evalEvery: 50, seed: 0 }),
  backend: z.enum(BACKEND_CHOICES).default('auto'),
})

// ---------------------------------------------------------------------------------------------
// Results and event payloads

export const BackendInfo = z.strictObject({ name: z.enum(['cpu', 'webgpu']), reason: z.string() })

export const HelloResult = z.strictObject({
  protocolVersion: z.number().int(),
  generators: z.array(z.strictObject({ name: z.enum(GENERATOR_NAMES), label: z.string(), task: z.enum(['binary', 'multiclass', 'regression']), description: z.string() })),
  activations: z.array(z.enum(ACTIVATION_NAMES)),
  initializers: z.array(z.enum(INIT_NAMES)),
  limits: z.strictObject({ maxHiddenLayers: z.number(), maxWidth: z.number(), maxSamples: z.number(), maxBatchSize: z.number(), maxStepsPerRequest: z.number(), maxSessions: z.number() }),
})

export const DatasetPreview = z.strictObject({
  task: z.enum(['binary', 'multiclass', 'regression']),
  nClasses: z.number().int(),
  /** Raw 2-D points (x1, x2) interleaved, before featurisation, for the scatter preview. */
  points: z.array(z.number()),
  labels: z.array(z.number()),
  trainCount: z.number().int(),
  testCount: z.number().int(),
})

export const LayerInfo = z.strictObject({ name: z.string(), inFeatures: z.number().int(), outFeatures: z.number().int(), activation: z.enum(ACTIVATION_NAMES) })

export const SessionState = z.strictObject({
  sessionId,
  status: z.enum(SESSION_STATUSES),
  step: z.number().int(),
  epoch: z.number().int(),
  backend: BackendInfo,
  /** Set when status is 'error' (or after a recoverable problem), says what happened. */
  message: z.string().optional(),
})

export const SessionInfo = z.strictObject({
  state: SessionState,
  spec: SessionSpec,
  paramCount: z.number().int(),
  layers: z.array(LayerInfo),
  loss: z.enum(['mse', 'softmaxCrossEntropy', 'bceWithLogits', 'hinge']),
  task: z.enum(['binary', 'multiclass', 'regression']),
  inputFeatures: z.number().int(),
  outputSize: z.number().int(),
  /** The run this session records into (null when the data directory cannot be written). */
  runId: RunId.nullable().optional(),
})

export const LayerStats = z.strictObject({
  gradNorm: z.number(),
  meanAbsGrad: z.number(),
  maxAbsGrad: z.number(),
  weightNorm: z.number(),
  /** lr·‖g‖/‖w‖: how big a step is relative to the weights (healthy near 1e-3). */
  updateRatio: z.number(),
})

export const MetricsBatch = z.strictObject({
  sessionId,
  /** Every training step since the last batch: step numbers and their minibatch losses. */
  steps: z.array(z.number().int()),
  trainLoss: z.array(z.number()),
  epoch: z.number().int(),
  evals: z.array(z.strictObject({ step: z.number().int(), trainLoss: z.number(), testLoss: z.number(), trainAccuracy: z.number().nullable(), testAccuracy: z.number().nullable() })),
  /** Per-layer statistics, sampled (at most one sample per batch), layers in model order. */
  layers: z.array(z.strictObject({ step: z.number().int(), stats: z.array(LayerStats) })),
  stepsPerSecond: z.number(),
})

// ---------------------------------------------------------------------------------------------
// Requests: kind → payload schema and result schema

const Empty = z.strictObject({})
const SessionRef = z.strictObject({ sessionId })

export const REQUESTS = {
  'host.hello': { payload: Empty, result: HelloResult },
  'dataset.preview': { payload: DataSpec, result: DatasetPreview },
  'session.create': { payload: SessionSpec, result: SessionInfo },
  'session.start': { payload: SessionRef, result: SessionState },
  'session.pause': { payload: SessionRef, result: SessionState },
  'session.step': { payload: z.strictObject({ sessionId, steps: z.number().int().min(1).max(LIMITS.maxStepsPerRequest).default(1) }), result: SessionState },
  'session.reset': { payload: SessionRef, result: SessionState },
  'session.update': {
    payload: z.strictObject({
      sessionId,
      optimizer: OptimizerPatch.optional(),
      batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).optional(),
      evalEvery: z.number().int().min(1).max(100_000).optional(),
    }),
    result: SessionState,
  },
  'session.dispose': { payload: SessionRef, result: z.strictObject({ sessionId }) },
  /** A session's info (e.g. one opened from a run), so a view can adopt it. */
  'session.info': { payload: SessionRef, result: SessionInfo },
  // Seeing backprop: scalar explainer, graph/network snapshots, neuron maps, gradient checks.
  ...INSPECT_REQUESTS,
  // Runs on disk: list, rename, tag, delete/restore, reopen (resume, time travel), export, import.
  ...RUNS_REQUESTS,
} as const

export type RequestKind = keyof typeof REQUESTS
export const REQUEST_KINDS = Object.keys(REQUESTS) as RequestKind[]
/** What a caller passes (defaults may be omitted). */
export type RequestPayload<K extends RequestKind> = z.input<(typeof REQUESTS)[K]['payload']>
/** What the host receives after validation (defaults filled in). */
export type ParsedPayload<K extends RequestKind> = z.output<(typeof REQUESTS)[K]['payload']>
export type RequestResult<K extends RequestKind> = z.output<(typeof REQUESTS)[K]['result']>

export const EVENTS = {
  'train.metrics': MetricsBatch,
  'session.state': SessionState,
  /** The engine host stopped (crash) or was restarted; sessions it held are gone. */
  'host.status': z.strictObject({ status: z.enum(['restarted', 'crashed']), message: z.string() }),
} as const
export type EventKind = keyof typeof EVENTS
export type EventPayload<K extends EventKind> = z.output<(typeof EVENTS)[K]>

// ---------------------------------------------------------------------------------------------
// Envelopes

export const ERROR_CODES = ['invalid_message', 'version_mismatch', 'unknown_kind', 'invalid_payload', 'not_found', 'limit', 'engine', 'backend_unavailable', 'host_crashed', 'internal'] as const
export type ErrorCode = (typeof ERROR_CODES)[number]
export const ProtocolError = z.strictObject({ code: z.enum(ERROR_CODES), message: z.string() })
export type ProtocolError = z.output<typeof ProtocolError>

export interface RequestMessage<K extends RequestKind = RequestKind> {
  v: typeof PROTOCOL_VERSION
  id: number
  kind: K
  payload: RequestPayload<K>
}
export type ReplyMessage<T = unknown> =
  | { v: typeof PROTOCOL_VERSION; id: number; ok: true; result: T }
  | { v: typeof PROTOCOL_VERSION; id: number; ok: false; error: ProtocolError }
export interface EventMessage<K extends EventKind = EventKind> {
  v: typeof PROTOCOL_VERSION
  event: K
  payload: EventPayload<K>
}

const Envelope = z.strictObject({ v: z.number(), id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), kind: z.string().max(64), payload: z.unknown() })

export type Parsed<T> = { ok: true; value: T } | { ok: false; id: number | null; error: ProtocolError }

/** Describe zod issues in one line a user can act on: `model.hidden[2]: Too big: expected …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') + ': ' : ''}${i.message}`)
    .join('; ')
}

export interface ValidRequest {
  id: number
  kind: RequestKind
  payload: unknown
}

/** Validate a request from an untrusted sender: envelope, version, kind and payload. */
export function parseRequest(raw: unknown): Parsed<ValidRequest> {
  const env = Envelope.safeParse(raw)
  if (!env.success) {
    const id = typeof raw === 'object' && raw !== null && Number.isInteger((raw as { id?: unknown }).id) ? (raw as { id: number }).id : null
    return { ok: false, id, error: { code: 'invalid_message', message: `malformed request: ${describeIssues(env.error)}` } }
  }
  const { v, id, kind, payload } = env.data
  if (v !== PROTOCOL_VERSION) return { ok: false, id, error: { code: 'version_mismatch', message: `protocol version ${v} is not supported (this host speaks ${PROTOCOL_VERSION})` } }
  if (!Object.hasOwn(REQUESTS, kind)) return { ok: false, id, error: { code: 'unknown_kind', message: `unknown request kind "${kind}"` } }
  const k = kind as RequestKind
  const p = REQUESTS[k].payload.safeParse(payload)
  if (!p.success) return { ok: false, id, error: { code: 'invalid_payload', message: `${k}: ${describeIssues(p.error)}` } }
  return { ok: true, value: { id, kind: k, payload: p.data } }
}

/** Validate a reply to request `kind` (the renderer checks what comes back, too). */
export function parseReply<K extends RequestKind>(kind: K, raw: unknown): { ok: true; result: RequestResult<K> } | { ok: false; error: ProtocolError } {
  const r = z.union([
    z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.number(), ok: z.literal(true), result: z.unknown() }),
    z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.number(), ok: z.literal(false), error: ProtocolError }),
  ]).safeParse(raw)
  if (!r.success) return { ok: false, error: { code: 'invalid_message', message: `malformed reply to ${kind}: ${describeIssues(r.error)}` } }
  if (!r.data.ok) return { ok: false, error: r.data.error }
  const res = REQUESTS[kind].result.safeParse(r.data.result)
  if (!res.success) return { ok: false, error: { code: 'invalid_message', message: `reply to ${kind} does not match the protocol: ${describeIssues(res.error)}` } }
  return { ok: true, result: res.data as RequestResult<K> }
}

/** Validate an event from the host. */
export function parseEvent(raw: unknown): Parsed<{ event: EventKind; payload: unknown }> {
  const env = z.strictObject({ v: z.literal(PROTOCOL_VERSION), event: z.string(), payload: z.unknown() }).safeParse(raw)
  if (!env.success) return { ok: false, id: null, error: { code: 'invalid_message', message: `malformed event: ${describeIssues(env.error)}` } }
  const { event, payload } = env.data
  if (!Object.hasOwn(EVENTS, event)) return { ok: false, id: null, error: { code: 'unknown_kind', message: `unknown event "${event}"` } }
  const p = EVENTS[event as EventKind].safeParse(payload)
  if (!p.success) return { ok: false, id: null, error: { code: 'invalid_payload', message: `${event}: ${describeIssues(p.error)}` } }
  return { ok: true, value: { event: event as EventKind, payload: p.data } }
}

export function okReply<T>(id: number, result: T): ReplyMessage<T> {
  return { v: PROTOCOL_VERSION, id, ok: true, result }
}

export function errorReply(id: number, code: ErrorCode, message: string): ReplyMessage<never> {
  return { v: PROTOCOL_VERSION, id, ok: false, error: { code, message } }
}

export function eventMessage<K extends EventKind>(event: K, payload: EventPayload<K>): EventMessage<K> {
  return { v: PROTOCOL_VERSION, event, payload }
}
