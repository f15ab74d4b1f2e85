// IPC handlers. Each checks that the message comes from this app's own page before answering,
// because a renderer that navigated somewhere else (or an injected frame) is untrusted.
import { app, clipboard, ipcMain } from 'electron'
import { IpcChannel } from '../shared/ipc-channels'
import { isShareLink, MAX_LINK_CHARS } from '../shared/share-link'
import type { AppInfo, IpcReply } from '../shared/bridge'
import { registerEngineHandlers, type RelayEngine } from './ipc-relay'
import { isTrustedSender, type AppOrigin } from './security'

const forbidden = { ok: false, error: { code: 'forbidden', message: 'sender is not the app page' } } as const

export function registerIpcHandlers(origin: AppOrigin, engine: RelayEngine, takeOpenLink: () => string | null = () => null): void {
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
  ipcMain.handle(IpcChannel.copyLink, (event, link: unknown): IpcReply<null> => {
    if (!isTrustedSender(event.senderFrame, origin)) return forbidden
    if (!isShareLink(link)) {
      const message = `copyLink: expected an experiment link (backprop-studio://open#x=…, at most ${MAX_LINK_CHARS} characters)`
      return { ok: false, error: { code: 'invalid_payload', message } }
    }
    clipboard.writeText(link)
    return { ok: true, result: null }
  })
  ipcMain.handle(IpcChannel.takeOpenLink, (event): IpcReply<string | null> => {
    if (!isTrustedSender(event.senderFrame, origin)) return forbidden
    return { ok: true, result: takeOpenLink() }
  })
  registerEngineHandlers(ipcMain, engine, origin)
}
