// Serve mode's gate over real sockets: only the exact token opens it (a prefix or an extension of
// it never does, by query, cookie or WebSocket handshake), the cookie never carries the token and
// is only good for its own port, several Host headers are refused, and so are encoded slashes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { okReply, type EventMessage, type ReplyMessage } from '../shared/protocol'
import { cookieValue } from './serve-auth'
import { connect, get, rawStatus } from './serve-test-helpers'
import { startServer, type RunningServer } from './server'

const TOKEN = 'Tok_0123456789abcdefGHIJ'
const engine = {
  request: (m: unknown): Promise<ReplyMessage> => Promise.resolve(okReply((m as { id: number }).id, {})),
  onEvent: (_cb: (m: EventMessage) => void) => () => undefined,
}
let root: string
let server: RunningServer
const cookie = (value: string, port = server.port): Record<string, string> => ({ Cookie: `backprop_studio_${port}=${value}` })
/** Near misses of a secret: every prefix length that matters, and extensions of it. */
const nearMisses = (secret: string): string[] => [
  secret.slice(0, -1),
  secret.slice(0, 16),
  secret.slice(0, 1),
  `${secret}x`,
  `${secret}${secret}`,
  `${secret.slice(0, -1)}${secret.at(-1) === 'A' ? 'B' : 'A'}`,
]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bps-auth-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Backprop Studio</title>')
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)')
  server = await startServer({ token: TOKEN, staticDir: root, engine })
})
afterAll(async () => {
  await server.close()
  rmSync(root, { recursive: true, force: true })
})

describe('serve token: the exact value only', () => {
  it('accepts the exact token, and refuses each prefix and extension of it in the query', async () => {
    expect((await get(server.port, `/?token=${TOKEN}`)).status).toBe(200)
    for (const t of nearMisses(TOKEN)) expect((await get(server.port, `/?token=${t}`)).status, t).toBe(403)
  })

  it('refuses each prefix and extension of the cookie value, and the token itself as a cookie', async () => {
    const value = cookieValue(TOKEN, server.port)
    expect((await get(server.port, '/assets/app.js', cookie(value))).status).toBe(200)
    for (const v of [...nearMisses(value), TOKEN]) expect((await get(server.port, '/assets/app.js', cookie(v))).status, v).toBe(403)
  })

  it('refuses a cookie made for another port, even under this port’s name', async () => {
    expect(cookieValue(TOKEN, server.port + 1)).not.toBe(cookieValue(TOKEN, server.port))
    expect((await get(server.port, '/', cookie(cookieValue(TOKEN, server.port + 1)))).status).toBe(403)
    expect((await get(server.port, '/', cookie(cookieValue(TOKEN, server.port), server.port + 1))).status).toBe(403)
  })

  it('opens the WebSocket for the exact token only, by query or cookie', async () => {
    ;(await connect(server.port, `?token=${TOKEN}`)).close()
    ;(await connect(server.port, '', cookie(cookieValue(TOKEN, server.port)))).close()
    for (const t of nearMisses(TOKEN)) await expect(connect(server.port, `?token=${t}`), t).rejects.toThrow(/403/)
    for (const v of [...nearMisses(cookieValue(TOKEN, server.port)), TOKEN])
      await expect(connect(server.port, '', cookie(v)), v).rejects.toThrow(/403/)
  })
})

describe('serve request hygiene', () => {
  it('refuses encoded slashes and backslashes with 400 instead of decoding them', async () => {
    const auth = cookie(cookieValue(TOKEN, server.port))
    expect((await get(server.port, '/assets/app.js', auth)).status).toBe(200)
    for (const path of ['/assets%2fapp.js', '/assets%2Fapp.js', '/assets%5capp.js', '/assets%5Capp.js']) {
      const res = await get(server.port, path, auth)
      expect(res.status, path).toBe(400)
      expect(res.body).toMatch(/encoded slashes/)
    }
  })

  it('answers 400 to a request with two Host headers, whichever comes first', async () => {
    const ok = `127.0.0.1:${server.port}`
    const req = (hosts: string[], path: string, extra = ''): string =>
      `GET ${path} HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}${extra}Connection: close\r\n\r\n`
    expect(await rawStatus(server.port, req([ok], `/?token=${TOKEN}`))).toBe(200)
    expect(await rawStatus(server.port, req([ok, 'evil.example'], `/?token=${TOKEN}`))).toBe(400)
    expect(await rawStatus(server.port, req(['evil.example', ok], `/?token=${TOKEN}`))).toBe(400)
    const upgrade = `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://${ok}\r\n`
    expect(await rawStatus(server.port, req([ok], `/ws?token=${TOKEN}`, upgrade).replace('Connection: close', 'Connection: Upgrade'))).toBe(
      101,
    )
    expect(
      await rawStatus(server.port, req([ok, ok], `/ws?token=${TOKEN}`, upgrade).replace('Connection: close', 'Connection: Upgrade')),
    ).toBe(400)
  })
})
