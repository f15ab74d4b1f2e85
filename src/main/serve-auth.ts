// Who may talk to the serve-mode server: the per-launch token (query or cookie, compared in
// constant time), the Host header (DNS-rebinding guard) and the WebSocket Origin.
//
// Cookies ignore ports: a browser sends 127.0.0.1's cookies to every server on 127.0.0.1, whatever
// its port, and no prefix (__Host- included) changes that. So the cookie never carries the token:
// it carries a value derived from it for this port (an HMAC), which another server on another
// port can neither accept (its name and value differ) nor turn into the printed token. A program
// listening on another local port that the same browser visits still sees the value and could use
// it against this port; the URL token and the Origin check are what keep other web pages out.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/** Tokens travel in URLs and cookies unescaped, so keep them to URL-safe characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  return isIP(h) === 6 && (h === '::1' || h === '0:0:0:0:0:0:0:1')
}

/** Hashing first makes both sides the same length, so timingSafeEqual never leaks the length. */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** How many Host headers a request carries (Node's req.headers keeps only the first). */
export function hostHeaderCount(req: IncomingMessage): number {
  let n = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === 'host') n++
  return n
}

/** What the cookie holds for the server on `port`: derived from the token, never the token. */
export function cookieValue(token: string, port: number): string {
  return createHmac('sha256', token).update(`backprop-studio cookie for port ${port}`).digest('base64url')
}

export interface Gate {
  /** Cookies ignore ports, so the name carries it: two servers on one host do not collide. */
  readonly cookieName: string
  /** The Host header is acceptable (always true when bound to a non-loopback address). */
  hostAllowed(req: IncomingMessage): boolean
  /** The request carries the right token, and whether it came in the query string. */
  token(req: IncomingMessage, url: URL): { ok: boolean; fromQuery: boolean }
  /** An API call's token (the Authorization header's, else the query's): never the cookie a browser adds by itself. */
  apiToken(given: string | undefined, url: URL): boolean
  /** The WebSocket handshake comes from a page served by this server. */
  originAllowed(req: IncomingMessage): boolean
  setCookieHeader(): string
}

export function createGate(token: string, port: number, boundToLoopback: boolean): Gate {
  const loopbackHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
  const ownOrigins = new Set(loopbackHosts.map((h) => `http://${h}`))
  const cookieName = `backprop_studio_${port}`
  const cookie = cookieValue(token, port)
  const hostOf = (req: IncomingMessage): string => (req.headers.host ?? '').toLowerCase()
  return {
    cookieName,
    hostAllowed: (req) => !boundToLoopback || loopbackHosts.includes(hostOf(req)),
    token(req, url) {
      const query = url.searchParams.get('token') ?? undefined
      if (tokensEqual(query, token)) return { ok: true, fromQuery: true }
      return { ok: tokensEqual(readCookie(req.headers.cookie, cookieName), cookie), fromQuery: false }
    },
    apiToken: (given, url) => tokensEqual(given ?? url.searchParams.get('token') ?? undefined, token),
    originAllowed(req) {
      const origin = req.headers.origin
      if (!origin) return false
      if (ownOrigins.has(origin)) return true
      // Bound to a LAN address on purpose: the page's origin is whatever host name the user typed.
      return !boundToLoopback && origin === `http://${hostOf(req)}`
    },
    setCookieHeader: () => `${cookieName}=${cookie}; HttpOnly; SameSite=Strict; Path=/`,
  }
}
