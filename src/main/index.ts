// Electron entry: app lifecycle only. Window hardening lives in window.ts, IPC in ipc.ts and
// ipc-relay.ts, the engine host worker in engine-process.ts.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { app, BrowserWindow, protocol } from 'electron'
import createWorker from '../host/index?nodeWorker'
import { EngineProcess } from './engine-process'
import { relayEvents } from './ipc-relay'
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, handleAppRequest } from './app-protocol'
import { rendererUrl } from './security'
import { createMainWindow, denyAllPermissions, hardenWebContents } from './window'
import { registerIpcHandlers } from './ipc'
import { setUpDeepLinks } from './deep-link'
import { IpcChannel } from '../shared/ipc-channels'

// The built renderer on app://bundle/ (app-protocol.ts); electron-vite's dev server only under
// `npm run dev` in an unpackaged app (security.ts: rendererUrl).
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url))
const { url: startUrl, origin, ignored } = rendererUrl(process.env, app.isPackaged)
if (ignored) console.warn(`backprop-studio: ${ignored}`)
// Must happen before 'ready': privileges cannot be granted to a scheme afterwards.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }])

// backprop-studio://open#x=… links open their experiment here; a second launch hands its link over.
const deepLinks = setUpDeepLinks(
  app,
  process,
  (link) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IpcChannel.openLink, link)
  },
  () => {
    const [w] = BrowserWindow.getAllWindows()
    if (w?.isMinimized()) w.restore()
    w?.focus()
  },
)

// Sandbox every renderer, including any created by code we have not written yet.
app.enableSandbox()

app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, origin))

void app.whenReady().then(async () => {
  if (deepLinks === null) return // another instance runs and has our link; this one is quitting
  denyAllPermissions()
  protocol.handle(APP_SCHEME, (request) => handleAppRequest(request, rendererDir))
  const dataDir = join(app.getPath('userData'), 'runs')
  await mkdir(dataDir, { recursive: true })
  const engine = new EngineProcess(() => createWorker({ workerData: { dataDir } }))
  registerIpcHandlers(origin, engine, () => deepLinks?.take() ?? null)
  relayEvents(engine, () => BrowserWindow.getAllWindows().map((w) => w.webContents), origin)
  // Quitting saves every run first (final checkpoint, status no longer live), bounded in time.
  let saved = false
  app.on('before-quit', (event) => {
    if (saved) return
    event.preventDefault()
    saved = true
    void engine.shutdown().finally(() => app.quit())
  })
  app.on('will-quit', () => void engine.dispose())
  createMainWindow(startUrl)
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(startUrl)
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
