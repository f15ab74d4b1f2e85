// runs.save: a session created unrecorded (a compare-live variant) becomes a run when the user
// keeps it: a new run with its spec, the metrics it kept in memory since step 0 (scratch-log.ts),
// and a checkpoint where it stands; from then on it records like any other session.
import type { ParsedPayload, RequestResult } from '../../shared/protocol'
import { HostError } from '../errors'
import { needStore, startRun, summary, type RunsHost } from './runs-host'

export async function saveRun(host: RunsHost, { sessionId, name, tags }: ParsedPayload<'runs.save'>): Promise<RequestResult<'runs.save'>> {
  const store = needStore(host)
  const session = host.registry.get(sessionId)
  if (session.recorder)
    throw new HostError(
      'invalid_payload',
      `runs.save: session ${sessionId} is already recorded as run ${session.recorder.runId}; rename or tag that run instead`,
    )
  // A device session's queued slices finish first, so the log and the checkpoint agree on the step.
  return session.reading(() => {
    session.flush()
    const recorder = startRun(host, session, { name, tags })
    if (!recorder) throw new HostError('internal', `runs.save: ${store.storage().message ?? 'the run could not be created'}`)
    const scratch = session.scratch
    session.scratch = null
    for (const batch of scratch?.batches ?? []) recorder.appendMetrics(batch)
    session.checkpoint()
    const dropped = scratch?.droppedThrough ?? -1
    const notice =
      dropped >= 0
        ? `the metrics of steps up to ${dropped} were dropped from memory before the save (a long unsaved run); the saved log starts after them`
        : undefined
    return { run: summary(host, recorder.rec, false), ...(notice ? { notice } : {}) }
  })
}
