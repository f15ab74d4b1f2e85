// What the main side and the engine host worker say to each other beyond the browser protocol.
// None of it can come from a client: the relays validate a client's request, then the main side
// wraps it with the id of the connection (or window) it came from; control messages are built by
// the main side alone. The host uses the client id to own sessions and uploads from creation.

/** A validated protocol request, tagged with the client it came from (null: no client, e.g. tests). */
export interface TaggedRequest {
  channel: 'request'
  client: string | null
  message: unknown
}

export type HostControl =
  /** The client left (socket closed, page reloaded): dispose its sessions and drop its uploads. */
  | { op: 'release'; client: string }
  /** An orderly stop: every session saved (final checkpoint, run closed), then the reply. */
  | { op: 'shutdown' }

export interface ControlMessage {
  channel: 'control'
  /** Answered with an ordinary reply envelope under this id. */
  id: number
  control: HostControl
}

export interface ReleaseResult {
  sessions: number
  uploads: number
}

export interface ShutdownResult {
  sessions: number
}

/** Events a host posts may carry the owning client here, beside the protocol envelope. */
export const OWNER_FIELD = 'owner'

/** Read what the worker received: a tagged request, a control message, or a bare request (tests). */
export function readInbound(raw: unknown): TaggedRequest | ControlMessage {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const m = raw as Record<string, unknown>
    if (m['channel'] === 'control' && typeof m['id'] === 'number' && isControl(m['control'])) return m as unknown as ControlMessage
    if (m['channel'] === 'request' && (typeof m['client'] === 'string' || m['client'] === null)) {
      return { channel: 'request', client: m['client'] as string | null, message: m['message'] }
    }
  }
  return { channel: 'request', client: null, message: raw }
}

function isControl(c: unknown): c is HostControl {
  if (typeof c !== 'object' || c === null) return false
  const op = (c as { op?: unknown }).op
  return op === 'shutdown' || (op === 'release' && typeof (c as { client?: unknown }).client === 'string')
}
