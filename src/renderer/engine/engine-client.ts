// The renderer's one way to talk to the engine host: typed requests whose replies are validated
// against the protocol, and validated events. It does not know which transport carries them.
import {
  PROTOCOL_VERSION,
  parseEvent,
  parseReply,
  type ErrorCode,
  type EventKind,
  type EventPayload,
  type RequestKind,
  type RequestPayload,
  type RequestResult,
} from '../../shared/protocol'
import { Listeners, TransportError, type ConnectionStatus, type Transport } from './transport'

/** Protocol error codes, plus `disconnected` when the transport could not deliver at all. */
export type EngineErrorCode = ErrorCode | 'disconnected'

/** A request that failed: an error reply from the host, a malformed reply, or no connection. */
export class EngineRequestError extends Error {
  override readonly name = 'EngineRequestError'
  constructor(
    readonly kind: RequestKind,
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** A validated event, discriminated by `event`. */
export type EngineEvent = { [K in EventKind]: { event: K; payload: EventPayload<K> } }[EventKind]

export interface EngineClient {
  request<K extends RequestKind>(kind: K, payload: RequestPayload<K>): Promise<RequestResult<K>>
  onEvent(listener: (event: EngineEvent) => void): () => void
  /** Events or replies that failed validation and were dropped (for diagnostics, not for flow). */
  onProblem(listener: (message: string) => void): () => void
  status(): ConnectionStatus
  onStatus(listener: (status: ConnectionStatus) => void): () => void
  close(): void
}

export function createEngineClient(transport: Transport): EngineClient {
  let nextId = 1
  const events = new Listeners<EngineEvent>()
  const problems = new Listeners<string>()
  let unsubscribeTransport: (() => void) | null = null

  function handleRaw(raw: unknown): void {
    const parsed = parseEvent(raw)
    if (parsed.ok) events.emit(parsed.value as EngineEvent)
    else problems.emit(`dropped an event: ${parsed.error.message}`)
  }

  async function request<K extends RequestKind>(kind: K, payload: RequestPayload<K>): Promise<RequestResult<K>> {
    const id = nextId++
    let raw: unknown
    try {
      raw = await transport.send({ v: PROTOCOL_VERSION, id, kind, payload })
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new EngineRequestError(kind, err instanceof TransportError ? 'disconnected' : 'internal', `${kind}: ${why}`)
    }
    const reply = parseReply(kind, raw)
    if (!reply.ok) {
      if (reply.error.code === 'invalid_message') problems.emit(reply.error.message)
      throw new EngineRequestError(kind, reply.error.code, reply.error.message)
    }
    const replyId = (raw as { id?: unknown }).id
    if (replyId !== id) {
      const message = `reply to ${kind} carries id ${String(replyId)}, expected ${id}`
      problems.emit(message)
      throw new EngineRequestError(kind, 'invalid_message', message)
    }
    return reply.result
  }

  return {
    request,
    onEvent(listener) {
      // Subscribe to the transport only while someone listens, so a closed client leaks nothing.
      unsubscribeTransport ??= transport.onEvent(handleRaw)
      const off = events.add(listener)
      return () => {
        off()
        if (events.size === 0 && unsubscribeTransport) {
          unsubscribeTransport()
          unsubscribeTransport = null
        }
      }
    },
    onProblem: (listener) => problems.add(listener),
    status: () => transport.status(),
    onStatus: (listener) => transport.onStatus(listener),
    close() {
      unsubscribeTransport?.()
      unsubscribeTransport = null
      transport.close()
    },
  }
}
