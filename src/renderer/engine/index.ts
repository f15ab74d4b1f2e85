// Picks the way in once (the preload bridge inside Electron, the WebSocket in a browser) and
// hands out the one engine client. Nothing else in the renderer knows which transport it is.
import { createEngineClient, type EngineClient } from './engine-client'
import { createIpcTransport, isEngineBridge } from './ipc-transport'
import { createWsTransport, engineSocketUrl, takeTokenFromAddressBar } from './ws-transport'

export { EngineRequestError, type EngineClient, type EngineEvent } from './engine-client'
export type { ConnectionState, ConnectionStatus } from './transport'

let client: EngineClient | null = null
const RESUME_KEY = 'bps.resumeKey'

/** sessionStorage, which a sandboxed or privacy-restricted page may refuse: then nothing is kept. */
export function storageGet(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key)
  } catch {
    return null
  }
}
export function storageSet(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key)
    else window.sessionStorage.setItem(key, value)
  } catch {
    // Not kept: a reload starts afresh, as it did before resumable sessions.
  }
}

function connect(): EngineClient {
  const bridge = (window as { backpropStudio?: unknown }).backpropStudio
  if (isEngineBridge(bridge)) return createEngineClient(createIpcTransport(bridge))
  const token = takeTokenFromAddressBar()
  // Per tab (sessionStorage survives a reload, not a new tab): a reload takes this tab's sessions back.
  const resumeKeys = {
    load: () => storageGet(RESUME_KEY),
    save: (key: string) => storageSet(RESUME_KEY, key),
  }
  return createEngineClient(createWsTransport({ url: engineSocketUrl(window.location.origin, token), resumeKeys }))
}

export function getEngineClient(): EngineClient {
  client ??= connect()
  return client
}

/** For tests: use this client instead of connecting. */
export function setEngineClient(replacement: EngineClient | null): void {
  client = replacement
}
