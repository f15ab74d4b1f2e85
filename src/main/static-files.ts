// Maps a request path to a file inside the built renderer, refusing anything that would leave
// that folder (dot segments, encoded slashes, symlinks pointing out) and unknown file types.
import { realpath, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
}

export type StaticLookup = { ok: true; file: string; size: number; contentType: string } | { ok: false; status: 400 | 404; reason: string }

export async function lookupStatic(staticDir: string, pathname: string): Promise<StaticLookup> {
  // An encoded separator names no file of ours; decoding it would change where the path splits.
  if (/%(2f|5c)/i.test(pathname)) return { ok: false, status: 400, reason: 'encoded slashes and backslashes are refused' }
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding in the path' }
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400, reason: 'invalid characters in the path' }
  if (decoded.split('/').includes('..')) return { ok: false, status: 400, reason: 'the path leaves the app folder' }
  const rel = decoded.endsWith('/') ? `${decoded}index.html` : decoded
  const root = resolve(staticDir)
  const candidate = join(root, rel)
  if (!inside(root, candidate)) return { ok: false, status: 400, reason: 'the path leaves the app folder' }
  try {
    // Resolve symlinks on both sides: a link inside out/renderer must not reach outside it.
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)])
    if (!inside(realRoot, realFile)) return { ok: false, status: 404, reason: 'not found' }
    const info = await stat(realFile)
    if (!info.isFile()) return { ok: false, status: 404, reason: 'not found' }
    const contentType = MIME[extname(realFile).toLowerCase()]
    if (!contentType) return { ok: false, status: 404, reason: 'not found' }
    return { ok: true, file: realFile, size: info.size, contentType }
  } catch {
    return { ok: false, status: 404, reason: 'not found' }
  }
}

function inside(root: string, file: string): boolean {
  const r = relative(root, file)
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r)
}
