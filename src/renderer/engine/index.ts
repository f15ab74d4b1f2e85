// Picks the way in once (the preload bridge inside Electron, the WebSocket in a browser) and
// hands out the one engine client. Nothing else in the renderer knows which transport it is.
import { createEngineClient, type EngineClient } from './engine-client'
import { createIpcTransport, isEngineBridge } from './ipc-transport'
import { createWsTransport, engineSocketUrl, takeTokenFromAddressBar } from './ws-transport'

export { EngineRequestError, type EngineClient, type EngineEvent } from './engine-client'
export type { ConnectionState, ConnectionStatus } from './transport'

let client: EngineClient | null = null

function connect(): EngineClient {
  const bridge = (window as { backpropStudio?: unknown }).backpropStudio
  if (isEngineBridge(bridge)) return createEngineClient(createIpcTransport(bridge))
  const token = takeTokenFromAddressBar()
  return createEngineClient(createWsTransport({ url: engineSocketUrl(window.location.origin, token) }))
}

export function getEngineClient(): EngineClient {
  client ??= connect()
  return client
}

/** For tests: use this client instead of connecting. */
export function setEngineClient(replacement: EngineClient | null): void {
  client = replacement
}
