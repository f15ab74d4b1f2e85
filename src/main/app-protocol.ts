// The app:// protocol the Electron window loads the built renderer from (instead of file://, where
// every file on disk shares one origin): app://bundle/… maps to files inside out/renderer only,
// with the CSP sent as a response header. Pure Fetch API (Request → Response) and no `electron`
// import, so vitest serves real files through it; index.ts registers it with Electron.
import { readFile } from 'node:fs/promises'
import { lookupStatic } from './static-files'

export const APP_SCHEME = 'app'
export const APP_HOST = 'bundle'

/**
 * For protocol.registerSchemesAsPrivileged: standard (relative URLs and an origin of its own),
 * secure (like https: no mixed-content downgrade), fetch and CORS so module scripts load.
 * Not bypassCSP, no service workers.
 */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } as const

/**
 * The policy for the app's own pages, as a header (a meta tag cannot carry frame-ancestors).
 * The Electron renderer talks to main over IPC, never a socket: connect-src has no ws:.
 * (Serve mode sends its own policy from server.ts.)
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const HEADERS = { 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' }

export type AppFile = { ok: true; file: string; contentType: string } | { ok: false; status: 400 | 404; reason: string }

/**
 * The file inside `rendererDir` that an app:// URL names, or why none: another scheme or host, an
 * encoded slash or backslash (a second way to spell a path is a way around the checks), a dot
 * segment, a symlink out, or anything lookupStatic does not serve.
 */
export async function resolveAppFile(url: string, rendererDir: string): Promise<AppFile> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' }
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST)
    return { ok: false, status: 404, reason: 'not an app:// bundle URL' }
  if (/%(2f|5c)/i.test(parsed.pathname)) return { ok: false, status: 400, reason: 'encoded slash in the path' }
  const found = await lookupStatic(rendererDir, parsed.pathname)
  return found.ok ? { ok: true, file: found.file, contentType: found.contentType } : found
}

/** The protocol handler: the file with its type and the CSP, or a short plain-text refusal. */
export async function handleAppRequest(request: Request, rendererDir: string): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('method not allowed', { status: 405, headers: HEADERS })
  }
  const found = await resolveAppFile(request.url, rendererDir)
  if (!found.ok) return new Response(found.reason, { status: found.status, headers: { ...HEADERS, 'Content-Type': 'text/plain' } })
  let body: Buffer | null = null
  try {
    if (request.method === 'GET') body = await readFile(found.file)
  } catch {
    return new Response('not found', { status: 404, headers: { ...HEADERS, 'Content-Type': 'text/plain' } }) // gone since the lookup
  }
  return new Response(body, { status: 200, headers: { ...HEADERS, 'Content-Type': found.contentType } })
}
