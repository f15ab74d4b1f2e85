// Preload (sandboxed, CommonJS): exposes one named function per request, never ipcRenderer
// itself or a generic invoke, so the renderer can only ask what main explicitly answers.
import { contextBridge, ipcRenderer } from 'electron'
import { IpcChannel } from '../shared/ipc-channels'
import { BRIDGE_GLOBAL, type AppInfo, type BackpropStudioBridge, type IpcReply } from '../shared/bridge'

const bridge: BackpropStudioBridge = {
  version: __APP_VERSION__,
  getAppInfo: () => ipcRenderer.invoke(IpcChannel.appInfo) as Promise<IpcReply<AppInfo>>,
}

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge)
