// IPC handlers. Each checks that the message comes from this app's own page before answering,
// because a renderer that navigated somewhere else (or an injected frame) is untrusted.
import { app, ipcMain, type IpcMainInvokeEvent } from 'electron'
import { IpcChannel } from '../shared/ipc-channels'
import type { AppInfo, IpcReply } from '../shared/bridge'
import { isAppUrl, type AppOrigin } from './security'

function fromApp(event: IpcMainInvokeEvent, origin: AppOrigin): boolean {
  const frame = event.senderFrame
  // A destroyed frame (null) or a subframe is never trusted, only our top-level page.
  return frame !== null && frame.parent === null && isAppUrl(frame.url, origin)
}

const forbidden = { ok: false, error: { code: 'forbidden', message: 'sender is not the app page' } } as const

export function registerIpcHandlers(origin: AppOrigin): void {
  ipcMain.handle(IpcChannel.appInfo, (event): IpcReply<AppInfo> => {
    if (!fromApp(event, origin)) return forbidden
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
}
