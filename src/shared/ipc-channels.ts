// Every IPC channel name comes from here, so main and preload cannot drift apart and a reviewer
// sees the whole renderer-facing surface in one place. One channel per request, nothing generic.
// Type-only imports: the sandboxed preload bundles this file and must not pull in zod.
import type { PROTOCOL_VERSION, RequestKind } from './protocol'

export const IpcChannel = {
  appInfo: 'app.info',
  /** renderer → main: put an experiment link on the clipboard (only such links; see share-link.ts). */
  copyLink: 'app.copyLink',
  /** renderer → main: the experiment link the app was launched with, if any (taken once). */
  takeOpenLink: 'app.takeOpenLink',
  /** main → renderer: an experiment link opened while the app runs (a deep link from elsewhere). */
  openLink: 'app.openLink',
  /** main → renderer: every engine host event (webContents.send). */
  engineEvent: 'engine.event',
} as const

/** renderer → main: the one invoke channel of a request kind (`engine.session.create`). */
export type RequestChannelName<K extends RequestKind = RequestKind> = `engine.${K}`

/**
 * The channel of `kind`: derived from the protocol's request table, so a new request kind has its
 * channel without an edit here. Main registers exactly these (one per kind in REQUEST_KINDS) and the
 * preload binds each of its functions to one of them when it loads; the page never names a channel.
 */
export function requestChannel<K extends RequestKind>(kind: K): RequestChannelName<K> {
  return `engine.${kind}`
}

export type IpcChannelName = (typeof IpcChannel)[keyof typeof IpcChannel] | RequestChannelName

/** The protocol version, as a value the preload can use without importing protocol.ts (zod). */
export const WIRE_VERSION: typeof PROTOCOL_VERSION = 1
