// Owns the engine host worker for one main side (Electron or serve mode): relays requests under
// its own ids (clients may reuse theirs), tagged with the client they came from, fans out events
// (with the client that owns their session), replaces a crashed worker, and stops it in order:
// shutdown() lets the host save every run before the worker is terminated.
// No `electron` import: serve mode and vitest load this module in plain Node.
import type { Worker } from 'node:worker_threads'
import { errorReply, eventMessage, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { OWNER_FIELD, type ControlMessage, type HostControl, type TaggedRequest } from '../shared/host-control'

export interface EngineProcessOptions {
  /** Crashes closer together than this count as one crash loop. Default 30 s. */
  stableAfterMs?: number
  /** Consecutive crashes (each within stableAfterMs of its start) before giving up. Default 5. */
  maxRestarts?: number
  /** First restart delay; doubles per consecutive crash, capped at maxBackoffMs. Default 100 ms. */
  backoffMs?: number
  maxBackoffMs?: number
  log?: (line: string) => void
}

interface Pending {
  callerId: number
  resolve: (reply: ReplyMessage) => void
}

/** `owner`: the client whose session the event is about (absent for host-wide events). */
type EventListener = (msg: EventMessage, owner?: string) => void

/** How long shutdown() waits for the host to save its runs before terminating it anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000

export class EngineProcess {
  private worker: Worker | undefined
  private startedAt = 0
  private readonly pending = new Map<number, Pending>()
  /** Requests that arrived while a replacement worker was being started. */
  private queued: { message: Outbound; entry: Pending }[] = []
  private readonly listeners = new Set<EventListener>()
  private nextId = 1
  private crashes = 0
  private restartTimer: NodeJS.Timeout | undefined
  private gaveUp = false
  private disposed = false
  private lastError = ''
  private readonly opts: Required<EngineProcessOptions>

  constructor(
    private readonly createWorker: () => Worker,
    options: EngineProcessOptions = {},
  ) {
    this.opts = {
      stableAfterMs: options.stableAfterMs ?? 30_000,
      maxRestarts: options.maxRestarts ?? 5,
      backoffMs: options.backoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5_000,
      log: options.log ?? ((line) => console.error(`[engine] ${line}`)),
    }
    this.start()
  }

  /**
   * Forward one request (already validated by the caller, or validated by the host itself) and
   * resolve with its reply under the caller's id. Never rejects.
   */
  request(raw: unknown, client: string | null = null): Promise<ReplyMessage> {
    const callerId = idOf(raw)
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return Promise.resolve(errorReply(callerId, 'invalid_message', 'a request must be a JSON object'))
    }
    if (this.disposed) return Promise.resolve(errorReply(callerId, 'host_crashed', 'the engine host has been shut down'))
    if (this.gaveUp) return Promise.resolve(errorReply(callerId, 'host_crashed', this.gaveUpMessage()))
    return new Promise((resolve) => {
      this.enqueue({ channel: 'request', client, message: { ...(raw as Record<string, unknown>) } }, { callerId, resolve })
    })
  }

  /**
   * The client left: the host disposes its sessions (even ones whose create is still running) and
   * drops its uploads. Sent in order behind that client's requests, so none of them slips past.
   */
  release(client: string): Promise<ReplyMessage> {
    return this.control({ op: 'release', client })
  }

  /**
   * An orderly stop: the host saves every run (final checkpoint, status no longer live), then the
   * worker is terminated. A host that does not answer within `timeoutMs` is terminated anyway.
   */
  async shutdown(timeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<void> {
    if (this.disposed) return
    if (this.worker) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
      const r = await Promise.race([this.control({ op: 'shutdown' }), late])
      clearTimeout(timer)
      if (r === 'late') this.opts.log(`the engine host did not save its runs within ${timeoutMs} ms; stopping it anyway`)
      else if (!r.ok) this.opts.log(`the engine host could not save every run: ${r.error.message}`)
    }
    await this.dispose()
  }

  /** Subscribe to host events (metrics, state, host.status). Returns the unsubscribe function. */
  onEvent(cb: EventListener): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** Stop the worker for good; pending requests are answered, later ones refused. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    clearTimeout(this.restartTimer)
    const worker = this.worker
    this.worker = undefined
    this.failAll('the engine host was shut down')
    this.listeners.clear()
    if (worker) await worker.terminate()
  }

  private control(control: HostControl): Promise<ReplyMessage> {
    if (this.disposed || this.gaveUp) return Promise.resolve(errorReply(0, 'host_crashed', 'the engine host is not running'))
    return new Promise((resolve) => this.enqueue({ channel: 'control', id: 0, control }, { callerId: 0, resolve }))
  }

  private enqueue(message: Outbound, entry: Pending): void {
    if (this.worker) this.send(message, entry)
    else this.queued.push({ message, entry })
  }

  private send(message: Outbound, entry: Pending): void {
    const hostId = this.nextId++
    this.pending.set(hostId, entry)
    try {
      this.worker?.postMessage(
        message.channel === 'control'
          ? { ...message, id: hostId }
          : { ...message, message: { ...(message.message as object), id: hostId } },
      )
    } catch (err) {
      // DataCloneError: something in the message cannot cross a thread boundary.
      this.pending.delete(hostId)
      entry.resolve(errorReply(entry.callerId, 'invalid_message', `request could not be sent to the engine host: ${errorText(err)}`))
    }
  }

  private start(): void {
    let worker: Worker
    try {
      worker = this.createWorker()
    } catch (err) {
      this.lastError = errorText(err)
      this.onExit(undefined, `could not start: ${this.lastError}`)
      return
    }
    this.worker = worker
    this.startedAt = Date.now()
    this.lastError = ''
    worker.on('message', (msg: unknown) => {
      if (this.worker === worker) this.onMessage(msg)
    })
    worker.on('error', (err: unknown) => {
      if (this.worker === worker) this.lastError = errorText(err)
    })
    worker.on('exit', (code: number) => {
      if (this.worker === worker) this.onExit(worker, this.lastError || `exited with code ${code}`)
    })
    const queued = this.queued
    this.queued = []
    for (const { message, entry } of queued) this.send(message, entry)
  }

  private onMessage(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return
    const m = msg as Record<string, unknown>
    if (typeof m['id'] === 'number' && typeof m['ok'] === 'boolean') {
      const entry = this.pending.get(m['id'])
      if (!entry) return
      this.pending.delete(m['id'])
      entry.resolve({ ...(m as unknown as ReplyMessage), id: entry.callerId })
    } else if (typeof m['event'] === 'string') {
      const { [OWNER_FIELD]: owner, ...event } = m
      this.emit(event as unknown as EventMessage, typeof owner === 'string' ? owner : undefined)
    } else {
      this.opts.log(`ignored a message from the engine host that is neither a reply nor an event`)
    }
  }

  private onExit(worker: Worker | undefined, reason: string): void {
    if (this.disposed) return
    if (worker) this.worker = undefined
    this.lastError = reason
    const lived = worker ? Date.now() - this.startedAt : 0
    this.crashes = lived >= this.opts.stableAfterMs ? 1 : this.crashes + 1
    this.failAll(`the engine host crashed (${reason}); its sessions are gone`)
    if (this.crashes > this.opts.maxRestarts) {
      this.gaveUp = true
      this.opts.log(`crashed ${this.crashes} times in a row (${reason}); not restarting`)
      for (const { entry } of this.queued) entry.resolve(errorReply(entry.callerId, 'host_crashed', this.gaveUpMessage()))
      this.queued = []
      this.emit(eventMessage('host.status', { status: 'crashed', message: this.gaveUpMessage() }))
      return
    }
    const delay = Math.min(this.opts.backoffMs * 2 ** (this.crashes - 1), this.opts.maxBackoffMs)
    this.opts.log(`crashed (${reason}); restarting in ${delay} ms`)
    this.emit(
      eventMessage('host.status', {
        status: 'restarted',
        message: `The engine host crashed (${reason}) and is being restarted; its sessions are gone.`,
      }),
    )
    this.restartTimer = setTimeout(() => this.start(), delay)
  }

  private failAll(message: string): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const entry of pending) entry.resolve(errorReply(entry.callerId, 'host_crashed', message))
    if (this.disposed) {
      for (const { entry } of this.queued) entry.resolve(errorReply(entry.callerId, 'host_crashed', message))
      this.queued = []
    }
  }

  private emit(msg: EventMessage, owner?: string): void {
    for (const cb of this.listeners) {
      try {
        cb(msg, owner)
      } catch (err) {
        this.opts.log(`an event listener threw: ${errorText(err)}`)
      }
    }
  }

  private gaveUpMessage(): string {
    return `the engine host crashed ${this.crashes} times in a row and was not restarted (last: ${this.lastError}); restart Backprop Studio`
  }
}

type Outbound = TaggedRequest | ControlMessage

/** The caller's id when it is a usable one, else 0 (the protocol's "no id"). */
function idOf(raw: unknown): number {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : 0
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
