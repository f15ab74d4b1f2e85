// Electron entry: app lifecycle only. Window hardening lives in window.ts, IPC in ipc.ts and
// ipc-relay.ts, the engine host worker in engine-process.ts.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { app, BrowserWindow } from 'electron'
import createWorker from './worker/index?nodeWorker'
import { EngineProcess } from './engine-process'
import { relayEvents } from './ipc-relay'
import { devOrigin, fileOrigin, type AppOrigin } from './security'
import { createMainWindow, denyAllPermissions, hardenWebContents } from './window'
import { registerIpcHandlers } from './ipc'

// electron-vite dev sets ELECTRON_RENDERER_URL; a packaged app must never honour it.
const devUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined
const indexUrl = new URL('../renderer/index.html', import.meta.url).href
const origin: AppOrigin = devUrl ? devOrigin(devUrl) : fileOrigin(indexUrl)
const startUrl = devUrl ?? indexUrl

// Sandbox every renderer, including any created by code we have not written yet.
app.enableSandbox()

app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, origin))

void app.whenReady().then(async () => {
  denyAllPermissions()
  const dataDir = join(app.getPath('userData'), 'runs')
  await mkdir(dataDir, { recursive: true })
  const engine = new EngineProcess(() => createWorker({ workerData: { dataDir } }))
  registerIpcHandlers(origin, engine)
  relayEvents(engine, () => BrowserWindow.getAllWindows().map((w) => w.webContents), origin)
  app.on('will-quit', () => void engine.dispose())
  createMainWindow(startUrl)
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(startUrl)
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
