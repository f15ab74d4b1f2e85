// Serve mode's HTTP + WebSocket server: hands the built renderer to a browser that shows the
// per-launch token, and relays protocol messages between its WebSocket and the engine host.
// Browsers are untrusted: every message is validated here before the engine sees it.
import { createReadStream } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { errorReply, parseRequest, PROTOCOL_VERSION, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { createGate, isLoopbackHost, TOKEN_PATTERN, type Gate } from './serve-auth'
import { lookupStatic } from './static-files'

export interface ServerEngine {
  request(msg: unknown): Promise<ReplyMessage>
  onEvent(cb: (msg: EventMessage) => void): () => void
}

export interface ServerOptions {
  host?: string
  /** 0 picks any free port. */
  port?: number
  token: string
  staticDir: string
  engine: ServerEngine
  /** Binding beyond loopback exposes the engine to the network; the caller must opt in. */
  allowNonLoopback?: boolean
}

export interface RunningServer {
  /** The address to open, token included. */
  url: string
  /** http://host:port, without the token. */
  origin: string
  port: number
  /** The address actually bound (e.g. 127.0.0.1). */
  address: string
  close(): Promise<void>
}

export const MAX_MESSAGE_BYTES = 1024 * 1024
/** Requests one socket may have waiting on the engine; more get a 'limit' error reply. */
export const MAX_IN_FLIGHT = 64
/** A client this far behind on events is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ')

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

const FORBIDDEN_TEXT =
  'Forbidden: this Backprop Studio server only answers with the token it printed at start.\n' +
  'Open the full URL it printed (http://…/?token=…).\n'

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const loopback = isLoopbackHost(host)
  if (!loopback && !options.allowNonLoopback) {
    throw new Error(`serve: refusing to bind ${host}, which is not a loopback address (pass --host explicitly to allow it)`)
  }
  if (!TOKEN_PATTERN.test(options.token)) {
    throw new Error('serve: the token must be 16 to 256 characters from A-Z, a-z, 0-9, "-" and "_"')
  }
  const { engine, staticDir, token } = options
  let gate: Gate | undefined
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })

  const server = createServer((req, res) => {
    if (!gate) return plain(res, 503, 'Starting, try again.\n')
    serveHttp(gate, staticDir, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal error.\n')
      else res.destroy()
    })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const refusal = gate ? upgradeRefusal(gate, req) : 'starting'
    if (refusal) return rejectUpgrade(socket, refusal === 'not found' ? 404 : 403, refusal)
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws, engine))
  })
  const offEvents = engine.onEvent((msg) => broadcast(wss, msg))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port, address } = server.address() as AddressInfo
  gate = createGate(token, port, loopback)
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const origin = `http://${urlHost}:${port}`

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    address,
    close: async () => {
      offEvents()
      for (const ws of wss.clients) ws.close(1001, 'server shutting down')
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

async function serveHttp(gate: Gate, staticDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
  if (!gate.hostAllowed(req)) return plain(res, 403, 'Forbidden: unexpected Host header (this server answers only 127.0.0.1 and localhost).\n')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    return plain(res, 405, 'Method not allowed.\n')
  }
  const url = new URL(req.url ?? '/', 'http://localhost')
  const auth = gate.token(req, url)
  if (!auth.ok) return plain(res, 403, FORBIDDEN_TEXT)
  if (url.pathname === '/ws') return plain(res, 426, 'This path is for WebSocket connections.\n')
  const found = await lookupStatic(staticDir, url.pathname)
  if (!found.ok) return plain(res, found.status, `${found.status === 404 ? 'Not found' : 'Bad request'}: ${found.reason}.\n`)
  if (auth.fromQuery) res.setHeader('Set-Cookie', gate.setCookieHeader())
  res.writeHead(200, { 'Content-Type': found.contentType, 'Content-Length': found.size })
  if (req.method === 'HEAD') return void res.end()
  const stream = createReadStream(found.file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** Why a WebSocket handshake is refused, or undefined when it may proceed. */
function upgradeRefusal(gate: Gate, req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname !== '/ws') return 'not found'
  if (!gate.hostAllowed(req)) return 'unexpected Host header'
  if (!gate.originAllowed(req)) return 'the page is not from this server (Origin refused)'
  if (!gate.token(req, url).ok) return 'missing or wrong token'
  return undefined
}

function rejectUpgrade(socket: Duplex, status: 403 | 404, reason: string): void {
  const body = `${status === 404 ? 'Not found' : 'Forbidden'}: ${reason}.\n`
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Forbidden'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** One browser connection: validate each message, forward it, answer on this socket only. */
function relay(ws: WebSocket, engine: ServerEngine): void {
  let inFlight = 0
  // Sessions this browser created: a closed tab must not leave them training (and holding one of
  // the host's session slots) forever. Its store recreates them if the page reconnects.
  const owned = new Set<string>()
  ws.on('close', () => {
    for (const sessionId of owned) {
      void engine.request({ v: PROTOCOL_VERSION, id: 0, kind: 'session.dispose', payload: { sessionId } }).catch(() => undefined)
    }
    owned.clear()
  })
  ws.on('error', () => ws.terminate())
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return send(ws, errorReply(0, 'invalid_message', 'binary frames are not accepted; send JSON text'))
    let raw: unknown
    try {
      raw = JSON.parse(textOf(data))
    } catch (err) {
      return send(ws, errorReply(0, 'invalid_message', `the message is not valid JSON (${err instanceof Error ? err.message : 'parse error'})`))
    }
    const parsed = parseRequest(raw)
    if (!parsed.ok) return send(ws, errorReply(parsed.id ?? 0, parsed.error.code, parsed.error.message))
    if (inFlight >= MAX_IN_FLIGHT) {
      return send(ws, errorReply(parsed.value.id, 'limit', `${parsed.value.kind}: more than ${MAX_IN_FLIGHT} requests are waiting on this connection; wait for replies`))
    }
    inFlight++
    void engine
      .request(raw)
      .catch((err: unknown) => errorReply(parsed.value.id, 'internal', `${parsed.value.kind}: ${err instanceof Error ? err.message : String(err)}`))
      .then((reply) => {
        inFlight--
        trackOwnership(owned, parsed.value.kind, parsed.value.payload, reply)
        send(ws, reply)
      })
  })
}

function trackOwnership(owned: Set<string>, kind: string, payload: unknown, reply: ReplyMessage): void {
  if (!reply.ok) return
  if (kind === 'session.create') {
    const id = (reply.result as { state?: { sessionId?: unknown } } | null)?.state?.sessionId
    if (typeof id === 'string') owned.add(id)
  } else if (kind === 'session.dispose') {
    owned.delete((payload as { sessionId: string }).sessionId)
  }
}

function broadcast(wss: WebSocketServer, msg: EventMessage): void {
  if (wss.clients.size === 0) return
  const text = JSON.stringify(msg)
  for (const ws of wss.clients) {
    if (ws.readyState !== WebSocket.OPEN) continue
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.close(1013, 'client too slow to keep up with events')
    else ws.send(text)
  }
}

function send(ws: WebSocket, reply: ReplyMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return
  let text: string
  try {
    text = JSON.stringify(reply)
  } catch (err) {
    text = JSON.stringify(errorReply(reply.id, 'internal', `the reply could not be encoded: ${err instanceof Error ? err.message : String(err)}`))
  }
  ws.send(text)
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
}
