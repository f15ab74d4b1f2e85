// The preload's API object, built from the list of request kinds the build took from the protocol's
// request table (electron.vite.config.ts → __REQUEST_KINDS__): one named function per kind, each a
// closure over its own fixed channel and kind. Nothing the page passes chooses a channel or a kind;
// ipcRenderer itself never crosses. Free of `electron` imports, so it is testable as a pure function.
import { IpcChannel, requestChannel, WIRE_VERSION } from '../shared/ipc-channels'
import { bridgeFunctionName, type AppInfo, type BackpropStudioBridge, type EngineRequestApi, type IpcReply } from '../shared/bridge'
import type { EventMessage, ReplyMessage, RequestKind } from '../shared/protocol'

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, message: EventMessage) => void): unknown
  removeListener(channel: string, listener: (event: unknown, message: EventMessage) => void): unknown
}

/** Rebuilds the envelope from its four fields (nothing else crosses) with the channel's kind. */
function envelope(kind: RequestKind, message: unknown): { v: unknown; id: unknown; kind: RequestKind; payload: unknown } {
  const m = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {}
  return { v: m['v'], id: m['id'], kind, payload: m['payload'] }
}

/** IPC itself failing (no handler, channel torn down) still answers with a reply envelope. */
function failed(message: unknown, err: unknown): ReplyMessage {
  const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined
  return {
    v: WIRE_VERSION,
    id: typeof id === 'number' ? id : 0,
    ok: false,
    error: { code: 'internal', message: `IPC failed: ${err instanceof Error ? err.message : String(err)}` },
  }
}

/** One function per kind, each sending on its own channel only. */
export function engineRequestFunctions(kinds: readonly RequestKind[], ipc: Pick<IpcRendererLike, 'invoke'>): EngineRequestApi {
  const api: Record<string, (message: unknown) => Promise<ReplyMessage>> = {}
  for (const kind of kinds) {
    const name = bridgeFunctionName(kind)
    if (Object.hasOwn(api, name)) throw new Error(`preload: request kind ${kind} maps to ${name}, which another kind already uses`)
    const channel = requestChannel(kind)
    api[name] = (message) =>
      (ipc.invoke(channel, envelope(kind, message)) as Promise<ReplyMessage>).catch((e: unknown) => failed(message, e))
  }
  // Built by a loop, so the type is asserted here; the kinds come from REQUEST_KINDS at build time
  // and create-bridge.test.ts / preload-bundle.test.ts check every kind has its function.
  return api as EngineRequestApi
}

export function createBridge(ipc: IpcRendererLike, kinds: readonly RequestKind[], version: string): BackpropStudioBridge {
  return {
    version,
    getAppInfo: () => ipc.invoke(IpcChannel.appInfo) as Promise<IpcReply<AppInfo>>,
    // Only the text crosses, as a string; main refuses anything but an experiment link.
    copyLink: (link: string) => ipc.invoke(IpcChannel.copyLink, String(link)) as Promise<IpcReply<null>>,
    takeOpenLink: () => ipc.invoke(IpcChannel.takeOpenLink) as Promise<IpcReply<string | null>>,
    onOpenLink: (listener) => {
      if (typeof listener !== 'function') throw new TypeError('onOpenLink: listener must be a function')
      // Only a string crosses; main sends nothing but experiment links (deep-link.ts).
      const relay = (_event: unknown, link: unknown): void => {
        if (typeof link === 'string') listener(link)
      }
      ipc.on(IpcChannel.openLink, relay as never)
      return () => {
        ipc.removeListener(IpcChannel.openLink, relay as never)
      }
    },
    ...engineRequestFunctions(kinds, ipc),
    onEvent: (listener) => {
      if (typeof listener !== 'function') throw new TypeError('onEvent: listener must be a function')
      // Only the message crosses; the IpcRendererEvent (sender, ports) never reaches the page.
      const relay = (_event: unknown, msg: EventMessage): void => listener(msg)
      ipc.on(IpcChannel.engineEvent, relay)
      return () => {
        ipc.removeListener(IpcChannel.engineEvent, relay)
      }
    },
  }
}
