// Electron entry: app lifecycle only. Window hardening lives in window.ts, IPC in ipc.ts.
import { app, BrowserWindow } from 'electron'
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

void app.whenReady().then(() => {
  denyAllPermissions()
  registerIpcHandlers(origin)
  createMainWindow(startUrl)
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(startUrl)
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
