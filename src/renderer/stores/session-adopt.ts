// Adopting a session the host already has (a run opened at a checkpoint): ask the host what it is,
// fetch the run's history, dispose the session it replaces, then hand both to the session store.
// Runs inside the session store's action chain, so it never interleaves with a Play or a rebuild.
import type { RequestResult } from '../../shared/protocol'
import { EngineRequestError, type EngineClient } from '../engine'
import { adoptedHistory } from './adopted-history'

type SessionInfo = RequestResult<'session.info'>

/** Points of a run's history asked for when adopting its session (the loss chart keeps 1200). */
const HISTORY_POINTS = 1_200

export interface Adopter {
  client: EngineClient
  /** The session shown now, if any. */
  currentId(): string | undefined
  /** Show `adopted` everywhere: the form mirrors its spec, the charts start empty. */
  install(adopted: SessionInfo): void
  /** Seed the charts with the run's history up to the adopted step. */
  seed(history: ReturnType<typeof adoptedHistory>): void
}

export async function adoptSession(id: string, to: Adopter): Promise<void> {
  const { client } = to
  const adopted = await client.request('session.info', { sessionId: id }).catch((err: unknown) => {
    // Not our current session that went missing: say so rather than forget the current one.
    if (err instanceof EngineRequestError && err.code === 'not_found') throw new Error(`Could not open session ${id}: ${err.message}`)
    throw err
  })
  const runId = adopted.runId
  const history = runId ? await client.request('runs.metrics', { runId, maxPoints: HISTORY_POINTS }).catch(() => null) : null
  const old = to.currentId()
  if (old && old !== id) await client.request('session.dispose', { sessionId: old }).catch(() => undefined)
  to.install(adopted)
  if (history) to.seed(adoptedHistory(history, adopted.state))
}
