// POST /api/watch: where studio_watch.py reports a PyTorch loop's loss and layer statistics. The
// same token as the page (Authorization: Bearer <token>, or ?token=; never the cookie, which a
// browser would attach by itself), the same Host check, no foreign Origin; bodies are capped,
// JSON only, validated with the protocol's WatchReport and rate limited before the engine sees
// them. Every refusal is JSON saying what was wrong: {ok:false, error:{code, message}}.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describeIssues, PROTOCOL_VERSION, type ReplyMessage } from '../shared/protocol'
import { WATCH_LIMITS, WatchReport } from '../shared/protocol-watch'
import type { Gate } from './serve-auth'

export const WATCH_PATH = '/api/watch'

interface WatchEngine {
  request(msg: unknown, client?: string | null): Promise<ReplyMessage>
}

/** A bucket of `perSecond` POSTs, refilled continuously. */
export function rateLimiter(perSecond: number, now: () => number = Date.now): () => boolean {
  let tokens = perSecond
  let last = now()
  return () => {
    const t = now()
    tokens = Math.min(perSecond, tokens + ((t - last) / 1000) * perSecond)
    last = t
    if (tokens < 1) return false
    tokens -= 1
    return true
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

const refuse = (res: ServerResponse, status: number, code: string, message: string): void =>
  reply(res, status, { ok: false, error: { code, message: `watch: ${message}` } })

/** Bytes of a refused body still read (and dropped) so the client gets the answer, not a reset. */
const DRAIN_BYTES = 4 * WATCH_LIMITS.maxBodyBytes

/** Refuse a body that is too big: answer, drop what else arrives, and cut a client that keeps sending. */
function tooBig(req: IncomingMessage, res: ServerResponse, message: string): void {
  res.setHeader('Connection', 'close')
  refuse(res, 413, 'limit', message)
  let drained = 0
  req.on('data', (c: Buffer) => {
    drained += c.length
    if (drained > DRAIN_BYTES) req.destroy()
  })
  req.resume()
}

/** The body, or null once a refusal has been sent (too big). */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (c: Buffer): void => {
      size += c.length
      if (size <= max) return void chunks.push(c)
      req.off('data', onData)
      tooBig(req, res, `the report has more than ${max} bytes; send fewer points per report`)
      resolve(null)
    }
    req.on('data', onData)
    req.on('end', () => {
      if (size <= max) resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', reject)
  })
}

function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  return m?.[1]
}

const STATUS_OF: Record<string, number> = { invalid_payload: 400, invalid_message: 400, not_found: 404, limit: 413, host_crashed: 503 }

let nextId = 1

/** Answer one request to WATCH_PATH (the caller has checked the path and the Host header). */
export async function serveWatch(
  gate: Gate,
  engine: WatchEngine,
  allow: () => boolean,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST')
    return refuse(res, 405, 'invalid_message', `${WATCH_PATH} takes POST requests only`)
  }
  if (!gate.apiToken(bearer(req), url))
    return refuse(res, 403, 'forbidden', 'missing or wrong token: pass the token the studio printed (Authorization: Bearer <token>)')
  // A page from elsewhere that learned the token still may not post from the user's browser.
  if (req.headers.origin !== undefined && !gate.originAllowed(req))
    return refuse(res, 403, 'forbidden', `requests from pages of ${req.headers.origin} are refused`)
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') return refuse(res, 415, 'invalid_message', `the body must be application/json, not "${type || 'none'}"`)
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > WATCH_LIMITS.maxBodyBytes)
    return tooBig(req, res, `the report has ${declared} bytes, more than ${WATCH_LIMITS.maxBodyBytes}; send fewer points per report`)
  if (!allow()) {
    res.setHeader('Retry-After', '1')
    return refuse(res, 429, 'limit', `more than ${WATCH_LIMITS.maxPostsPerSecond} reports a second; batch points into fewer reports`)
  }
  const text = await readBody(req, res, WATCH_LIMITS.maxBodyBytes)
  if (text === null) return
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return refuse(res, 400, 'invalid_message', `the body is not JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const parsed = WatchReport.safeParse(json)
  if (!parsed.success) return refuse(res, 400, 'invalid_payload', `the report is malformed: ${describeIssues(parsed.error)}`)
  const r = await engine.request({ v: PROTOCOL_VERSION, id: nextId++, kind: 'watch.report', payload: parsed.data }, null)
  if (!r.ok) return refuse(res, STATUS_OF[r.error.code] ?? 500, r.error.code, r.error.message)
  reply(res, 200, { ok: true, ...(r.result as object) })
}
