// Test helpers for the preload (create-bridge.test.ts and preload-bundle.test.ts): a fake
// ipcRenderer and the arguments a hostile page might pass to pick another channel or kind.
import { IpcChannel } from '../shared/ipc-channels'
import type { EventMessage } from '../shared/protocol'
import type { IpcRendererLike } from './create-bridge'

/** A fake ipcRenderer that records every invoke and can play a failing IPC. */
export function fakeIpcRenderer(fail = false) {
  const invoked: { channel: string; args: unknown[] }[] = []
  const listeners = new Map<string, Set<(event: unknown, message: EventMessage) => void>>()
  const ipc: IpcRendererLike = {
    invoke: (channel, ...args) => {
      invoked.push({ channel, args })
      if (fail) return Promise.reject(new Error('No handler registered'))
      const id = (args[0] as { id?: unknown } | undefined)?.id
      return Promise.resolve({ v: 1, id, ok: true, result: { channel } })
    },
    on: (channel, fn) => listeners.set(channel, (listeners.get(channel) ?? new Set()).add(fn)),
    removeListener: (channel, fn) => listeners.get(channel)?.delete(fn),
  }
  return { ipc, invoked, listeners }
}

/** What a page might pass to get another channel or kind: channel names, forged kinds, extras. */
export const HOSTILE_ARGUMENTS: unknown[][] = [
  ['engine.runs.delete'],
  [IpcChannel.appInfo, { v: 1, id: 1, kind: 'runs.delete', payload: {} }],
  [{ v: 1, id: 2, kind: 'runs.delete', channel: 'engine.runs.delete', payload: { runId: 'r1' }, extra: 'x' }],
  [{ v: 1, id: 3, kind: 'host.hello', payload: {} }, 'engine.runs.delete', 'engine.runs.delete'],
]
