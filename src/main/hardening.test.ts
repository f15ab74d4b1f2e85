// The Electron-facing hardening (window.ts, ipc.ts) against a fake `electron`: the real module
// must never load under vitest (it would try to download the Electron binary).
import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { APP_INDEX_URL, bundleOrigin } from './security'

const handlers = vi.hoisted(() => new Map<string, (event: unknown) => unknown>())
const windows = vi.hoisted(() => [] as { webPreferences: Record<string, unknown> }[])
vi.mock('electron', () => ({
  app: { getName: () => 'backprop-studio', getVersion: () => '0.1.0' },
  ipcMain: { handle: (channel: string, fn: (event: unknown) => unknown) => handlers.set(channel, fn) },
  BrowserWindow: class {
    constructor(options: { webPreferences: Record<string, unknown> }) {
      windows.push(options)
    }
    once(): void {}
    loadURL(): Promise<void> {
      return Promise.resolve()
    }
  },
  session: {},
}))

const { createMainWindow, hardenWebContents } = await import('./window')
const { registerIpcHandlers } = await import('./ipc')

const indexUrl = APP_INDEX_URL
const origin = bundleOrigin()

class FakeContents extends EventEmitter {
  openHandler: ((details: { url: string }) => unknown) | undefined
  setWindowOpenHandler(h: (details: { url: string }) => unknown): void {
    this.openHandler = h
  }
  /** Emits a navigation-like event and reports whether a handler vetoed it. */
  attempt(event: string, url?: string): 'blocked' | 'allowed' {
    let blocked = false
    this.emit(event, { preventDefault: () => (blocked = true) }, url)
    return blocked ? 'blocked' : 'allowed'
  }
  /** will-frame-navigate passes one details object that is also the event. */
  frameNavigation(url: string, isMainFrame: boolean): 'blocked' | 'allowed' {
    let blocked = false
    this.emit('will-frame-navigate', { url, isMainFrame, isSameDocument: false, frame: null, preventDefault: () => (blocked = true) })
    return blocked ? 'blocked' : 'allowed'
  }
}

describe('createMainWindow', () => {
  it('keeps the page isolated and sandboxed, without Node, with the CommonJS preload', () => {
    createMainWindow(APP_INDEX_URL)
    const prefs = windows.at(-1)!.webPreferences
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
    // The file preload-bundle.test.ts builds and checks (a sandboxed preload cannot be an ES module).
    expect(String(prefs['preload'])).toMatch(/[/\\]preload[/\\]index\.cjs$/)
  })
})

describe('hardenWebContents', () => {
  const contents = new FakeContents()
  hardenWebContents(contents as never, origin)

  it('denies every new window', () => {
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' })
    expect(contents.openHandler?.({ url: indexUrl })).toEqual({ action: 'deny' })
  })

  it('lets the page navigate within itself only', () => {
    expect(contents.attempt('will-navigate', `${indexUrl}#/runs`)).toBe('allowed')
    expect(contents.attempt('will-navigate', 'https://example.com/')).toBe('blocked')
    expect(contents.attempt('will-navigate', 'file:///etc/passwd')).toBe('blocked')
    expect(contents.attempt('will-navigate', 'file:///opt/app/out/renderer/index.html')).toBe('blocked')
    expect(contents.attempt('will-navigate', 'app://bundle/assets/index.js')).toBe('blocked')
    expect(contents.attempt('will-redirect', 'https://example.com/')).toBe('blocked')
    expect(contents.attempt('will-attach-webview')).toBe('blocked')
  })

  it('guards every frame: the top frame stays on the app page, subframes navigate nowhere', () => {
    expect(contents.frameNavigation(`${indexUrl}#/runs`, true)).toBe('allowed')
    expect(contents.frameNavigation('https://example.com/', true)).toBe('blocked')
    expect(contents.frameNavigation('app://evil/index.html', true)).toBe('blocked')
    expect(contents.frameNavigation('https://example.com/', false)).toBe('blocked')
    expect(contents.frameNavigation(indexUrl, false)).toBe('blocked')
    expect(contents.frameNavigation('javascript:alert(1)', false)).toBe('blocked')
  })
})

describe('app.info IPC handler', () => {
  registerIpcHandlers(origin, { request: () => Promise.reject(new Error('unused')), onEvent: () => () => undefined })
  const handle = handlers.get('app.info')

  it('answers the app page', () => {
    const reply = handle?.({ senderFrame: { url: indexUrl, parent: null } })
    expect(reply).toMatchObject({ ok: true, result: { name: 'backprop-studio', version: '0.1.0' } })
  })

  it('refuses foreign pages, subframes and destroyed frames', () => {
    const forbidden = { ok: false, error: { code: 'forbidden' } }
    expect(handle?.({ senderFrame: { url: 'https://example.com/', parent: null } })).toMatchObject(forbidden)
    expect(handle?.({ senderFrame: { url: 'file:///opt/app/out/renderer/index.html', parent: null } })).toMatchObject(forbidden)
    expect(handle?.({ senderFrame: { url: indexUrl, parent: {} } })).toMatchObject(forbidden)
    expect(handle?.({ senderFrame: null })).toMatchObject(forbidden)
  })
})
