// Pure URL checks behind the window hardening and the IPC sender checks. Kept free of
// `electron` imports so vitest can exercise them in plain Node.

export type AppOrigin =
  | { kind: 'dev'; origin: string } // electron-vite dev server (ELECTRON_RENDERER_URL)
  | { kind: 'file'; indexUrl: string } // the built out/renderer/index.html

export function devOrigin(rendererUrl: string): AppOrigin {
  return { kind: 'dev', origin: new URL(rendererUrl).origin }
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
  return parsed.protocol === 'file:' && stripHashAndQuery(parsed.href) === app.indexUrl
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
