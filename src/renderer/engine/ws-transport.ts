// Serve-mode transport: one WebSocket to the local server's /ws, JSON text frames carrying the
// protocol's envelopes (a request with bytes in it, an upload chunk, goes as one binary frame:
// binary-frame.ts). Reconnects with exponential backoff and reports its connection state.
// The token travels in the HttpOnly cookie the server set with the page, and as ?token= when
// the page URL had one (taken out of the address bar so it does not linger in history).
import { encodeBinaryRequest } from '../../shared/binary-frame'
import type { RequestKind, RequestMessage } from '../../shared/protocol'
import { Listeners, TransportError, type ConnectionStatus, type Transport } from './transport'

export interface WsTransportOptions {
  url: string
  /** Injectable for tests; defaults to the browser's WebSocket. */
  WebSocketImpl?: new (url: string) => WebSocket
  /** First reconnect delay, doubled per failure up to maxBackoffMs. */
  initialBackoffMs?: number
  maxBackoffMs?: number
  /** How long a request made while disconnected waits for the connection before failing. */
  openWaitMs?: number
  /**
   * Where this page keeps its resume key (serve-resume.ts): each connection presents the last key
   * the server gave (so a reload takes its sessions back) and keeps the new one.
   */
  resumeKeys?: { load(): string | null; save(key: string): void }
}

/** `url` with the resume key the page holds ('' asks for a first one). */
export function withResumeKey(url: string, key: string | null): string {
  return `${url}${url.includes('?') ? '&' : '?'}resume=${encodeURIComponent(key ?? '')}`
}

/** Reads `?token=` from the page URL and removes it from the address bar (history.replaceState). */
export function takeTokenFromAddressBar(loc: Location = window.location, hist: History = window.history): string | null {
  const url = new URL(loc.href)
  const token = url.searchParams.get('token')
  if (token === null) return null
  url.searchParams.delete('token')
  hist.replaceState(hist.state, '', url.pathname + url.search + url.hash)
  return token
}

/** `ws(s)://<origin>/ws`, with the token as a query parameter when there is one. */
export function engineSocketUrl(origin: string, token: string | null): string {
  const base = `${origin.replace(/^http/, 'ws')}/ws`
  return token === null ? base : `${base}?token=${encodeURIComponent(token)}`
}

const OPEN = 1 // WebSocket.OPEN, spelled out so test doubles need not define it

interface Waiting {
  message: RequestMessage<RequestKind>
  resolve: (raw: unknown) => void
  reject: (err: Error) => void
  timer?: ReturnType<typeof setTimeout>
}

export function createWsTransport(options: WsTransportOptions): Transport {
  const Impl = options.WebSocketImpl ?? WebSocket
  const initialBackoff = options.initialBackoffMs ?? 250
  const maxBackoff = options.maxBackoffMs ?? 5000
  const openWait = options.openWaitMs ?? 10_000
  const events = new Listeners<unknown>()
  const statusListeners = new Listeners<ConnectionStatus>()
  const inFlight = new Map<number, Waiting>()
  const queued: Waiting[] = []
  let status: ConnectionStatus = { state: 'connecting' }
  let socket: WebSocket | null = null
  let backoff = initialBackoff
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false

  function setStatus(next: ConnectionStatus): void {
    status = next
    statusListeners.emit(next)
  }

  function transmit(w: Waiting): void {
    inFlight.set(w.message.id, w)
    socket!.send(encodeBinaryRequest(w.message) ?? JSON.stringify(w.message))
  }

  function onMessage(data: unknown): void {
    if (typeof data !== 'string') return
    let msg: unknown
    try {
      msg = JSON.parse(data)
    } catch {
      return // not ours to interpret; the client validates only well-formed envelopes
    }
    if (typeof msg !== 'object' || msg === null) return
    if ('event' in msg) {
      const resume = msg as { event: unknown; payload?: { key?: unknown } }
      if (resume.event === 'client.resume' && typeof resume.payload?.key === 'string') options.resumeKeys?.save(resume.payload.key)
      events.emit(msg)
      return
    }
    const id = (msg as { id?: unknown }).id
    const waiting = typeof id === 'number' ? inFlight.get(id) : undefined
    if (!waiting) return
    inFlight.delete(waiting.message.id)
    waiting.resolve(msg)
  }

  function connect(): void {
    const keys = options.resumeKeys
    const ws = new Impl(keys ? withResumeKey(options.url, keys.load()) : options.url)
    socket = ws
    ws.onopen = () => {
      backoff = initialBackoff
      setStatus({ state: 'open' })
      for (const w of queued.splice(0)) {
        clearTimeout(w.timer)
        transmit(w)
      }
    }
    ws.onmessage = (ev: MessageEvent) => onMessage(ev.data)
    ws.onclose = (ev: CloseEvent) => {
      if (socket !== ws) return
      socket = null
      // Replies to what was in flight will never come: the host may or may not have acted.
      for (const w of inFlight.values()) w.reject(new TransportError(`connection lost before the reply to ${w.message.kind}`))
      inFlight.clear()
      if (closed) return
      const why = ev.reason || (ev.code === 1006 ? 'refused or dropped' : `code ${ev.code}`)
      setStatus({ state: 'reconnecting', detail: `engine connection ${why}; retrying in ${(backoff / 1000).toFixed(1)} s` })
      retryTimer = setTimeout(connect, backoff)
      backoff = Math.min(backoff * 2, maxBackoff)
    }
  }

  connect()
  // The page goes (its tab closes, or it reloads): say so, so the server holds its sessions only
  // briefly for a reload (serve-resume.ts) and the other tabs see its runs saved soon after.
  globalThis.addEventListener?.('pagehide', () => socket?.close(4001, 'page left'))

  return {
    send(message) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new TransportError('the engine connection is closed'))
        const w: Waiting = { message, resolve, reject }
        if (socket && socket.readyState === OPEN) return transmit(w)
        w.timer = setTimeout(() => {
          queued.splice(queued.indexOf(w), 1)
          reject(new TransportError(`not connected to the engine (${status.detail ?? status.state})`))
        }, openWait)
        queued.push(w)
      })
    },
    onEvent: (listener) => events.add(listener),
    status: () => status,
    onStatus: (listener) => statusListeners.add(listener),
    close() {
      closed = true
      clearTimeout(retryTimer)
      for (const w of queued.splice(0)) {
        clearTimeout(w.timer)
        w.reject(new TransportError('the engine connection is closed'))
      }
      socket?.close()
      setStatus({ state: 'closed' })
    },
  }
}
