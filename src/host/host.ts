// The engine host: validates every request against the protocol, dispatches it, and runs the
// training loop for all sessions in one thread. Running sessions take turns (round robin), each
// training for one time slice before the loop yields (setImmediate), so a pause or any other
// request waits at most one slice. A session paced by maxStepsPerSecond is skipped until it is due;
// when no running session is due the loop sleeps (a timer) instead of spinning. A WebGPU session's
// slice awaits the device: it runs beside the loop, the session is busy (skipped) until it ends,
// and reads of its weights (inspections, exports) wait for it on the session's queue.
// `handle` never throws: every failure is a typed error reply.
import { performance } from 'node:perf_hooks'
import { data, nn } from '../engine'
import {
  ACTIVATION_NAMES,
  errorReply,
  eventMessage,
  INIT_NAMES,
  LIMITS,
  okReply,
  parseRequest,
  PROTOCOL_VERSION,
  type EventMessage,
  type ParsedPayload,
  type ReplyMessage,
  type RequestKind,
  type RequestResult,
} from '../shared/protocol'
import type { ReleaseResult, ShutdownResult } from '../shared/host-control'
import { asClient, currentClient, Ownership } from './clients'
import { HostError, toProtocolError } from './errors'
import { chooseBackend } from './gpu'
import { describeSession } from './describe-session'
import { gradcheckOf, graphOf } from './inspect-model'
import { networkOf, neuronMapOf } from './inspect-network'
import { evaluateScalar } from './inspect-scalar'
import { boundaryOf, histogramsOf, predictionsOf } from './inspect-studio'
import { runsHandlers, startRun, type RunsHost } from './runs/handlers'
import type { RecorderOptions } from './runs/recorder'
import { runsEvents, type RunsEventsOptions } from './runs/runs-events'
import { RunStore, type RunStoreOptions } from './runs/store'
import { MemoryBudget, sessionEstimate, type MemoryBudgetOptions } from './budget'
import { previewData } from './data-source'
import { listBundled } from './datasets/bundled'
import { filesHost, type FilesHost } from './datasets/handlers'
import type { SessionSpecOut } from './setup'
import { TrainingSession } from './session'

export interface EngineHostOptions {
  /** How often metrics batches are sent while training, in ms. Default 50. */
  flushMs?: number
  /** How long one session trains before the loop yields to requests and other sessions. Default 15. */
  sliceMs?: number
  /**
   * Floating-point operations in one uninterrupted piece of a CPU step or evaluation; bigger ones
   * are split across slices (work-budget.ts). Tests force splits on small models with a small one.
   */
  chunkFlops?: number
  /** Where runs are saved (one folder per run); without it nothing is saved. */
  dataDir?: string
  /** Checkpoint cadence and thinning (tests use small numbers). */
  checkpoints?: RecorderOptions
  /** Run store settings (log size limit, write retry backoff; tests inject filesystem failures). */
  runStore?: RunStoreOptions
  /** How often runs.changed may be sent. */
  runEvents?: RunsEventsOptions
  /** Memory budgets per session and for all sessions (budget.ts); default: from the machine's memory. */
  memoryBudget?: MemoryBudgetOptions
}

type Handlers = { [K in RequestKind]: (payload: ParsedPayload<K>) => RequestResult<K> | Promise<RequestResult<K>> }

/**
 * The longest sleep the loop takes before looking again: setTimeout fires at once past 2^31−1 ms,
 * so a very slow pace (maxStepsPerSecond 1e-7: a step every 116 days) sleeps in hours, re-checking.
 */
export const MAX_WAKE_MS = 3_600_000

/** The id a reply gets when the request's own id could not be read (ids are never negative). */
export const UNKNOWN_REQUEST_ID = -1

/** Preview points are subsampled to about this many, enough for a scatter plot. */
export const PREVIEW_MAX_POINTS = 2000

export class EngineHost {
  private readonly sessions = new Map<string, TrainingSession>()
  /** Which client owns each session (see clients.ts); released clients' sessions are disposed. */
  private readonly ownership = new Ownership()
  /** Creates still in flight (awaiting the backend), so concurrent creates respect maxSessions. */
  private reserved = 0
  private nextId = 1
  private cursor = 0
  private timer: NodeJS.Immediate | null = null
  /** The loop's sleep while every running session waits for its paced next step. */
  private wake: NodeJS.Timeout | null = null
  private disposed = false
  private readonly flushMs: number
  private readonly sliceMs: number
  private readonly chunkFlops: number | undefined
  private readonly runs: RunsHost
  private readonly stopRunEvents: () => void
  /** Uploaded files (in <dataDir>/files, or in memory without a data directory). */
  private readonly files: FilesHost
  /** What open sessions may need in memory; every session reserves its estimate before its model is built. */
  private readonly budget: MemoryBudget

  constructor(
    /** `owner`: the client whose session the event is about, when a client owns it. */
    private readonly emit: (msg: EventMessage, owner?: string) => void,
    options: EngineHostOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 50
    this.sliceMs = options.sliceMs ?? 15
    this.chunkFlops = options.chunkFlops
    this.files = filesHost(options.dataDir)
    this.runs = {
      files: this.files.store,
      store: options.dataDir === undefined ? null : new RunStore(options.dataDir, options.runStore),
      recorderOptions: options.checkpoints ?? {},
      // (Read at use: the budget is made below.)
      sessionBytes: () => this.budget.perSession,
      sessions: () => this.sessions.values(),
      session: (id) => this.session(id),
      createSession: (spec, backend) => this.createSession(spec, backend),
      disposeSession: (id) => this.disposeSession(id),
    }
    this.budget = new MemoryBudget(options.memoryBudget)
    this.stopRunEvents = runsEvents(this.runs, (msg) => this.post(msg), options.runEvents)
  }

  /** `client`: who sent it, as the main side tagged it (null: untagged, owns nothing). */
  async handle(raw: unknown, client: string | null = null): Promise<ReplyMessage> {
    let id = UNKNOWN_REQUEST_ID
    try {
      const parsed = parseRequest(raw)
      if (!parsed.ok) return errorReply(parsed.id ?? UNKNOWN_REQUEST_ID, parsed.error.code, parsed.error.message)
      id = parsed.value.id
      if (this.disposed) return errorReply(id, 'host_crashed', 'the engine host has been shut down')
      const handler = this.handlers[parsed.value.kind] as (p: unknown) => unknown
      const result = await asClient(client, () => handler(parsed.value.payload))
      this.schedule()
      return okReply(id, result)
    } catch (e) {
      this.schedule()
      const err = toProtocolError(e)
      return errorReply(id, err.code, err.message)
    }
  }

  /** Stop training and drop every session (the worker is shutting down). */
  dispose(): void {
    this.disposed = true
    if (this.timer) clearImmediate(this.timer)
    if (this.wake) clearTimeout(this.wake)
    this.timer = null
    this.wake = null
    this.stopRunEvents()
    for (const s of this.sessions.values()) s.dispose()
    this.sessions.clear()
  }

  /** The client left: dispose every session it owns (device ones once saved) and drop its uploads. */
  async release(client: string): Promise<ReleaseResult> {
    const ids = this.ownership.release(client)
    const device = ids.map((id) => this.sessions.get(id)).filter((s) => s?.onDevice)
    for (const id of ids) if (this.sessions.has(id)) this.disposeSession(id)
    const uploads = this.files.uploads.releaseClient(client)
    await Promise.all(device.map((s) => s?.queued(() => undefined)))
    return { sessions: ids.length, uploads }
  }

  /**
   * An orderly stop: every session flushes its metrics, writes a final checkpoint and closes its
   * run (a device session after its queue), then the host refuses everything.
   */
  async shutdown(): Promise<ShutdownResult> {
    const list = [...this.sessions.values()]
    this.disposed = true
    for (const s of list) {
      if (s.onDevice) await s.queued(() => s.pause())
      if (this.sessions.has(s.id)) this.disposeSession(s.id)
      if (s.onDevice) await s.queued(() => undefined)
    }
    this.dispose()
    return { sessions: list.length }
  }

  private async createSession(spec: SessionSpecOut, choice: SessionSpecOut['backend']): Promise<TrainingSession> {
    // Owned from the first moment: a client released while this create awaits gets nothing.
    const owner = currentClient()
    const gone = (): HostError => new HostError('not_found', 'the client that asked for this session has disconnected')
    if (this.ownership.isReleased(owner)) throw gone()
    if (this.sessions.size + this.reserved >= LIMITS.maxSessions) {
      throw new HostError('limit', `at most ${LIMITS.maxSessions} sessions can be open at once; dispose one first`)
    }
    this.reserved++
    try {
      const { info: backend, backend: device } = await chooseBackend(choice)
      if (this.disposed) throw new HostError('host_crashed', 'the engine host shut down while the session was being created')
      if (this.ownership.isReleased(owner)) throw gone()
      // The id is used up only by a session that was built (a refused spec changes nothing).
      const id = `s${this.nextId}`
      const session = new TrainingSession(id, structuredClone(spec), backend, {
        emitState: (state) => this.post(eventMessage('session.state', state), owner),
        emitMetrics: (batch) => this.post(eventMessage('train.metrics', batch), owner),
        emitAlarm: (alarm) => this.post(eventMessage('train.alarm', alarm), owner),
        now: () => performance.now(),
        files: this.files.store,
        admit: (d, plan) => this.budget.reserve(id, sessionEstimate(spec, backend.name === 'webgpu', d, plan, this.chunkFlops), 'this session', spec.optimizer.type),
      }, device, { chunkFlops: this.chunkFlops })
      this.nextId++
      this.sessions.set(id, session)
      this.ownership.add(owner, id)
      return session
    } finally {
      this.reserved--
      // A session refused or failed after its memory was reserved gives it back.
      if (!this.sessions.has(`s${this.nextId}`)) this.budget.release(`s${this.nextId}`)
    }
  }

  private disposeSession(sessionId: string): void {
    this.session(sessionId).dispose()
    this.sessions.delete(sessionId)
    this.budget.release(sessionId)
    this.ownership.remove(sessionId)
  }

  /** A read-only request over a session's weights, current even while a device session trains. */
  private async reading<T>(sessionId: string, fn: (s: TrainingSession) => T | Promise<T>): Promise<T> {
    const s = this.session(sessionId)
    return s.reading(() => fn(s))
  }

  private session(sessionId: string): TrainingSession {
    const s = this.sessions.get(sessionId)
    if (!s) throw new HostError('not_found', `no session "${sessionId}" (it was never created or has been disposed)`)
    return s
  }

  private readonly handlers: Handlers = {
    'host.hello': () => ({
      protocolVersion: PROTOCOL_VERSION,
      generators: data.listGenerators().map(({ name, label, task, description }) => ({ name, label, task, description })),
      datasets: listBundled(),
      activations: nn.ACTIVATIONS.filter((a) => ACTIVATION_NAMES.includes(a)),
      initializers: nn.INITIALIZERS.filter((i) => INIT_NAMES.includes(i)),
      limits: { ...LIMITS },
    }),

    'dataset.preview': (spec) => previewData(spec, PREVIEW_MAX_POINTS, this.files.store),

    'session.create': async (spec) => {
      const session = await this.createSession(spec, spec.backend)
      // Every session is a run: its config and the untrained weights are saved from the start.
      if (startRun(this.runs, session)) session.checkpoint()
      return session.info()
    },

    'session.start': ({ sessionId }) => this.session(sessionId).start(),
    'session.pause': ({ sessionId }) => {
      const s = this.session(sessionId)
      // A device session pauses between steps: after its running slice (at most one, as on the CPU).
      return s.onDevice ? s.queued(() => s.pause()) : s.pause()
    },
    'session.step': ({ sessionId, steps }) => {
      const done = this.session(sessionId).runSteps(steps)
      this.schedule()
      return done
    },
    'session.reset': ({ sessionId }) => this.session(sessionId).reset(),
    'session.update': (payload) => {
      const s = this.session(payload.sessionId)
      // A bigger batch needs more memory for activations: sized before anything changes.
      if (payload.batchSize !== undefined) {
        const spec = { ...s.spec, train: { ...s.spec.train, batchSize: payload.batchSize } }
        this.budget.reserve(s.id, sessionEstimate(spec, s.onDevice, s.trainer.data, s.trainer.plan, this.chunkFlops), `session.update: batchSize ${payload.batchSize}`, spec.optimizer.type)
      }
      return s.update(payload)
    },
    'session.info': ({ sessionId }) => this.session(sessionId).info(),
    'session.dispose': async ({ sessionId }) => {
      const s = this.session(sessionId)
      this.disposeSession(sessionId)
      // A device session's last checkpoint is read back from the GPU first: answer when it is saved.
      if (s.onDevice) await s.queued(() => undefined)
      return { sessionId }
    },

    // Seeing backprop. Read-only for the session whatever its status: they work on copies of the
    // weights (or without a graph) and run between training slices, so a run continues unchanged.
    'scalar.evaluate': ({ source }) => evaluateScalar(source),
    'session.graph': ({ sessionId, batchSize }) => this.reading(sessionId, (s) => graphOf(s, batchSize)),
    'session.network': ({ sessionId, maxEdgesPerLayer }) => this.reading(sessionId, (s) => networkOf(s, maxEdgesPerLayer)),
    'session.neuronMap': ({ sessionId, layer, neuron, resolution }) => this.reading(sessionId, (s) => neuronMapOf(s, layer, neuron, resolution)),
    'session.gradcheck': ({ sessionId, param, maxElements }) => this.reading(sessionId, (s) => gradcheckOf(s, param, maxElements)),

    // Runs on disk (runs/handlers.ts).
    ...runsHandlers(() => this.runs),

    // The user's files (datasets/handlers.ts).
    'files.upload': (p) => this.files.handlers['files.upload'](p),
    'files.info': (p) => this.files.handlers['files.info'](p),

    // The studio's inspection panels (inspect-studio.ts): read-only like the ones above.
    'session.histograms': ({ sessionId, bins, range }) => this.reading(sessionId, (s) => histogramsOf(s, bins, range)),
    'session.boundary': ({ sessionId, resolution }) => this.reading(sessionId, (s) => boundaryOf(s, resolution)),
    'session.predictions': ({ sessionId, split, max }) => this.reading(sessionId, (s) => predictionsOf(s, split, max)),
    // Shapes and names only, so it does not wait for a device session's queue.
    'session.describe': ({ sessionId }) => describeSession(this.session(sessionId)),
  }

  /** Make sure the loop runs while any session is running: now if one is due, else when one will be. */
  private schedule(): void {
    if (this.timer || this.disposed) return
    if (this.wake) clearTimeout(this.wake)
    this.wake = null
    const now = performance.now()
    let next = Infinity
    for (const s of this.sessions.values()) if (s.status === 'running' && !s.busy) next = Math.min(next, s.wakeAt(this.flushMs))
    if (next <= now) this.timer = setImmediate(() => this.tick())
    else if (next < Infinity) {
      this.wake = setTimeout(() => {
        this.wake = null
        this.schedule()
      }, Math.min(Math.ceil(next - now), MAX_WAKE_MS))
    }
  }

  /** One slice for the next running session in turn, then flushes that are due, then yield. */
  private tick(): void {
    this.timer = null
    try {
      const list = [...this.sessions.values()]
      for (let k = 0; k < list.length; k++) {
        const s = list[(this.cursor + k) % list.length]
        const now = performance.now()
        if (s.status !== 'running' || s.busy || s.nextStepAt() > now) continue
        this.cursor = (this.cursor + k + 1) % list.length
        if (s.onDevice) this.runOnDevice(s, now + this.sliceMs)
        else s.runSlice(Math.min(now + this.sliceMs, s.metrics.lastFlushAt + this.flushMs))
        break
      }
      const now = performance.now()
      for (const s of this.sessions.values()) s.maybeFlush(now, this.flushMs)
    } catch (e) {
      // runSlice contains a session's own failures; anything else is logged, and the loop goes on.
      console.error('engine host: training loop failure:', e)
    }
    this.schedule()
  }

  /**
   * Start a device session's slice: it awaits the GPU, so the loop goes on (requests, other
   * sessions) while it runs; the session is busy and skipped until it ends, then it is due again.
   */
  private runOnDevice(s: TrainingSession, deadline: number): void {
    s.busy = true
    void s
      .queued(() => s.runSlice(deadline))
      .catch((e) => console.error('engine host: device slice failure:', e))
      .finally(() => {
        s.busy = false
        s.maybeFlush(performance.now(), this.flushMs)
        this.schedule()
      })
  }

  /** Events go out through the owner's callback; a failing callback must not stop training. */
  private post(msg: EventMessage, owner: string | null = null): void {
    try {
      this.emit(msg, owner ?? undefined)
    } catch (e) {
      console.error('engine host: could not emit an event:', e)
    }
  }
}
