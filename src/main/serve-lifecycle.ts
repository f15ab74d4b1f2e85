// How serve mode stops: on SIGINT or SIGTERM the server closes its connections and the engine host
// saves every run (final checkpoint, status no longer live) before the process exits 0. The host's
// time is bounded (EngineProcess.shutdown); a second signal exits at once.
import type { EngineProcess } from './engine-process'
import type { RunningServer } from './server'

export function stopOnSignals(
  server: Pick<RunningServer, 'close'>,
  engine: Pick<EngineProcess, 'shutdown'>,
  exit: (code: number) => void = process.exit,
): void {
  let stopping = false
  const stop = (): void => {
    if (stopping) return exit(130)
    stopping = true
    console.log('Stopping: saving runs…')
    void Promise.all([server.close().catch(() => undefined), engine.shutdown()]).finally(() => exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
