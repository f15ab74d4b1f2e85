// The store tests' common setup: before each test a fresh FakeHost behind the engine client, a
// fresh Pinia and fake timers (the stores debounce their requests); after it, all undone.
// `start` gets the new host (the test keeps it, and may set overrides before the client connects).
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, vi } from 'vitest'
import { setEngineClient } from '../engine'
import { createEngineClient } from '../engine/engine-client'
import { FakeHost } from '../engine/fake-host'

export function useFakeHost(start: (host: FakeHost) => void): void {
  beforeEach(() => {
    vi.useFakeTimers()
    const host = new FakeHost()
    start(host)
    setEngineClient(createEngineClient(host.transport()))
    setActivePinia(createPinia())
  })
  afterEach(() => {
    setEngineClient(null)
    vi.useRealTimers()
  })
}
