// An in-memory stand-in for the engine host, for unit tests of the client and the stores: it
// answers requests with protocol-valid replies, records what it was asked, and emits events.
import {
  PROTOCOL_VERSION,
  SessionSpec,
  errorReply,
  eventMessage,
  okReply,
  type ErrorCode,
  type EventKind,
  type EventPayload,
  type RequestKind,
  type RequestMessage,
  type RequestResult,
} from '../../shared/protocol'
import { Listeners, type ConnectionStatus, type Transport } from './transport'

type State = RequestResult<'session.start'>
type Info = RequestResult<'session.create'>
type Override = (message: RequestMessage) => { error: { code: ErrorCode; message: string } } | { result: unknown } | undefined

export const FAKE_BACKEND = { name: 'cpu', reason: 'no WebGPU adapter in tests' } as const

export class FakeHost {
  readonly requests: RequestMessage[] = []
  readonly sessions = new Map<string, State>()
  /** What each session was made of (its state lives in `sessions`). */
  private readonly infos = new Map<string, Omit<Info, 'state'>>()
  /** Answer a kind differently (an error, a malformed result); undefined falls through. */
  readonly overrides = new Map<RequestKind, Override>()
  private readonly events = new Listeners<unknown>()
  private readonly statuses = new Listeners<ConnectionStatus>()
  private nextSession = 1
  private connection: ConnectionStatus = { state: 'open' }

  kinds(): RequestKind[] {
    return this.requests.map((r) => r.kind)
  }

  last<K extends RequestKind>(kind: K): RequestMessage<K> | undefined {
    return this.requests.filter((r) => r.kind === kind).at(-1) as RequestMessage<K> | undefined
  }

  emit<K extends EventKind>(event: K, payload: EventPayload<K>): void {
    this.events.emit(eventMessage(event, payload))
  }

  emitRaw(raw: unknown): void {
    this.events.emit(raw)
  }

  setStatus(status: ConnectionStatus): void {
    this.connection = status
    this.statuses.emit(status)
  }

  transport(): Transport {
    return {
      send: async (message) => {
        this.requests.push(message)
        await Promise.resolve()
        const override = this.overrides.get(message.kind)?.(message)
        if (override) return 'error' in override ? errorReply(message.id, override.error.code, override.error.message) : okReply(message.id, override.result)
        return this.answer(message)
      },
      onEvent: (listener) => this.events.add(listener),
      status: () => this.connection,
      onStatus: (listener) => this.statuses.add(listener),
      close: () => this.setStatus({ state: 'closed' }),
    }
  }

  /** A session as session.create makes it; `at` places it mid-run, as runs.open does. */
  addSession(payload: unknown, at: { step?: number; status?: State['status']; runId?: string } = {}): Info {
    const spec = SessionSpec.parse(payload)
    const s: State = { sessionId: `s${this.nextSession++}`, status: at.status ?? 'idle', step: at.step ?? 0, epoch: 0, backend: { ...FAKE_BACKEND } }
    this.sessions.set(s.sessionId, s)
    const sizes = [2, ...spec.model.hidden, 1]
    const layers = sizes.slice(1).map((out, i) => ({ name: `layers.${i}`, inFeatures: sizes[i]!, outFeatures: out, activation: spec.model.activation }))
    const paramCount = layers.reduce((n, l) => n + l.inFeatures * l.outFeatures + l.outFeatures, 0)
    const info = { spec, paramCount, layers, loss: 'bceWithLogits' as const, task: 'binary' as const, inputFeatures: 2, outputSize: 1, ...(at.runId ? { runId: at.runId } : {}) }
    this.infos.set(s.sessionId, info)
    return { ...info, state: s }
  }

  private answer(m: RequestMessage): unknown {
    const p = m.payload as Record<string, unknown>
    const state = typeof p['sessionId'] === 'string' ? this.sessions.get(p['sessionId']) : undefined
    const withState = (change: Partial<State>) => {
      if (!state) return errorReply(m.id, 'not_found', `${m.kind}: no session ${String(p['sessionId'])}`)
      const next = { ...state, ...change }
      this.sessions.set(next.sessionId, next)
      return okReply(m.id, next)
    }
    switch (m.kind) {
      case 'host.hello':
        return okReply(m.id, {
          protocolVersion: PROTOCOL_VERSION,
          generators: [
            { name: 'circle', label: 'Circle', task: 'binary', description: 'a disc inside a ring' },
            { name: 'spiral', label: 'Spiral', task: 'binary', description: 'two interleaved spirals' },
          ],
          activations: ['relu', 'tanh'],
          initializers: ['xavier-uniform'],
          limits: { maxHiddenLayers: 16, maxWidth: 1024, maxSamples: 100000, maxBatchSize: 4096, maxStepsPerRequest: 100000, maxSessions: 8 },
        })
      case 'dataset.preview':
        return okReply(m.id, { task: 'binary', nClasses: 2, points: [0, 0, 1, 1], labels: [0, 1], trainCount: 1, testCount: 1 })
      case 'session.create':
        return okReply(m.id, this.addSession(m.payload))
      case 'session.info':
        if (!state) return errorReply(m.id, 'not_found', `session.info: no session ${String(p['sessionId'])}`)
        return okReply(m.id, { ...this.infos.get(state.sessionId)!, state })
      case 'session.start':
        return withState({ status: 'running' })
      case 'session.pause':
        return withState({ status: 'paused' })
      case 'session.step':
        return withState({ status: 'paused', step: (state?.step ?? 0) + Number(p['steps'] ?? 1) })
      case 'session.reset':
        return withState({ status: 'idle', step: 0, epoch: 0 })
      case 'session.update':
        return withState({})
      case 'session.dispose':
        if (!state) return errorReply(m.id, 'not_found', `session.dispose: no session ${String(p['sessionId'])}`)
        this.sessions.delete(state.sessionId)
        this.infos.delete(state.sessionId)
        return okReply(m.id, { sessionId: state.sessionId })
    }
  }
}

/** A metrics batch for `sessionId` covering steps from..to (inclusive), loss falling with step. */
export function metricsBatch(sessionId: string, from: number, to: number, layers = 3): EventPayload<'train.metrics'> {
  const steps = Array.from({ length: to - from + 1 }, (_, i) => from + i)
  return {
    sessionId,
    steps,
    trainLoss: steps.map((s) => 1 / (1 + s)),
    epoch: Math.floor(to / 10),
    evals: to % 50 === 0 ? [{ step: to, trainLoss: 0.5, testLoss: 0.6, trainAccuracy: 0.8, testAccuracy: 0.75 }] : [],
    layers: [{ step: to, stats: Array.from({ length: layers }, (_, i) => ({ gradNorm: 0.1 * (i + 1), meanAbsGrad: 0.01, maxAbsGrad: 0.2, weightNorm: 1, updateRatio: 1e-3 })) }],
    stepsPerSecond: 1000,
  }
}
