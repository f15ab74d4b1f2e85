// The engine connection as the UI sees it: the transport's status (followed from the moment the
// store exists) and what the host offers (host.hello: generators, datasets, limits, backends).
import { defineStore } from 'pinia'
import { shallowRef } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { getEngineClient, type ConnectionStatus } from '../engine'

export type Hello = RequestResult<'host.hello'>

export const useConnectionStore = defineStore('connection', () => {
  const client = getEngineClient()
  const status = shallowRef<ConnectionStatus>(client.status())
  /** null until the first host.hello succeeds (the session store asks, in its action chain). */
  const hello = shallowRef<Hello | null>(null)

  /**
   * Serve mode: whether this connection took over the sessions of the page before a reload (the
   * server says so first thing); null where nobody says (Electron).
   */
  const resumed = shallowRef<boolean | null>(null)

  // Registered before anyone else's status listener, so they see `status` already updated.
  client.onStatus((s) => (status.value = s))
  client.onEvent((ev) => {
    if (ev.event === 'client.resume') resumed.value = ev.payload.resumed
  })

  async function loadHello(): Promise<void> {
    hello.value = await client.request('host.hello', {})
  }

  return { status, hello, resumed, loadHello }
})
