// Open a saved run in the studio: the host opens it as a session at a checkpoint, and the session
// store adopts it, so every view shows it. Opens run one after another, so a quick scrub never
// leaves a session behind that nobody adopted (each adoption disposes the one before).
import { useRunsStore } from '../stores/runs'
import { useSessionStore } from '../../../stores/session'

let chain: Promise<unknown> = Promise.resolve()

export function useOpenRun() {
  const runs = useRunsStore()
  const session = useSessionStore()

  /** Resolves true once the studio shows the run at that checkpoint (or its last, when omitted). */
  function openRun(runId: string, checkpointStep?: number): Promise<boolean> {
    const next = chain.then(async () => {
      const opened = await runs.open(runId, checkpointStep)
      return opened ? session.adoptSession(opened.sessionId) : false
    })
    chain = next
    return next
  }

  return { openRun }
}
