// Serve mode's HTTP + WebSocket server: hands the built renderer to a browser that shows the
// per-launch token, and relays protocol messages between its WebSocket and the engine host.
// Browsers are untrusted: every message is validated here before the engine sees it. Connections
// are capped (maxClients); each is one client of the host (serve-clients.ts).
import { createReadStream } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { eventMessage } from '../shared/protocol'
import { ClientLink, routeEvent, type ClientEngine, type ClientStats } from './serve-clients'
import { ResumableClients } from './serve-resume'
import { createGate, hostHeaderCount, isLoopbackHost, TOKEN_PATTERN, type Gate } from './serve-auth'
import { rateLimiter, serveWatch, WATCH_PATH } from './serve-watch'
import { lookupStatic } from './static-files'
import { WATCH_LIMITS } from '../shared/protocol-watch'

export { MAX_IN_FLIGHT, SLOW_CLIENT_BYTES, STUCK_CLIENT_BYTES } from './serve-clients'
export type ServerEngine = ClientEngine

/** Connections served at once by default; each costs the events it is sent. */
export const DEFAULT_MAX_CLIENTS = 32

export interface ServerOptions {
  host?: string
  /** 0 picks any free port. */
  port?: number
  token: string
  staticDir: string
  engine: ServerEngine
  /** Binding beyond loopback exposes the engine to the network; the caller must opt in. */
  allowNonLoopback?: boolean
  /** At most this many WebSocket connections at once; more are closed with 1013 and the reason. */
  maxClients?: number
  /** How long a closed resumable connection's sessions wait to be taken over (serve-resume.ts). */
  resumeGraceMs?: number
}

export interface RunningServer {
  /** The address to open, token included. */
  url: string
  /** http://host:port, without the token. */
  origin: string
  port: number
  /** The address actually bound (e.g. 127.0.0.1). */
  address: string
  /** The open connections: what each has waiting to be written and what it was not sent. */
  clients(): ClientStats[]
  close(): Promise<void>
}

export const MAX_MESSAGE_BYTES = 1024 * 1024

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
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS
  const links = new Map<WebSocket, ClientLink>()
  // The host disposes the sessions and uploads a client owned, finished or still being made.
  const release = (client: string): void => void Promise.resolve(engine.release?.(client)).catch(() => undefined)
  const resumable = new ResumableClients(release, options.resumeGraceMs, maxClients)
  let gate: Gate | undefined
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  const allowWatch = rateLimiter(WATCH_LIMITS.maxPostsPerSecond)
  const watch = (g: Gate, req: IncomingMessage, res: ServerResponse, url: URL) => serveWatch(g, engine, allowWatch, req, res, url)

  const server = createServer((req, res) => {
    if (!gate) return plain(res, 503, 'Starting, try again.\n')
    serveHttp(gate, staticDir, req, res, watch).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal error.\n')
      else res.destroy()
    })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const refusal = gate ? upgradeRefusal(gate, req) : 'starting'
    if (refusal) return rejectUpgrade(socket, refusal === 'not found' ? 404 : refusal === 'more than one Host header' ? 400 : 403, refusal)
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Refused after the handshake so a browser can read why (it sees no HTTP status).
      if (links.size >= maxClients) return ws.close(1013, `too many connections: this server accepts ${maxClients} at once`)
      const attached = resumable.attach(new URL(req.url ?? '/', 'http://localhost').searchParams.get('resume'))
      const link = new ClientLink(attached.client, ws, engine)
      links.set(ws, link)
      if (attached.key) ws.send(JSON.stringify(eventMessage('client.resume', { key: attached.key, resumed: attached.resumed })))
      ws.on('close', (code) => {
        links.delete(ws)
        resumable.detach(attached, code)
      })
    })
  })
  const offEvents = engine.onEvent((msg, owner) => routeEvent(links.values(), msg, owner))

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
    clients: () => [...links.values()].map((l) => l.stats()),
    close: async () => {
      offEvents()
      resumable.close()
      for (const ws of wss.clients) ws.close(1001, 'server shutting down')
      // A client that does not answer the close frame must not hold the stop up (ws waits 30 s).
      const stragglers = setTimeout(() => wss.clients.forEach((ws) => ws.terminate()), 1000)
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      clearTimeout(stragglers)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

type WatchRoute = (gate: Gate, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>

async function serveHttp(gate: Gate, staticDir: string, req: IncomingMessage, res: ServerResponse, watch: WatchRoute): Promise<void> {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
  // Node keeps the first of several Host headers; a proxy may have read the last. Refuse both.
  if (hostHeaderCount(req) > 1) return plain(res, 400, 'Bad request: more than one Host header.\n')
  if (!gate.hostAllowed(req))
    return plain(res, 403, 'Forbidden: unexpected Host header (this server answers only 127.0.0.1 and localhost).\n')
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname === WATCH_PATH) return watch(gate, req, res, url)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    return plain(res, 405, 'Method not allowed.\n')
  }
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
  if (hostHeaderCount(req) > 1) return 'more than one Host header'
  if (!gate.hostAllowed(req)) return 'unexpected Host header'
  if (!gate.originAllowed(req)) return 'the page is not from this server (Origin refused)'
  if (!gate.token(req, url).ok) return 'missing or wrong token'
  return undefined
}

const STATUS_TEXT = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' } as const

function rejectUpgrade(socket: Duplex, status: 400 | 403 | 404, reason: string): void {
  const body = `${STATUS_TEXT[status]}: ${reason}.\n`
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
