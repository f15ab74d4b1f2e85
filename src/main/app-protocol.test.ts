// The app:// protocol handler over real files: what Electron's protocol.handle would answer for
// the built renderer, including the CSP header and every way out of out/renderer it must refuse.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { APP_CSP, handleAppRequest, resolveAppFile } from './app-protocol'

const work = mkdtempSync(join(tmpdir(), 'bps-app-protocol-'))
const renderer = join(work, 'out', 'renderer')
mkdirSync(join(renderer, 'assets'), { recursive: true })
writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>studio</title>')
writeFileSync(join(renderer, 'assets', 'index-abc.js'), 'export const x = 1')
writeFileSync(join(work, 'out', 'secret.txt'), 'outside the bundle')
writeFileSync(join(work, 'out', 'main.js'), 'outside the bundle')
symlinkSync(join(work, 'out', 'secret.txt'), join(renderer, 'assets', 'link.txt'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const get = (url: string, method = 'GET'): Promise<Response> => handleAppRequest(new Request(url, { method }), renderer)

describe('app:// protocol', () => {
  it('serves the page and its assets with their type, the CSP header and nosniff', async () => {
    const page = await get('app://bundle/index.html')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<title>studio</title>')
    const js = await get('app://bundle/assets/index-abc.js')
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toBe('export const x = 1')
    for (const r of [page, js]) {
      expect(r.headers.get('content-security-policy')).toBe(APP_CSP)
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect((await get('app://bundle/')).status).toBe(200) // a folder means its index.html
  })

  it('sends a CSP without WebSockets (Electron talks over IPC) and with frame-ancestors', () => {
    expect(APP_CSP).not.toMatch(/ws:|wss:/)
    expect(APP_CSP).toContain("connect-src 'self'")
    expect(APP_CSP).toContain("frame-ancestors 'none'")
    expect(APP_CSP).toContain("script-src 'self'")
  })

  it('refuses every way out of out/renderer: dot segments, encoded dots and slashes, symlinks', async () => {
    // new Request/URL already collapse "..": the handler must refuse what reaches it anyway.
    for (const url of [
      'app://bundle/../secret.txt',
      'app://bundle/%2e%2e/secret.txt',
      'app://bundle/assets/..%2f..%2fsecret.txt',
      'app://bundle/..%2fmain.js',
      'app://bundle/assets%5c..%5c..%5csecret.txt',
      'app://bundle/assets/link.txt',
    ]) {
      const r = await get(url)
      expect(r.status, url).toBeGreaterThanOrEqual(400)
      expect(await r.text(), url).not.toContain('outside the bundle')
    }
    expect(await resolveAppFile('app://bundle/assets/..%2f..%2fsecret.txt', renderer)).toEqual({
      ok: false,
      status: 400,
      reason: 'encoded slash in the path',
    })
  })

  it('refuses other hosts, other schemes, missing files and non-GET methods', async () => {
    expect((await get('app://elsewhere/index.html')).status).toBe(404)
    expect(await resolveAppFile('file:///etc/passwd', renderer)).toMatchObject({ ok: false, status: 404 })
    expect(await resolveAppFile('not a url', renderer)).toMatchObject({ ok: false, status: 400 })
    expect((await get('app://bundle/nope.js')).status).toBe(404)
    expect((await get('app://bundle/index.html', 'POST')).status).toBe(405)
    const head = await get('app://bundle/index.html', 'HEAD')
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })
})
