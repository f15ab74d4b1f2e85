// Worker entry (worker_threads): every message from the parent goes to the engine host, whose
// reply is posted back; events are posted as they happen. The host validates every request, so
// this file only wires the port and must survive whatever arrives. Besides bare protocol requests
// it understands the main side's wrappers (shared/host-control.ts): a request tagged with its
// client, and control messages (release a client, shut down), answered with ordinary replies.
import { parentPort, workerData } from 'node:worker_threads'
import { errorReply, okReply } from '../shared/protocol'
import { OWNER_FIELD, readInbound, type HostControl } from '../shared/host-control'
import { EngineHost } from './host'

const port = parentPort
if (!port) throw new Error('src/host/index.ts must run as a worker_threads Worker')

function post(msg: unknown): void {
  try {
    port!.postMessage(msg)
  } catch (e) {
    // Only reachable if a result could not be cloned, which would be a host bug: say so on stderr
    // rather than take the worker (and every session in it) down.
    console.error('engine host: could not post a message:', e)
  }
}

// The main side passes the runs folder (Electron: userData/runs; serve mode: --data-dir) and may
// pass a per-session memory budget in bytes (serve mode: --memory-budget; else from the machine).
const { dataDir, memoryBudget, keepRecent } = (workerData ?? {}) as { dataDir?: unknown; memoryBudget?: unknown; keepRecent?: unknown }
const options = {
  ...(typeof dataDir === 'string' ? { dataDir } : {}),
  ...(typeof keepRecent === 'number' && Number.isInteger(keepRecent) && keepRecent >= 0 ? { checkpoints: { keepRecent } } : {}),
  ...(typeof memoryBudget === 'number' && memoryBudget > 0 ? { memoryBudget: { perSession: memoryBudget } } : {}),
}
const host = new EngineHost((msg, owner) => post(owner === undefined ? msg : { ...msg, [OWNER_FIELD]: owner }), options)

function control(c: HostControl): Promise<unknown> {
  return c.op === 'release' ? host.release(c.client) : host.shutdown()
}

port.on('message', (raw: unknown) => {
  const m = readInbound(raw)
  if (m.channel === 'request') return void host.handle(m.message, m.client).then(post)
  void control(m.control).then(
    (result) => post(okReply(m.id, result)),
    (e: unknown) => post(errorReply(m.id, 'internal', `${m.control.op}: ${e instanceof Error ? e.message : String(e)}`)),
  )
})

port.on('close', () => host.dispose())
