// The engine host's one error type: it carries the protocol error code the reply will use, so
// every failure a handler can foresee reaches the caller as a typed error, never a throw.
import { EngineError } from '../engine'
import type { ErrorCode, ProtocolError } from '../shared/protocol'

export class HostError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'HostError'
  }
}

/** What any exception becomes on the wire: HostError keeps its code, EngineError is 'engine'. */
export function toProtocolError(e: unknown): ProtocolError {
  if (e instanceof HostError) return { code: e.code, message: e.message }
  if (e instanceof EngineError) return { code: e.code === 'backend' ? 'backend_unavailable' : 'engine', message: e.message }
  const detail = e instanceof Error ? e.message : String(e)
  return { code: 'internal', message: `engine host: unexpected failure: ${detail}` }
}
