// The shape of the API the preload exposes on `window.backpropStudio`. Shared so that the
// preload implements it and the renderer consumes it against one definition.

/** The global name; unusual on purpose, so a DOM element id cannot shadow it. */
export const BRIDGE_GLOBAL = 'backpropStudio'

export interface AppInfo {
  name: string
  version: string
  electron: string
  chrome: string
  node: string
  platform: string
}

/** Replies never throw across the process boundary; failures come back as data. */
export type IpcReply<T> =
  | { ok: true; result: T }
  | { ok: false; error: { code: string; message: string } }

export interface BackpropStudioBridge {
  /** Version of the app that built this preload. */
  readonly version: string
  getAppInfo(): Promise<IpcReply<AppInfo>>
}
