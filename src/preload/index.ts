// Preload (sandboxed, CommonJS): exposes one named function per request, never ipcRenderer
// itself or a generic invoke, so the renderer can only ask what main explicitly answers.
// The request kinds are fixed when the preload is built (electron.vite.config.ts takes them from
// the protocol's request table); each function sends { v, id, kind, payload } on its own channel
// and main validates it (src/main/ipc-relay.ts).
import { contextBridge, ipcRenderer } from 'electron'
import { BRIDGE_GLOBAL } from '../shared/bridge'
import { createBridge } from './create-bridge'

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, createBridge(ipcRenderer, __REQUEST_KINDS__, __APP_VERSION__))
