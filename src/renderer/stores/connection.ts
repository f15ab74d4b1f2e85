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

  // Registered before anyone else's status listener, so they see `status` already updated.
  client.onStatus((s) => (status.value = s))

  async function loadHello(): Promise<void> {
    hello.value = await client.request('host.hello', {})
  }

  return { status, hello, loadHello }
})
