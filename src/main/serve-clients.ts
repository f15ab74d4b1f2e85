// One browser connection of serve mode: its messages validated and forwarded under its client id
// (the host owns sessions and uploads per client and frees them when the socket closes), and the
// events it should see, at a rate it can take. A client sees host-wide events and the events of
// the sessions it owns or has touched; while it reads too slowly, train.metrics batches for it are
// dropped (the next one it gets says how many, and the run's log keeps them all), never states or
// alarms; a client so far behind that even those pile up is closed.
import { WebSocket, type RawData } from 'ws'
import { decodeBinaryRequest } from '../shared/binary-frame'
import { errorReply, parseRequest, type EventMessage, type ReplyMessage } from '../shared/protocol'

export interface ClientEngine {
  request(msg: unknown, client?: string | null): Promise<ReplyMessage>
  /** `owner`: the client whose session the event is about (absent for host-wide events). */
  onEvent(cb: (msg: EventMessage, owner?: string) => void): () => void
  /** The client left; optional for engines without per-client state. */
  release?(client: string): unknown
}

/** Requests one socket may have waiting on the engine; more get a 'limit' error reply. */
export const MAX_IN_FLIGHT = 64
/** Above this many bytes waiting to be written to a client, its metrics batches are dropped. */
export const SLOW_CLIENT_BYTES = 1024 * 1024
/** A client this far behind even without metrics is stuck: it is closed. */
export const STUCK_CLIENT_BYTES = 16 * 1024 * 1024
/** Sessions a client is remembered to watch besides those it owns (the oldest are forgotten). */
const MAX_WATCHED = 64

export interface ClientStats {
  id: string
  bufferedAmount: number
  /** train.metrics batches not sent to this client because it read too slowly. */
  droppedBatches: number
}

export class ClientLink {
  private inFlight = 0
  private readonly watching = new Set<string>()
  /** Per session: batches dropped since the last one this client received. */
  private readonly dropped = new Map<string, number>()
  droppedTotal = 0

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    private readonly engine: ClientEngine,
  ) {
    ws.on('error', () => ws.terminate())
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary))
  }

  stats(): ClientStats {
    return { id: this.id, bufferedAmount: this.ws.bufferedAmount, droppedBatches: this.droppedTotal }
  }

  /** Whether an event about `sessionId` (owned by `owner`) is this client's business. */
  watches(sessionId: string, owner: string | undefined): boolean {
    return owner === this.id || this.watching.has(sessionId)
  }

  /** Send one event, or drop it (metrics only) when the client is behind. `text` is shared across clients. */
  deliver(msg: EventMessage, text: () => string): void {
    const ws = this.ws
    if (ws.readyState !== WebSocket.OPEN) return
    if (ws.bufferedAmount > STUCK_CLIENT_BYTES) return ws.close(1013, 'client too slow to keep up with events')
    // An external run's points are dropped for a slow reader too (its run's log has them all).
    if (msg.event === 'watch.metrics' && ws.bufferedAmount > SLOW_CLIENT_BYTES) return void this.droppedTotal++
    if (msg.event !== 'train.metrics') return ws.send(text())
    const sessionId = (msg.payload as { sessionId: string }).sessionId
    const missed = this.dropped.get(sessionId) ?? 0
    if (ws.bufferedAmount > SLOW_CLIENT_BYTES) {
      this.dropped.set(sessionId, missed + 1)
      this.droppedTotal++
      return
    }
    if (missed === 0) return ws.send(text())
    this.dropped.delete(sessionId)
    ws.send(JSON.stringify({ ...msg, payload: { ...msg.payload, droppedBatches: missed } }))
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const ws = this.ws
    let raw: unknown
    if (isBinary) {
      // A request carrying bytes (an upload chunk): binary-frame.ts; ws has capped its size.
      const frame = decodeBinaryRequest(bufferOf(data))
      if (!frame.ok) return send(ws, errorReply(0, 'invalid_message', frame.message))
      raw = frame.message
    } else {
      try {
        raw = JSON.parse(bufferOf(data).toString('utf8'))
      } catch (err) {
        return send(
          ws,
          errorReply(0, 'invalid_message', `the message is not valid JSON (${err instanceof Error ? err.message : 'parse error'})`),
        )
      }
    }
    const parsed = parseRequest(raw)
    if (!parsed.ok) return send(ws, errorReply(parsed.id ?? 0, parsed.error.code, parsed.error.message))
    const { id, kind, payload } = parsed.value
    if (this.inFlight >= MAX_IN_FLIGHT) {
      return send(
        ws,
        errorReply(id, 'limit', `${kind}: more than ${MAX_IN_FLIGHT} requests are waiting on this connection; wait for replies`),
      )
    }
    this.inFlight++
    void this.engine
      .request(raw, this.id)
      .catch((err: unknown) => errorReply(id, 'internal', `${kind}: ${err instanceof Error ? err.message : String(err)}`))
      .then((reply) => {
        this.inFlight--
        if (reply.ok) this.learn(kind, payload, reply.result)
        send(ws, reply)
      })
  }

  /** A session this client created, opened or acted on: its events are now this client's too. */
  private learn(kind: string, payload: unknown, result: unknown): void {
    const named = (payload as { sessionId?: unknown } | null)?.sessionId
    const r = result as { sessionId?: unknown; state?: { sessionId?: unknown } } | null
    const id = kind === 'session.create' ? r?.state?.sessionId : kind === 'runs.open' ? r?.sessionId : named
    if (typeof id !== 'string') return
    if (kind === 'session.dispose') return void this.watching.delete(id)
    this.watching.delete(id)
    this.watching.add(id)
    if (this.watching.size > MAX_WATCHED) this.watching.delete(this.watching.values().next().value as string)
  }
}

/** Route one host event: host-wide ones to every client, a session's to the clients watching it. */
export function routeEvent(clients: Iterable<ClientLink>, msg: EventMessage, owner: string | undefined): void {
  let text: string | undefined
  const once = (): string => (text ??= JSON.stringify(msg))
  const sessionId = (msg.payload as { sessionId?: unknown } | null)?.sessionId
  for (const c of clients) {
    if (typeof sessionId !== 'string' || c.watches(sessionId, owner)) c.deliver(msg, once)
  }
}

export function send(ws: WebSocket, reply: ReplyMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return
  let text: string
  try {
    text = JSON.stringify(reply)
  } catch (err) {
    text = JSON.stringify(
      errorReply(reply.id, 'internal', `the reply could not be encoded: ${err instanceof Error ? err.message : String(err)}`),
    )
  }
  ws.send(text)
}

function bufferOf(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.isBuffer(data) ? data : Buffer.from(data)
}
