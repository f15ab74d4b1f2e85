// The engine host: validates every request against the protocol and dispatches it to its domain's
// handler (handlers/, runs/handlers.ts, datasets/handlers.ts: one table over every request kind),
// as the client that sent it. Sessions live in the registry (sessions/registry.ts) and train in the
// scheduler's loop (sessions/scheduler.ts), all in this one thread; events go out through `emit`.
// `handle` never throws: every failure is a typed error reply.
import { errorReply, okReply, parseRequest, type EventMessage, type ReplyMessage, type RequestKind } from '../shared/protocol'
import type { ReleaseResult, ShutdownResult } from '../shared/host-control'
import { MemoryBudget, type MemoryBudgetOptions } from './budget'
import { asClient } from './clients'
import { dataHandlers, filesHost, type FilesHost } from './datasets/handlers'
import { toProtocolError } from './errors'
import { helloHandlers } from './handlers/hello'
import { inspectHandlers } from './handlers/inspect'
import { INSPECT_TURN_MS } from './inspect-pieces'
import { sessionHandlers } from './handlers/sessions'
import { composeHandlers, type HandlerTable } from './handlers/table'
import { runsHandlers } from './runs/handlers'
import type { RecorderOptions } from './runs/recorder'
import type { RunsHost } from './runs/runs-host'
import { runsEvents, type RunsEventsOptions } from './runs/runs-events'
import { RunStore, type RunStoreOptions } from './runs/store'
import type { TrainingSession } from './session'
import { SessionRegistry } from './sessions/registry'
import { Scheduler } from './sessions/scheduler'
import { watchHandlers } from './watch/handlers'
import { WatchRuns, type WatchRunsOptions } from './watch/watch-runs'

export { PREVIEW_MAX_POINTS } from './datasets/handlers'
export { MAX_WAKE_MS } from './sessions/scheduler'

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
  /**
   * How long an inspection keeps running its next pieces before the loop turns (ms). Default
   * INSPECT_TURN_MS; 0 runs one piece per turn (tests that watch requests interleave).
   */
  inspectTurnMs?: number
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
  /** External runs (studio_watch.py): when a quiet one is saved. */
  watch?: WatchRunsOptions
}

/** The id a reply gets when the request's own id could not be read (ids are never negative). */
export const UNKNOWN_REQUEST_ID = -1

export class EngineHost {
  private readonly registry: SessionRegistry
  /** The registry's table, read-only (tests look sessions up by id). */
  private readonly sessions: ReadonlyMap<string, TrainingSession>
  private readonly scheduler: Scheduler
  private readonly runs: RunsHost
  private readonly watch: WatchRuns
  private readonly stopRunEvents: () => void
  /** Uploaded files (in <dataDir>/files, or in memory without a data directory). */
  private readonly files: FilesHost
  /** Every request kind's handler, from the domains' tables. */
  private readonly handlers: HandlerTable<RequestKind>

  constructor(
    /** `owner`: the client whose session the event is about, when a client owns it. */
    private readonly emit: (msg: EventMessage, owner?: string) => void,
    options: EngineHostOptions = {},
  ) {
    this.files = filesHost(options.dataDir)
    this.registry = new SessionRegistry({
      files: this.files.store,
      budget: new MemoryBudget(options.memoryBudget),
      chunkFlops: options.chunkFlops,
      post: (msg, owner) => this.post(msg, owner),
    })
    this.sessions = this.registry.table
    this.scheduler = new Scheduler(this.registry, { flushMs: options.flushMs ?? 50, sliceMs: options.sliceMs ?? 15 })
    this.runs = {
      store: options.dataDir === undefined ? null : new RunStore(options.dataDir, options.runStore),
      files: this.files.store,
      recorderOptions: options.checkpoints ?? {},
      registry: this.registry,
      watched: (runId) => this.watch.live(runId),
      unwatch: (runId) => this.watch.unwatch(runId),
    }
    this.watch = new WatchRuns(this.runs, (msg) => this.post(msg), options.watch)
    this.handlers = composeHandlers([
      helloHandlers(),
      dataHandlers(this.files),
      sessionHandlers({ registry: this.registry, runs: this.runs, schedule: () => this.scheduler.schedule() }),
      inspectHandlers(this.registry, { turnMs: options.inspectTurnMs ?? INSPECT_TURN_MS }),
      runsHandlers(this.runs),
      watchHandlers(this.runs, this.watch),
    ])
    this.stopRunEvents = runsEvents(this.runs, (msg) => this.post(msg), options.runEvents)
  }

  /** `client`: who sent it, as the main side tagged it (null: untagged, owns nothing). */
  async handle(raw: unknown, client: string | null = null): Promise<ReplyMessage> {
    let id = UNKNOWN_REQUEST_ID
    try {
      const parsed = parseRequest(raw)
      if (!parsed.ok) return errorReply(parsed.id ?? UNKNOWN_REQUEST_ID, parsed.error.code, parsed.error.message)
      id = parsed.value.id
      if (this.registry.closed) return errorReply(id, 'host_crashed', 'the engine host has been shut down')
      const handler = this.handlers[parsed.value.kind] as (p: unknown) => unknown
      const result = await asClient(client, () => handler(parsed.value.payload))
      this.scheduler.schedule()
      return okReply(id, result)
    } catch (e) {
      this.scheduler.schedule()
      const err = toProtocolError(e)
      return errorReply(id, err.code, err.message)
    }
  }

  /** Stop training and drop every session (the worker is shutting down). */
  dispose(): void {
    this.scheduler.stop()
    this.stopRunEvents()
    this.watch.dispose()
    this.registry.disposeAll()
  }

  /** The client left: dispose every session it owns (device ones once saved) and drop its uploads. */
  async release(client: string): Promise<ReleaseResult> {
    const sessions = this.registry.release(client)
    const uploads = this.files.uploads.releaseClient(client)
    return { sessions: await sessions, uploads }
  }

  /**
   * An orderly stop: every session flushes its metrics, writes a final checkpoint and closes its
   * run (a device session after its queue), then the host refuses everything.
   */
  async shutdown(): Promise<ShutdownResult> {
    const sessions = await this.registry.shutdown()
    this.dispose()
    return { sessions }
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
