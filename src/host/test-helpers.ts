// Test helpers for the engine host: a host whose events are recorded with their arrival times,
// and typed request helpers that speak the protocol exactly as a relay would.
import { performance } from 'node:perf_hooks'
import type { EventKind, EventMessage, EventPayload, ReplyMessage, RequestPayload, RequestResult, RequestKind } from '../shared/protocol'
import { EngineHost, type EngineHostOptions } from './host'

export interface Recorded {
  at: number
  msg: EventMessage
}

export function testHost(options: EngineHostOptions = {}) {
  const events: Recorded[] = []
  const host = new EngineHost((msg) => events.push({ at: performance.now(), msg }), options)
  let nextId = 1

  function send(kind: string, payload: unknown): Promise<ReplyMessage> {
    return host.handle({ v: 1, id: nextId++, kind, payload })
  }

  /** A request that must succeed; its result, typed. */
  async function ok<K extends RequestKind>(kind: K, payload: RequestPayload<K>): Promise<RequestResult<K>> {
    const r = await send(kind, payload)
    if (!r.ok) throw new Error(`${kind} failed: ${r.error.code}: ${r.error.message}`)
    return r.result as RequestResult<K>
  }

  /** A request that must fail; its error. */
  async function fail(kind: string, payload: unknown) {
    const r = await send(kind, payload)
    if (r.ok) throw new Error(`${kind} unexpectedly succeeded: ${JSON.stringify(r.result).slice(0, 200)}`)
    return r.error
  }

  function of<K extends EventKind>(kind: K, sessionId?: string): (EventPayload<K> & { at: number })[] {
    return events
      .filter((e) => e.msg.event === kind)
      .map((e) => ({ ...(e.msg.payload as EventPayload<K>), at: e.at }))
      .filter((p) => sessionId === undefined || !('sessionId' in p) || p.sessionId === sessionId)
  }

  return { host, events, send, ok, fail, of }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A small, valid session spec; override what a test cares about. */
export function spec(over: Partial<RequestPayload<'session.create'>> = {}): RequestPayload<'session.create'> {
  return {
    model: { hidden: [8] },
    data: { generator: 'xor', n: 200, seed: 1 },
    optimizer: { type: 'sgd', lr: 0.05 },
    train: { batchSize: 16, evalEvery: 50, seed: 1 },
    backend: 'cpu',
    ...over,
  }
}
