// Pure URL decisions behind the window hardening and the IPC sender checks: which page the window
// loads, where a frame may navigate, who may use IPC. Kept free of `electron` imports so vitest
// can exercise them in plain Node.

export type AppOrigin =
  | { kind: 'dev'; origin: string } // electron-vite dev server (ELECTRON_RENDERER_URL)
  | { kind: 'bundle'; indexUrl: string } // the built renderer on the app:// protocol (app-protocol.ts)
  | { kind: 'file'; indexUrl: string } // a built index.html on file:// (no longer loaded by the app)

/** The built renderer's page, served by app-protocol.ts. */
export const APP_INDEX_URL = 'app://bundle/index.html'

export function devOrigin(rendererUrl: string): AppOrigin {
  return { kind: 'dev', origin: new URL(rendererUrl).origin }
}

export function bundleOrigin(): AppOrigin {
  return { kind: 'bundle', indexUrl: APP_INDEX_URL }
}

export function fileOrigin(indexFileUrl: string): AppOrigin {
  return { kind: 'file', indexUrl: stripHashAndQuery(indexFileUrl) }
}

/** True when `url` is a page of this app: same dev-server origin, or exactly our index.html. */
export function isAppUrl(url: string, app: AppOrigin): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (app.kind === 'dev') {
    return parsed.origin === app.origin
  }
  // Any file:// page could be loaded by a compromised renderer; only our own index is trusted.
  // app:// is not a special scheme for Node's URL (its origin is "null"), so compare whole URLs.
  const protocol = app.kind === 'file' ? 'file:' : 'app:'
  return parsed.protocol === protocol && stripHashAndQuery(parsed.href) === app.indexUrl
}

/** What Electron's will-frame-navigate tells us (WebContentsWillFrameNavigateEventParams). */
export interface FrameNavigation {
  url: string
  isMainFrame: boolean
}

/**
 * Whether a frame may navigate: only the top frame, and only to our own page (hash routes
 * excepted: they do not navigate). The app has no iframes, so any subframe navigation is content
 * we did not put there (injected markup, an ad in a pasted link) and is refused wherever it goes.
 */
export function navigationAllowed(nav: FrameNavigation, app: AppOrigin): boolean {
  return nav.isMainFrame && isAppUrl(nav.url, app)
}

/** Hosts a dev server may run on: electron-vite's own, on this machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

export interface RendererChoice {
  url: string
  origin: AppOrigin
  /** Set when ELECTRON_RENDERER_URL was present and ignored: why (for one line on stderr). */
  ignored?: string
}

/**
 * The page the window loads. ELECTRON_RENDERER_URL (set by electron-vite dev) is honoured only in
 * an unpackaged app started by `npm run dev` (scripts/launch-electron.mjs sets BPS_DEV_SERVER=1)
 * and only for an http(s) server on loopback: anything else in the environment cannot point the
 * app, and its IPC bridge, at a foreign page.
 */
export function rendererUrl(env: Record<string, string | undefined>, isPackaged: boolean): RendererChoice {
  const built: RendererChoice = { url: APP_INDEX_URL, origin: bundleOrigin() }
  const dev = env['ELECTRON_RENDERER_URL']
  if (!dev) return built
  const ignore = (why: string): RendererChoice => ({ ...built, ignored: `ignoring ELECTRON_RENDERER_URL=${dev}: ${why}` })
  if (isPackaged) return ignore('a packaged app always loads its own bundle')
  if (env['BPS_DEV_SERVER'] !== '1') return ignore('only `npm run dev` may set it (BPS_DEV_SERVER=1)')
  let parsed: URL
  try {
    parsed = new URL(dev)
  } catch {
    return ignore('not a URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return ignore('not an http(s) URL')
  if (!LOOPBACK.has(parsed.hostname)) return ignore('the dev server must be on this machine (localhost)')
  return { url: parsed.href, origin: devOrigin(parsed.href) }
}

function stripHashAndQuery(href: string): string {
  const u = new URL(href)
  u.hash = ''
  u.search = ''
  return u.href
}

/** What an IPC event tells us about its sender (Electron's WebFrameMain, or null once destroyed). */
export interface SenderFrame {
  url: string
  parent: unknown
}

/** Only our own top-level page may use IPC: never a destroyed frame, a subframe or a foreign page. */
export function isTrustedSender(frame: SenderFrame | null | undefined, app: AppOrigin): boolean {
  return frame != null && frame.parent === null && isAppUrl(frame.url, app)
}
