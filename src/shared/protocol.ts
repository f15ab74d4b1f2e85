// The one message protocol between the renderer and the engine host, in both ways in (Electron
// IPC, serve-mode WebSocket). Every message is validated on arrival at every trust boundary with
// these schemas; nothing throws across a process boundary, failures travel as typed error replies.
import { z } from 'zod'
import { INSPECT_REQUESTS } from './protocol-inspect'
import { RUNS_EVENTS, RUNS_REQUESTS, RunId } from './protocol-runs'
import { BUNDLED_DATASETS, DATA_LIMITS, DATA_REQUESTS, DataSpec, DatasetPreview, GENERATOR_NAMES, TASKS } from './protocol-data'
import { STUDIO_EVENTS, STUDIO_REQUESTS } from './protocol-studio'
import { EvalPoint, LayerSample } from './protocol-stats'
import { WATCH_REQUESTS } from './protocol-watch'
import { LOSSES, LOSS_NAMES } from './model-rules'
import { MAX_DROPOUT, NORM_NAMES, NORM_POSITIONS } from './model-blocks'

export { BUNDLED_DATASETS, DataSpec, DatasetPreview, FEATURE_NAMES, GENERATOR_NAMES } from './protocol-data'
export { LOSS_NAMES } from './model-rules'
export { EvalPoint, LayerSample, LayerStats, NormStats, RegressionFit } from './protocol-stats'

// zod probes `new Function` to JIT its validators; under our CSP (no 'unsafe-eval') that probe is
// refused and reported as a violation on every page. Interpreted validation is fast enough here.
z.config({ jitless: true })

export const PROTOCOL_VERSION = 1

// ---------------------------------------------------------------------------------------------
// Vocabulary (kept in step with the engine by protocol.test.ts)

export const ACTIVATION_NAMES = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu', 'linear'] as const
export const INIT_NAMES = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal', 'pytorch', 'zeros'] as const
export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const
export const SESSION_STATUSES = ['idle', 'running', 'paused', 'error'] as const

export const LIMITS = {
  maxHiddenLayers: 16,
  maxWidth: 1024,
  maxSamples: DATA_LIMITS.maxSamples,
  maxBatchSize: 4096,
  maxStepsPerRequest: 100_000,
  maxSessions: 8,
} as const

const finite = z.number().refine(Number.isFinite, 'must be a finite number')
const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
const lr = finite.check(z.gt(0), z.lte(10))
const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')

// ---------------------------------------------------------------------------------------------
// Specs: what a session is made of

/** A hidden layer's extras (model-blocks.ts: where the norm sits, dropout, the residual connection). */
export const BlockSpec = z.strictObject({
  norm: z.enum(NORM_NAMES).default('none'),
  normAt: z.enum(NORM_POSITIONS).default('mid'),
  dropout: finite.check(z.gte(0), z.lte(MAX_DROPOUT)).default(0),
  residual: z.boolean().default(false),
})

export const ModelSpec = z
  .strictObject({
    /** Hidden layer widths; input and output sizes follow from the data. */
    hidden: z.array(z.number().int().min(1).max(LIMITS.maxWidth)).max(LIMITS.maxHiddenLayers),
    /** The activation of every hidden layer, unless `activations` gives one per hidden layer. */
    activation: z.enum(ACTIVATION_NAMES).default('tanh'),
    activations: z.array(z.enum(ACTIVATION_NAMES)).max(LIMITS.maxHiddenLayers).optional(),
    init: z.enum(INIT_NAMES).default('xavier-uniform'),
    loss: z.enum(LOSS_NAMES).default('auto'),
    /** Normalisation, dropout and residual connection per hidden layer; absent: plain layers. */
    blocks: z.array(BlockSpec).max(LIMITS.maxHiddenLayers).optional(),
  })
  .check((ctx) => {
    const { hidden, activations, blocks } = ctx.value
    if (activations && activations.length !== hidden.length) {
      ctx.issues.push({
        code: 'custom',
        input: activations,
        path: ['activations'],
        message: `gives ${activations.length} activations for ${hidden.length} hidden layers; give one per hidden layer`,
      })
    }
    if (blocks && blocks.length !== hidden.length) {
      ctx.issues.push({
        code: 'custom',
        input: blocks,
        path: ['blocks'],
        message: `gives ${blocks.length} blocks for ${hidden.length} hidden layers; give one per hidden layer`,
      })
    }
  })

const weightDecay = finite.check(z.gte(0), z.lte(1)).default(0)
const momentum = finite.check(z.gte(0), z.lt(1)).default(0)
const beta = finite.check(z.gte(0), z.lt(1))
const eps = finite.check(z.gt(0), z.lte(1))

export const OptimizerSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sgd'), lr, momentum, nesterov: z.boolean().default(false), weightDecay }),
  z.strictObject({
    type: z.literal('adam'),
    lr,
    beta1: beta.default(0.9),
    beta2: beta.default(0.999),
    eps: eps.default(1e-8),
    weightDecay,
  }),
  z.strictObject({
    type: z.literal('adamw'),
    lr,
    beta1: beta.default(0.9),
    beta2: beta.default(0.999),
    eps: eps.default(1e-8),
    weightDecay: finite.check(z.gte(0), z.lte(1)).default(0.01),
  }),
  z.strictObject({
    type: z.literal('rmsprop'),
    lr,
    alpha: finite.check(z.gte(0), z.lte(1)).default(0.99),
    eps: eps.default(1e-8),
    momentum,
    weightDecay,
  }),
])

/** Hyperparameters that may change mid-run without a reset. */
export const OptimizerPatch = z.strictObject({
  lr: lr.optional(),
  momentum: finite.check(z.gte(0), z.lt(1)).optional(),
  weightDecay: finite.check(z.gte(0), z.lte(1)).optional(),
  beta1: beta.optional(),
  beta2: beta.optional(),
  alpha: finite.check(z.gte(0), z.lte(1)).optional(),
  eps: eps.optional(),
  nesterov: z.boolean().optional(),
})

/** Learning rate over steps: the optimiser's lr is the base; step decays by gamma every stepSize
 *  steps; cosine anneals from lr to minLr over periodSteps (then stays at minLr). Both may warm up
 *  linearly from 0 over warmupSteps. */
export const ScheduleSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant'), warmupSteps: z.number().int().min(0).max(1_000_000).default(0) }),
  z.strictObject({
    type: z.literal('step'),
    stepSize: z.number().int().min(1).max(10_000_000),
    gamma: finite.check(z.gt(0), z.lte(1)).default(0.5),
    warmupSteps: z.number().int().min(0).max(1_000_000).default(0),
  }),
  z.strictObject({
    type: z.literal('cosine'),
    periodSteps: z.number().int().min(1).max(10_000_000),
    minLr: finite.check(z.gte(0), z.lte(10)).default(0),
    warmupSteps: z.number().int().min(0).max(1_000_000).default(0),
  }),
])

/** When training stops by itself (each null: no such condition). Stopping pauses with a message. */
export const StopSpec = z.strictObject({
  maxEpochs: z.number().int().min(1).max(1_000_000).nullable().default(null),
  maxSteps: z.number().int().min(1).max(100_000_000).nullable().default(null),
  /** Stop when the loss (test loss when there is a test split, else train) is at or below this. */
  targetLoss: finite.check(z.gte(0)).nullable().default(null),
  /** Stop when the test loss has not improved by minDelta for `patience` evaluations in a row. */
  earlyStopping: z
    .strictObject({ patience: z.number().int().min(1).max(10_000), minDelta: finite.check(z.gte(0)).default(0) })
    .nullable()
    .default(null),
})

/** Gradient alarms, checked on every step's weight gradients (after clipping). Exploding: a layer's
 *  gradient norm more than explodingFactor times its usual norm for 3 steps in a row (its own
 *  history: the larger of its median over its first steps and over the recent ones,
 *  host/grad-history.ts), or above
 *  explodingGradNorm while the layer has too little history to judge by (its first steps). With
 *  pause, that step's update is not applied. Vanishing:
 *  the first layer's gradient norm below vanishingGradNorm while the last layer's is not, for
 *  several steps in a row (once per run until reset). */
export const AlarmSpec = z.strictObject({
  explodingGradNorm: finite.check(z.gt(0)).default(1e3),
  explodingFactor: finite.check(z.gt(1), z.lte(1e12)).default(100),
  vanishingGradNorm: finite.check(z.gt(0)).default(1e-7),
  /** Pause training when an alarm fires (NaN/Inf always pauses). */
  pause: z.boolean().default(true),
})

const STOP_DEFAULT = { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null }
const ALARM_DEFAULT = { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true }
/** Regularisation strength: λ₁·Σ|w| and λ₂·Σw² over weights (not biases), added to the training
 *  objective. Reported losses (train and test) are the data loss without it, so they compare. */
const penalty = finite.check(z.gte(0), z.lte(10))
/** Global gradient-norm clipping threshold (PyTorch's clip_grad_norm_), or null for none. */
const clipNorm = finite.check(z.gt(0), z.lte(1e6)).nullable()
/** A speed limit for watching training slowly, or null for full speed. */
const maxStepsPerSecond = finite.check(z.gt(0), z.lte(1e6)).nullable()

export const TrainSpec = z.strictObject({
  batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).default(32),
  /** Evaluate test loss and accuracy every this many steps. */
  evalEvery: z.number().int().min(1).max(100_000).default(50),
  seed: seed.default(0),
  schedule: ScheduleSpec.default({ type: 'constant', warmupSteps: 0 }),
  l1: penalty.default(0),
  l2: penalty.default(0),
  clipNorm: clipNorm.default(null),
  stop: StopSpec.default(STOP_DEFAULT),
  alarms: AlarmSpec.default(ALARM_DEFAULT),
  maxStepsPerSecond: maxStepsPerSecond.default(null),
})

export const SessionSpec = z.strictObject({
  model: ModelSpec,
  data: DataSpec,
  optimizer: OptimizerSpec,
  train: TrainSpec.default({
    batchSize: 32,
    evalEvery: 50,
    seed: 0,
    schedule: { type: 'constant', warmupSteps: 0 },
    l1: 0,
    l2: 0,
    clipNorm: null,
    stop: STOP_DEFAULT,
    alarms: ALARM_DEFAULT,
    maxStepsPerSecond: null,
  }),
  backend: z.enum(BACKEND_CHOICES).default('auto'),
})

/**
 * What session.create takes: a spec, and whether it is recorded as a run from the start (the
 * default). An unrecorded session (a compare-live variant) keeps its metrics in memory until
 * runs.save makes it a run, so variants the user leaves without saving leave nothing on disk.
 */
export const SessionCreate = SessionSpec.extend({ record: z.boolean().optional() })

// ---------------------------------------------------------------------------------------------
// Results and event payloads

export const BackendInfo = z.strictObject({ name: z.enum(['cpu', 'webgpu']), reason: z.string() })

export const HelloResult = z.strictObject({
  protocolVersion: z.number().int(),
  generators: z.array(z.strictObject({ name: z.enum(GENERATOR_NAMES), label: z.string(), task: z.enum(TASKS), description: z.string() })),
  /** The bundled real datasets: name, a label, task, size and attribution. */
  datasets: z.array(
    z.strictObject({
      name: z.enum(BUNDLED_DATASETS),
      label: z.string(),
      task: z.enum(TASKS),
      rows: z.number().int(),
      features: z.number().int(),
      classes: z.number().int(),
      description: z.string(),
    }),
  ),
  activations: z.array(z.enum(ACTIVATION_NAMES)),
  initializers: z.array(z.enum(INIT_NAMES)),
  limits: z.strictObject({
    maxHiddenLayers: z.number(),
    maxWidth: z.number(),
    maxSamples: z.number(),
    maxBatchSize: z.number(),
    maxStepsPerRequest: z.number(),
    maxSessions: z.number(),
  }),
})

export const LayerInfo = z.strictObject({
  name: z.string(),
  inFeatures: z.number().int(),
  outFeatures: z.number().int(),
  activation: z.enum(ACTIVATION_NAMES),
})

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
  loss: z.enum(LOSSES),
  task: z.enum(TASKS),
  inputFeatures: z.number().int(),
  outputSize: z.number().int(),
  /** The model's input columns (after featurisation) and, for classification, the class names. */
  featureNames: z.array(z.string()),
  classNames: z.array(z.string()).nullable(),
  /** Whether the raw inputs are 2-D (a decision boundary can be drawn). */
  planar: z.boolean(),
  /** [height, width] when each row is the pixels of an image (sample grid, saliency gallery); else null. */
  imageShape: z.tuple([z.number().int(), z.number().int()]).nullable().optional(),
  /** The run this session records into (null when the data directory cannot be written). */
  runId: RunId.nullable().optional(),
})

export const MetricsBatch = z.strictObject({
  sessionId,
  /** Every training step since the last batch: step numbers and their minibatch (data) losses. */
  steps: z.array(z.number().int()),
  trainLoss: z.array(z.number()),
  epoch: z.number().int(),
  evals: z.array(EvalPoint),
  /** Per-layer statistics, sampled (at most one sample per batch), layers in model order. */
  layers: z.array(LayerSample),
  stepsPerSecond: z.number(),
  /** The learning rate in effect at the batch's last step (after the schedule). */
  lr: z.number(),
  /**
   * Serve mode: batches of this session the server did not send to this client before this one,
   * because it read too slowly (its chart has a gap; the run's metrics log has every step).
   */
  droppedBatches: z.number().int().min(1).optional(),
})

// ---------------------------------------------------------------------------------------------
// Requests: kind → payload schema and result schema

const Empty = z.strictObject({})
const SessionRef = z.strictObject({ sessionId })

export const REQUESTS = {
  'host.hello': { payload: Empty, result: HelloResult },
  'dataset.preview': { payload: DataSpec, result: DatasetPreview },
  'session.create': { payload: SessionCreate, result: SessionInfo },
  'session.start': { payload: SessionRef, result: SessionState },
  'session.pause': { payload: SessionRef, result: SessionState },
  'session.step': {
    payload: z.strictObject({ sessionId, steps: z.number().int().min(1).max(LIMITS.maxStepsPerRequest).default(1) }),
    result: SessionState,
  },
  'session.reset': { payload: SessionRef, result: SessionState },
  'session.update': {
    payload: z.strictObject({
      sessionId,
      optimizer: OptimizerPatch.optional(),
      batchSize: z.number().int().min(1).max(LIMITS.maxBatchSize).optional(),
      evalEvery: z.number().int().min(1).max(100_000).optional(),
      schedule: ScheduleSpec.optional(),
      l1: penalty.optional(),
      l2: penalty.optional(),
      clipNorm: clipNorm.optional(),
      stop: StopSpec.optional(),
      alarms: AlarmSpec.optional(),
      maxStepsPerSecond: maxStepsPerSecond.optional(),
    }),
    result: SessionState,
  },
  'session.dispose': { payload: SessionRef, result: z.strictObject({ sessionId }) },
  /** A session's info (e.g. one opened from a run), so a view can adopt it. */
  'session.info': { payload: SessionRef, result: SessionInfo },
  /** Show a session another tab has: this client holds it too (disposed only when every holder let go). */
  'session.attach': { payload: SessionRef, result: SessionInfo },
  // Seeing backprop: scalar explainer, graph/network snapshots, neuron maps, gradient checks.
  ...INSPECT_REQUESTS,
  // Runs on disk: list, rename, tag, delete/restore, reopen (resume, time travel), export, import.
  ...RUNS_REQUESTS,
  // The user's own files (CSV, IDX), uploaded in chunks and stored by content id.
  ...DATA_REQUESTS,
  // The studio's inspection panels: histograms, decision boundary, predicted vs actual.
  ...STUDIO_REQUESTS,
  // Runs from outside: PyTorch loops reporting through studio_watch.py.
  ...WATCH_REQUESTS,
  /**
   * A PyTorch state dict (the exported layouts, or layers.<i>.weight [in, out]) as a new run: the
   * architecture comes from the tensors' names and shapes, the rest (data, optimiser, training
   * settings, the activation unless given) from `base`, usually the studio's current setup. A
   * file that does not fit is refused with every difference listed; nothing is created then.
   */
  'runs.import': {
    payload: z.strictObject({
      base: SessionSpec,
      activation: z.enum(ACTIVATION_NAMES).optional(),
      name: z.string().trim().min(1).max(120).optional(),
      safetensorsBase64: z.string().max(1_000_000),
    }),
    result: z.strictObject({ sessionId, runId: RunId.nullable(), hidden: z.array(z.number().int()), loaded: z.array(z.string()) }),
  },
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
  /**
   * Serve mode, sent by the server when a connection asked to be resumable: the key to present
   * (?resume=) after a reload, and whether this connection took over an earlier one's sessions.
   */
  'client.resume': z.strictObject({ key: z.string().regex(/^[A-Za-z0-9_-]{43}$/), resumed: z.boolean() }),
  ...STUDIO_EVENTS,
  ...RUNS_EVENTS,
  /** New points of an external run (studio_watch.py), for every client; alarms already checked. */
  'watch.metrics': z.strictObject({
    runId: RunId,
    name: z.string(),
    layerNames: z.array(z.string()),
    batch: MetricsBatch.omit({ sessionId: true }),
    alarms: z.array(STUDIO_EVENTS['train.alarm'].omit({ sessionId: true, paused: true })),
    /** The run has ended (the script closed its StudioWatch). */
    final: z.boolean(),
  }),
} as const
export type EventKind = keyof typeof EVENTS
export type EventPayload<K extends EventKind> = z.output<(typeof EVENTS)[K]>

// ---------------------------------------------------------------------------------------------
// Envelopes

export const ERROR_CODES = [
  'invalid_message',
  'version_mismatch',
  'unknown_kind',
  'invalid_payload',
  'not_found',
  'limit',
  'engine',
  'backend_unavailable',
  'host_crashed',
  'internal',
] as const
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

const Envelope = z.strictObject({
  v: z.number(),
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  kind: z.string().max(64),
  payload: z.unknown(),
})

export type Parsed<T> = { ok: true; value: T } | { ok: false; id: number | null; error: ProtocolError }

/** Describe zod issues in one line a user can act on: `model.hidden[2]: Too big: expected …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map(
      (i) =>
        `${
          i.path.length
            ? i.path
                .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
                .join('')
                .replace(/^\./, '') + ': '
            : ''
        }${i.message}`,
    )
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
  if (v !== PROTOCOL_VERSION)
    return {
      ok: false,
      id,
      error: { code: 'version_mismatch', message: `protocol version ${v} is not supported (this host speaks ${PROTOCOL_VERSION})` },
    }
  if (!Object.hasOwn(REQUESTS, kind)) return { ok: false, id, error: { code: 'unknown_kind', message: `unknown request kind "${kind}"` } }
  const k = kind as RequestKind
  const p = REQUESTS[k].payload.safeParse(payload)
  if (!p.success) return { ok: false, id, error: { code: 'invalid_payload', message: `${k}: ${describeIssues(p.error)}` } }
  return { ok: true, value: { id, kind: k, payload: p.data } }
}

/** Validate a reply to request `kind` (the renderer checks what comes back, too). */
export function parseReply<K extends RequestKind>(
  kind: K,
  raw: unknown,
): { ok: true; result: RequestResult<K> } | { ok: false; error: ProtocolError } {
  const r = z
    .union([
      z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.number(), ok: z.literal(true), result: z.unknown() }),
      z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.number(), ok: z.literal(false), error: ProtocolError }),
    ])
    .safeParse(raw)
  if (!r.success)
    return { ok: false, error: { code: 'invalid_message', message: `malformed reply to ${kind}: ${describeIssues(r.error)}` } }
  if (!r.data.ok) return { ok: false, error: r.data.error }
  const res = REQUESTS[kind].result.safeParse(r.data.result)
  if (!res.success)
    return {
      ok: false,
      error: { code: 'invalid_message', message: `reply to ${kind} does not match the protocol: ${describeIssues(res.error)}` },
    }
  return { ok: true, result: res.data as RequestResult<K> }
}

/** Validate an event from the host. */
export function parseEvent(raw: unknown): Parsed<{ event: EventKind; payload: unknown }> {
  const env = z.strictObject({ v: z.literal(PROTOCOL_VERSION), event: z.string(), payload: z.unknown() }).safeParse(raw)
  if (!env.success)
    return { ok: false, id: null, error: { code: 'invalid_message', message: `malformed event: ${describeIssues(env.error)}` } }
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
