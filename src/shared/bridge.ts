// The shape of the API the preload exposes on `window.backpropStudio`. Shared so that the
// preload implements it and the renderer consumes it against one definition. The engine part is
// derived from the protocol's request table: one named function per request kind, nothing generic.
import type { EventMessage, ReplyMessage, RequestKind, RequestMessage } from './protocol'

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
export type IpcReply<T> = { ok: true; result: T } | { ok: false; error: { code: string; message: string } }

/** The bridge function of a request kind: `session.create` → `sessionCreate`, `runs.list` → `runsList`. */
export type BridgeFunctionName<K extends string> = K extends `${infer Domain}.${infer Name}` ? `${Domain}${Capitalize<Name>}` : never

/** The same mapping as a value (kinds are `domain.name`; create-bridge.test.ts keeps them so). */
export function bridgeFunctionName<K extends RequestKind>(kind: K): BridgeFunctionName<K> {
  const dot = kind.indexOf('.')
  return `${kind.slice(0, dot)}${kind.charAt(dot + 1).toUpperCase()}${kind.slice(dot + 2)}` as BridgeFunctionName<K>
}

/**
 * One function per request kind. Each takes the full request envelope `{ v, id, kind, payload }`
 * and resolves with the reply envelope under the same id (never rejects on purpose). Replies are
 * untyped here on purpose: the renderer validates them with `parseReply`.
 */
export type EngineRequestApi = {
  readonly [K in RequestKind as BridgeFunctionName<K>]: (message: RequestMessage<K>) => Promise<ReplyMessage>
}

export type EngineBridgeApi = EngineRequestApi & {
  /** Every engine host event (metrics, session state, host status); returns the unsubscribe. */
  onEvent(listener: (message: EventMessage) => void): () => void
}

export type BackpropStudioBridge = EngineBridgeApi & {
  /** Version of the app that built this preload. */
  readonly version: string
  getAppInfo(): Promise<IpcReply<AppInfo>>
  /** Put an experiment link (share-link.ts) on the clipboard; the page's clipboard API is denied in the app. */
  copyLink(link: string): Promise<IpcReply<null>>
  /** The deep link (share-link.ts) the app was launched with, once; null when none. */
  takeOpenLink(): Promise<IpcReply<string | null>>
  /** Deep links opened while the app runs; returns the unsubscribe. */
  onOpenLink(listener: (link: string) => void): () => void
}
