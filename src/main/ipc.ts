// IPC handlers. Each checks that the message comes from this app's own page before answering,
// because a renderer that navigated somewhere else (or an injected frame) is untrusted.
import { app, ipcMain } from 'electron'
import { IpcChannel } from '../shared/ipc-channels'
import type { AppInfo, IpcReply } from '../shared/bridge'
import { registerEngineHandlers, type RelayEngine } from './ipc-relay'
import { isTrustedSender, type AppOrigin } from './security'

const forbidden = { ok: false, error: { code: 'forbidden', message: 'sender is not the app page' } } as const

export function registerIpcHandlers(origin: AppOrigin, engine: RelayEngine): void {
  ipcMain.handle(IpcChannel.appInfo, (event): IpcReply<AppInfo> => {
    if (!isTrustedSender(event.senderFrame, origin)) return forbidden
    return {
      ok: true,
      result: {
        name: app.getName(),
        version: app.getVersion(),
        electron: process.versions.electron,
        chrome: process.versions.chrome,
        node: process.versions.node,
        platform: process.platform,
      },
    }
  })
  registerEngineHandlers(ipcMain, engine, origin)
}
