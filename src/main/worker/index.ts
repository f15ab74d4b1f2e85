// Worker entry (worker_threads): every message from the parent goes to the engine host, whose
// reply is posted back; events are posted as they happen. The host validates everything, so this
// file only wires the port and must survive whatever arrives.
import { parentPort, workerData } from 'node:worker_threads'
import { EngineHost } from './host'

const port = parentPort
if (!port) throw new Error('src/main/worker/index.ts must run as a worker_threads Worker')

function post(msg: unknown): void {
  try {
    port!.postMessage(msg)
  } catch (e) {
    // Only reachable if a result could not be cloned, which would be a host bug: say so on stderr
    // rather than take the worker (and every session in it) down.
    console.error('engine host: could not post a message:', e)
  }
}

// The main side passes the runs folder (Electron: userData/runs; serve mode: --data-dir).
const dataDir = (workerData as { dataDir?: unknown } | null)?.dataDir
const host = new EngineHost(post, typeof dataDir === 'string' ? { dataDir } : {})

port.on('message', (raw: unknown) => {
  void host.handle(raw).then(post)
})

port.on('close', () => host.dispose())
