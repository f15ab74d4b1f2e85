// The host's session table: the open sessions by id, which client owns each (clients.ts), creates
// still in flight (counted against maxSessions), id allocation and the memory budget's
// reservations. Sessions are made and disposed only here, so the table, the owners and the budget
// change together; a client's release and an orderly shutdown dispose through it too.
import { performance } from 'node:perf_hooks'
import { eventMessage, LIMITS, type EventMessage } from '../../shared/protocol'
import { MemoryBudget, sessionEstimate } from '../budget'
import { currentClient, Ownership } from '../clients'
import type { FileStore } from '../datasets/store'
import { HostError } from '../errors'
import { releaseDeferredOptimizer } from '../runs/deferred-optimizer'
import { chooseBackend } from '../gpu'
import { TrainingSession } from '../session'
import type { SessionSpecOut } from '../setup'

export interface SessionRegistryOptions {
  /** The host's uploaded files, which CSV and IDX specs name. */
  files: FileStore
  /** What open sessions may need in memory; every session reserves its estimate before its model is built. */
  budget: MemoryBudget
  /** The host's work per chunk (work-budget.ts), passed to sessions and their estimates. */
  chunkFlops?: number
  /** Events about a session, for its owner (null: no client owns it). Must not throw. */
  post(msg: EventMessage, owner: string | null): void
  /** How a backend choice is resolved (gpu.ts); tests hold a create in flight with their own. */
  chooseBackend?: typeof chooseBackend
}

export class SessionRegistry {
  private readonly sessions = new Map<string, TrainingSession>()
  /** Which client owns each session (see clients.ts); released clients' sessions are disposed. */
  private readonly ownership = new Ownership()
  /** Creates still in flight (awaiting the backend), so concurrent creates respect maxSessions. */
  private reserved = 0
  private nextId = 1
  /** Set by shutdown and disposeAll: a create still in flight is refused, and the host refuses requests. */
  closed = false
  private readonly files: FileStore
  private readonly budget: MemoryBudget
  private readonly chunkFlops: number | undefined
  private readonly post: SessionRegistryOptions['post']
  private readonly choose: typeof chooseBackend

  constructor(options: SessionRegistryOptions) {
    this.files = options.files
    this.budget = options.budget
    this.chunkFlops = options.chunkFlops
    this.post = options.post
    this.choose = options.chooseBackend ?? chooseBackend
  }

  /** The open sessions, by id (read-only: only this class adds and removes). */
  get table(): ReadonlyMap<string, TrainingSession> {
    return this.sessions
  }

  get size(): number {
    return this.sessions.size
  }

  values(): IterableIterator<TrainingSession> {
    return this.sessions.values()
  }

  [Symbol.iterator](): IterableIterator<TrainingSession> {
    return this.sessions.values()
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId)
  }

  /** The most bytes one session may need (budget.ts): a checkpoint bigger than this is not read. */
  get sessionBytes(): number {
    return this.budget.perSession
  }

  /** The open session `sessionId`, or a not_found error. */
  get(sessionId: string): TrainingSession {
    const s = this.sessions.get(sessionId)
    if (!s) throw new HostError('not_found', `no session "${sessionId}" (it was never created or has been disposed)`)
    return s
  }

  /** A read-only request over a session's weights, current even while a device session trains. */
  async reading<T>(sessionId: string, fn: (s: TrainingSession) => T | Promise<T>): Promise<T> {
    const s = this.get(sessionId)
    return s.reading(() => fn(s))
  }

  /** A new session from a spec (not yet recording), owned by the requesting client, counted against maxSessions. */
  async create(spec: SessionSpecOut, choice: SessionSpecOut['backend'], options: { restoring?: boolean } = {}): Promise<TrainingSession> {
    // Owned from the first moment: a client released while this create awaits gets nothing.
    const owner = currentClient()
    const gone = (): HostError => new HostError('not_found', 'the client that asked for this session has disconnected')
    if (this.ownership.isReleased(owner)) throw gone()
    if (this.sessions.size + this.reserved >= LIMITS.maxSessions) {
      throw new HostError('limit', `at most ${LIMITS.maxSessions} sessions can be open at once; dispose one first`)
    }
    this.reserved++
    try {
      const { info: backend, backend: device } = await this.choose(choice)
      if (this.closed) throw new HostError('host_crashed', 'the engine host shut down while the session was being created')
      if (this.ownership.isReleased(owner)) throw gone()
      // The id is used up only by a session that was built (a refused spec changes nothing).
      const id = `s${this.nextId}`
      const session = new TrainingSession(
        id,
        structuredClone(spec),
        backend,
        {
          emitState: (state) => this.post(eventMessage('session.state', state), owner),
          emitMetrics: (batch) => this.post(eventMessage('train.metrics', batch), owner),
          emitAlarm: (alarm) => this.post(eventMessage('train.alarm', alarm), owner),
          now: () => performance.now(),
          files: this.files,
          admit: (d, plan) =>
            this.budget.reserve(
              id,
              sessionEstimate(spec, backend.name === 'webgpu', d, plan, this.chunkFlops),
              'this session',
              spec.optimizer.type,
            ),
        },
        device,
        { chunkFlops: this.chunkFlops, restoring: options.restoring },
      )
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

  /** A bigger batch needs more memory for activations: sized (or refused) before anything changes. */
  reserveBatchSize(s: TrainingSession, batchSize: number): void {
    const spec = { ...s.spec, train: { ...s.spec.train, batchSize } }
    this.budget.reserve(
      s.id,
      sessionEstimate(spec, s.onDevice, s.trainer.data, s.trainer.plan, this.chunkFlops),
      `session.update: batchSize ${batchSize}`,
      spec.optimizer.type,
    )
  }

  /** The requesting client holds the session too (a second tab shows it); not_found when there is none. */
  attach(sessionId: string): TrainingSession {
    const s = this.get(sessionId)
    const client = currentClient()
    if (this.ownership.isReleased(client)) throw new HostError('not_found', 'the client that asked to attach has disconnected')
    this.ownership.add(client, sessionId)
    return s
  }

  /**
   * The requesting client is done with the session: disposed when nobody else holds it, else only
   * this client's hold goes (another tab still shows it). True when it was disposed.
   */
  letGo(sessionId: string): boolean {
    this.get(sessionId)
    const client = currentClient()
    if (client !== null && this.ownership.heldByOthers(sessionId, client)) {
      this.ownership.letGo(client, sessionId)
      return false
    }
    this.dispose(sessionId)
    return true
  }

  /** Dispose one session (its memory and every holder's claim go with it); not_found when there is none. */
  dispose(sessionId: string): void {
    const s = this.get(sessionId)
    s.dispose()
    releaseDeferredOptimizer(s.trainer) // a reopened run's optimiser state, if never read
    this.sessions.delete(sessionId)
    this.budget.release(sessionId)
    this.ownership.remove(sessionId)
  }

  /** The client left: dispose every session only it held (device ones once saved); how many that was. */
  async release(client: string): Promise<number> {
    const ids = this.ownership.release(client)
    const device = ids.map((id) => this.sessions.get(id)).filter((s) => s?.onDevice)
    for (const id of ids) if (this.sessions.has(id)) this.dispose(id)
    await Promise.all(device.map((s) => s?.queued(() => undefined)))
    return ids.length
  }

  /**
   * An orderly stop: every session flushes its metrics, writes a final checkpoint and closes its
   * run (a device session after its queue); from the start, creates in flight are refused.
   * Returns how many sessions were open.
   */
  async shutdown(): Promise<number> {
    const list = [...this.sessions.values()]
    this.closed = true
    for (const s of list) {
      if (s.onDevice) await s.queued(() => s.pause())
      if (this.sessions.has(s.id)) this.dispose(s.id)
      if (s.onDevice) await s.queued(() => undefined)
      await s.saving?.done
    }
    return list.length
  }

  /** Drop every session at once (the worker is going away). */
  disposeAll(): void {
    this.closed = true
    for (const s of this.sessions.values()) {
      s.dispose()
      releaseDeferredOptimizer(s.trainer)
    }
    this.sessions.clear()
  }
}
