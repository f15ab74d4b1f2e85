// Electron transport: the preload's named functions on window.backpropStudio, one per request.
// The renderer never gets a generic invoke; bridgeFunctionName maps each request kind to its function.
import { bridgeFunctionName, type EngineBridgeApi } from '../../shared/bridge'
import { REQUEST_KINDS, type RequestMessage } from '../../shared/protocol'
import { Listeners, TransportError, type ConnectionStatus, type Transport } from './transport'

export type EngineBridge = EngineBridgeApi

/** True when `candidate` has every engine function (checked by shape: an element id can shadow a global). */
export function isEngineBridge(candidate: unknown): candidate is EngineBridge {
  if (typeof candidate !== 'object' || candidate === null) return false
  const fns = [...REQUEST_KINDS.map(bridgeFunctionName), 'onEvent']
  return fns.every((name) => typeof (candidate as Record<string, unknown>)[name] === 'function')
}

export function createIpcTransport(bridge: EngineBridge): Transport {
  // IPC to the main process is always there while the window lives; host crashes arrive as events.
  const status: ConnectionStatus = { state: 'open' }
  const statusListeners = new Listeners<ConnectionStatus>()
  let closed = false

  return {
    async send(message) {
      if (closed) throw new TransportError('the engine connection is closed')
      const fn = bridge[bridgeFunctionName(message.kind)] as (m: RequestMessage) => Promise<unknown>
      try {
        return await fn.call(bridge, message)
      } catch (err) {
        // The preload never throws on purpose; a rejection means IPC itself failed.
        throw new TransportError(`IPC failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    },
    onEvent: (listener) => bridge.onEvent(listener),
    status: () => (closed ? { state: 'closed' } : status),
    onStatus: (listener) => statusListeners.add(listener),
    close() {
      closed = true
      statusListeners.emit({ state: 'closed' })
    },
  }
}
