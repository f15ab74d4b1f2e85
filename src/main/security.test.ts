import { describe, expect, it } from 'vitest'
import { APP_INDEX_URL, bundleOrigin, devOrigin, fileOrigin, isAppUrl, navigationAllowed, rendererUrl } from './security'

describe('isAppUrl', () => {
  const dev = devOrigin('http://127.0.0.1:5173/')
  const built = fileOrigin('file:///opt/app/out/renderer/index.html')

  it('accepts pages on the dev server origin and rejects other origins', () => {
    expect(isAppUrl('http://127.0.0.1:5173/#/train', dev)).toBe(true)
    expect(isAppUrl('http://127.0.0.1:5174/', dev)).toBe(false)
    expect(isAppUrl('http://localhost:5173/', dev)).toBe(false)
    expect(isAppUrl('https://example.com/', dev)).toBe(false)
  })

  it('accepts only the built index.html among file:// URLs, ignoring hash and query', () => {
    expect(isAppUrl('file:///opt/app/out/renderer/index.html', built)).toBe(true)
    expect(isAppUrl('file:///opt/app/out/renderer/index.html?x=1#/runs', built)).toBe(true)
    expect(isAppUrl('file:///opt/app/out/renderer/other.html', built)).toBe(false)
    expect(isAppUrl('file:///etc/passwd', built)).toBe(false)
    expect(isAppUrl('https://opt/app/out/renderer/index.html', built)).toBe(false)
  })

  it('rejects unparsable URLs and about:blank instead of throwing', () => {
    expect(isAppUrl('not a url', dev)).toBe(false)
    expect(isAppUrl('', built)).toBe(false)
    expect(isAppUrl('about:blank', built)).toBe(false)
  })
})

describe('isAppUrl for the app:// bundle', () => {
  const bundle = bundleOrigin()

  it('accepts only app://bundle/index.html (any hash or query), not other files, hosts or schemes', () => {
    expect(isAppUrl('app://bundle/index.html', bundle)).toBe(true)
    expect(isAppUrl('app://bundle/index.html?x=1#/runs', bundle)).toBe(true)
    expect(isAppUrl('app://bundle/assets/index.js', bundle)).toBe(false)
    expect(isAppUrl('app://other/index.html', bundle)).toBe(false)
    expect(isAppUrl('https://bundle/index.html', bundle)).toBe(false)
    expect(isAppUrl('file:///opt/app/out/renderer/index.html', bundle)).toBe(false)
  })
})

describe('navigationAllowed (will-frame-navigate)', () => {
  const bundle = bundleOrigin()

  it('lets only the top frame go to the app page; every subframe navigation is refused', () => {
    expect(navigationAllowed({ url: `${APP_INDEX_URL}#/train`, isMainFrame: true }, bundle)).toBe(true)
    expect(navigationAllowed({ url: 'https://example.com/', isMainFrame: true }, bundle)).toBe(false)
    expect(navigationAllowed({ url: APP_INDEX_URL, isMainFrame: false }, bundle)).toBe(false)
    expect(navigationAllowed({ url: 'about:blank', isMainFrame: false }, bundle)).toBe(false)
    expect(navigationAllowed({ url: 'data:text/html,<script>1</script>', isMainFrame: true }, bundle)).toBe(false)
  })
})

describe('rendererUrl: which page the window loads', () => {
  const built = { url: APP_INDEX_URL, origin: bundleOrigin() }
  const dev = { ELECTRON_RENDERER_URL: 'http://localhost:5173', BPS_DEV_SERVER: '1' }

  it('loads the bundle when no dev server is named', () => {
    expect(rendererUrl({}, false)).toEqual(built)
    expect(rendererUrl({ BPS_DEV_SERVER: '1' }, false)).toEqual(built)
  })

  it('follows ELECTRON_RENDERER_URL only under `npm run dev` in an unpackaged app, on loopback', () => {
    expect(rendererUrl(dev, false)).toEqual({ url: 'http://localhost:5173/', origin: devOrigin('http://localhost:5173/') })
    expect(rendererUrl({ ...dev, ELECTRON_RENDERER_URL: 'http://127.0.0.1:5174/' }, false).url).toBe('http://127.0.0.1:5174/')
  })

  it('ignores it, and says why, in a packaged app, without the dev flag, or off this machine', () => {
    const cases: [Record<string, string>, boolean, RegExp][] = [
      [dev, true, /packaged app/],
      [{ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, false, /only `npm run dev`/],
      [{ ...dev, BPS_DEV_SERVER: 'yes' }, false, /only `npm run dev`/],
      [{ ...dev, ELECTRON_RENDERER_URL: 'https://evil.example/' }, false, /on this machine/],
      [{ ...dev, ELECTRON_RENDERER_URL: 'file:///tmp/x.html' }, false, /not an http/],
      [{ ...dev, ELECTRON_RENDERER_URL: 'not a url' }, false, /not a URL/],
    ]
    for (const [env, packaged, why] of cases) {
      const r = rendererUrl(env, packaged)
      expect(r.url).toBe(APP_INDEX_URL)
      expect(r.origin).toEqual(bundleOrigin())
      expect(r.ignored).toMatch(why)
    }
  })
})
