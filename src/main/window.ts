// Creates the studio window with Electron's security defaults made explicit, and locks down
// what any web contents may do: no new windows, no navigation away (of any frame), no webviews,
// no permissions.
import { BrowserWindow, session, type WebContents } from 'electron'
import { fileURLToPath } from 'node:url'
import { isAppUrl, navigationAllowed, type AppOrigin } from './security'

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))

export function createMainWindow(loadUrl: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    backgroundColor: '#0f1117', // matches the renderer theme, so no white flash before paint
    title: 'Backprop Studio',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // Middle-click would otherwise try to open links in a new window (denied anyway, below).
      disableBlinkFeatures: 'Auxclick',
    },
  })
  win.once('ready-to-show', () => win.show())
  void win.loadURL(loadUrl)
  return win
}

/** Applied to every web contents ever created, so a later window cannot forget it. */
export function hardenWebContents(contents: WebContents, app: AppOrigin): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  const blockForeign = (event: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url, app)) event.preventDefault()
  }
  contents.on('will-navigate', blockForeign)
  contents.on('will-redirect', blockForeign)
  // Every frame, not only the top one (will-navigate): an injected iframe may not load anything.
  contents.on('will-frame-navigate', (details) => {
    if (!navigationAllowed(details, app)) details.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** The studio needs no camera, notifications, geolocation... so every request is refused. */
export function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
}
