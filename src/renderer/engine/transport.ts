// What the engine client needs from a way in (Electron IPC or the serve-mode WebSocket): send a
// request envelope and get the raw reply back, hear raw events, and say whether it is connected.
// Transports never validate; the client checks every reply and event against the protocol.
import type { RequestKind, RequestMessage } from '../../shared/protocol'

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface ConnectionStatus {
  state: ConnectionState
  /** Why the connection is not open (last close reason), for the UI. */
  detail?: string
}

export interface Transport {
  /** Resolves with the raw reply envelope; rejects (TransportError) only when it cannot deliver. */
  send(message: RequestMessage<RequestKind>): Promise<unknown>
  /** Raw event envelopes as they arrive. Returns an unsubscribe function. */
  onEvent(listener: (raw: unknown) => void): () => void
  status(): ConnectionStatus
  /** Called on every status change. Returns an unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void
  close(): void
}

/** The request could not be delivered or its reply never came (connection lost, no bridge). */
export class TransportError extends Error {
  override readonly name = 'TransportError'
}

/** A small listener set shared by the transports and the client. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>()
  add(listener: (value: T) => void): () => void {
    this.set.add(listener)
    return () => void this.set.delete(listener)
  }
  emit(value: T): void {
    for (const listener of [...this.set]) listener(value)
  }
  get size(): number {
    return this.set.size
  }
}
