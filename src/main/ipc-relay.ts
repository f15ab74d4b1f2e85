// The Electron relay between the renderer and the engine host, kept free of `electron` imports
// so it can be tested with a fake ipcMain: one invoke handler per request kind (from the
// protocol's request table, on the channel requestChannel gives it), each checking its sender and
// validating the message for its own kind before the engine sees it. Each page
// shown in a window is one client of the host (RendererClients): a crashed renderer or a closed
// window releases it, and the host disposes the sessions it owned; a reload keeps it for a grace
// period, so the reloaded page takes its sessions back (as serve mode's resume key does).
import { errorReply, parseRequest, REQUEST_KINDS, type EventMessage, type ReplyMessage, type RequestKind } from '../shared/protocol'
import { IpcChannel, requestChannel } from '../shared/ipc-channels'
import { isTrustedSender, type AppOrigin, type SenderFrame } from './security'

/** The part of Electron's WebContents that tells when its page is gone. */
export interface ClientContents {
  readonly id: number
  on(event: string, listener: (...args: never[]) => void): unknown
}

/** The part of Electron's ipcMain the relay uses. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame: SenderFrame | null; sender?: ClientContents }, ...args: unknown[]) => unknown,
  ): void
}

export interface RelayEngine {
  request(msg: unknown, client?: string | null): Promise<ReplyMessage>
  onEvent(cb: (msg: EventMessage) => void): () => void
  /** The client left: the host disposes what it owned. */
  release?(client: string): unknown
}

/** How long a reloaded window's client (and its sessions) waits for the new page's first request. */
export const RELOAD_GRACE_MS = 30_000

/**
 * One client id per window: `wc<contents id>.<n>`. A committed main-frame navigation (a reload:
 * other navigations are blocked and never commit) keeps it for RELOAD_GRACE_MS, and the window's
 * next request takes it back; nobody asking by then, a crashed renderer or a destroyed window
 * releases it, and the next request from that window starts a new client.
 */
export class RendererClients {
  private readonly current = new Map<number, string>()
  private readonly reloading = new Map<number, { client: string; timer: ReturnType<typeof setTimeout> }>()
  private readonly watched = new WeakSet<ClientContents>()
  private next = 1

  constructor(
    private readonly engine: RelayEngine,
    private readonly graceMs = RELOAD_GRACE_MS,
  ) {}

  clientOf(contents: ClientContents): string {
    const known = this.current.get(contents.id)
    if (known !== undefined) return known
    const back = this.reloading.get(contents.id)
    if (back) {
      clearTimeout(back.timer)
      this.reloading.delete(contents.id)
    }
    const client = back?.client ?? `wc${contents.id}.${this.next++}`
    this.current.set(contents.id, client)
    if (!this.watched.has(contents)) {
      this.watched.add(contents)
      contents.on('did-navigate', () => this.reloaded(contents.id))
      for (const event of ['render-process-gone', 'destroyed']) contents.on(event, () => this.leave(contents.id))
    }
    return client
  }

  private reloaded(contentsId: number): void {
    const client = this.current.get(contentsId)
    if (client === undefined) return
    this.current.delete(contentsId)
    const timer = setTimeout(() => this.leave(contentsId), this.graceMs)
    timer.unref?.()
    this.reloading.set(contentsId, { client, timer })
  }

  private leave(contentsId: number): void {
    const back = this.reloading.get(contentsId)
    if (back) clearTimeout(back.timer)
    this.reloading.delete(contentsId)
    for (const client of [this.current.get(contentsId), back?.client]) {
      if (client !== undefined) void Promise.resolve(this.engine.release?.(client)).catch(() => undefined)
    }
    this.current.delete(contentsId)
  }
}

/** A renderer that may receive events (Electron's WebContents). */
export interface EventSink {
  isDestroyed(): boolean
  getURL(): string
  send(channel: string, msg: EventMessage): void
}

export function registerEngineHandlers(ipc: IpcMainLike, engine: RelayEngine, origin: AppOrigin, reloadGraceMs?: number): RendererClients {
  const clients = new RendererClients(engine, reloadGraceMs)
  for (const kind of REQUEST_KINDS) {
    ipc.handle(requestChannel(kind), (event, raw) => {
      const sender = event.sender
      return relayRequest(kind, event.senderFrame, raw, engine, origin, () => (sender ? clients.clientOf(sender) : null))
    })
  }
  return clients
}

/** `clientOf` is asked only once the sender is trusted and the message valid. */
export async function relayRequest(
  kind: RequestKind,
  frame: SenderFrame | null,
  raw: unknown,
  engine: RelayEngine,
  origin: AppOrigin,
  clientOf: () => string | null = () => null,
): Promise<ReplyMessage> {
  // The protocol has no 'forbidden' code; invalid_message is the closest: this message is refused.
  if (!isTrustedSender(frame, origin)) return errorReply(idOf(raw), 'invalid_message', `${kind}: refused, the sender is not the app page`)
  const parsed = parseRequest(raw)
  if (!parsed.ok) return errorReply(parsed.id ?? 0, parsed.error.code, parsed.error.message)
  const { id } = parsed.value
  if (parsed.value.kind !== kind) {
    return errorReply(id, 'invalid_message', `channel ${requestChannel(kind)} carries ${kind} requests only, not ${parsed.value.kind}`)
  }
  try {
    return await engine.request(raw, clientOf())
  } catch (err) {
    return errorReply(id, 'internal', `${kind}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Sends every engine event to each live renderer showing the app page. Returns the unsubscribe. */
export function relayEvents(engine: RelayEngine, targets: () => EventSink[], origin: AppOrigin): () => void {
  return engine.onEvent((msg) => {
    for (const t of targets()) {
      if (!t.isDestroyed() && isTrustedSender({ url: t.getURL(), parent: null }, origin)) t.send(IpcChannel.engineEvent, msg)
    }
  })
}

function idOf(raw: unknown): number {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : 0
}
