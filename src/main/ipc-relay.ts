// The Electron relay between the renderer and the engine host, kept free of `electron` imports
// so it can be tested with a fake ipcMain: one invoke handler per request kind, each checking
// its sender and validating the message for its own kind before the engine sees it.
import { errorReply, parseRequest, REQUEST_KINDS, type EventMessage, type ReplyMessage, type RequestKind } from '../shared/protocol'
import { IpcChannel, RequestChannel } from '../shared/ipc-channels'
import { isTrustedSender, type AppOrigin, type SenderFrame } from './security'

/** The part of Electron's ipcMain the relay uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: SenderFrame | null }, ...args: unknown[]) => unknown): void
}

export interface RelayEngine {
  request(msg: unknown): Promise<ReplyMessage>
  onEvent(cb: (msg: EventMessage) => void): () => void
}

/** A renderer that may receive events (Electron's WebContents). */
export interface EventSink {
  isDestroyed(): boolean
  getURL(): string
  send(channel: string, msg: EventMessage): void
}

export function registerEngineHandlers(ipc: IpcMainLike, engine: RelayEngine, origin: AppOrigin): void {
  for (const kind of REQUEST_KINDS) {
    ipc.handle(RequestChannel[kind], (event, raw) => relayRequest(kind, event.senderFrame, raw, engine, origin))
  }
}

export async function relayRequest(kind: RequestKind, frame: SenderFrame | null, raw: unknown, engine: RelayEngine, origin: AppOrigin): Promise<ReplyMessage> {
  // The protocol has no 'forbidden' code; invalid_message is the closest: this message is refused.
  if (!isTrustedSender(frame, origin)) return errorReply(idOf(raw), 'invalid_message', `${kind}: refused, the sender is not the app page`)
  const parsed = parseRequest(raw)
  if (!parsed.ok) return errorReply(parsed.id ?? 0, parsed.error.code, parsed.error.message)
  const { id } = parsed.value
  if (parsed.value.kind !== kind) {
    return errorReply(id, 'invalid_message', `channel ${RequestChannel[kind]} carries ${kind} requests only, not ${parsed.value.kind}`)
  }
  try {
    return await engine.request(raw)
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
