// A session's life: session.create (a run from the start, or kept in memory until runs.save), start, pause, step,
// reset, update, info, attach and dispose, over the host's registry. Training itself happens in the
// scheduler's loop; these requests change what it does.
import type { RunsHost } from '../runs/runs-host'
import { startRun } from '../runs/runs-host'
import { ScratchLog } from '../runs/scratch-log'
import type { SessionRegistry } from '../sessions/registry'
import { checkBatchSize } from '../training/live-update'
import type { HandlerTable } from './table'

export type SessionKind =
  | 'session.create'
  | 'session.start'
  | 'session.pause'
  | 'session.step'
  | 'session.reset'
  | 'session.update'
  | 'session.info'
  | 'session.attach'
  | 'session.dispose'

export interface SessionsContext {
  registry: SessionRegistry
  /** Where a new session records its run. */
  runs: RunsHost
  /** Wake the training loop (scheduler.ts). */
  schedule(): void
}

export function sessionHandlers({ registry, runs, schedule }: SessionsContext): HandlerTable<SessionKind> {
  return {
    'session.create': async ({ record, ...spec }) => {
      const session = await registry.create(spec, spec.backend)
      // Every session is a run: its config and the untrained weights are saved from the start;
      // unless asked not to be, in which case its metrics wait in memory for runs.save.
      if (record === false) session.scratch = new ScratchLog()
      else {
        const recorder = startRun(runs, session)
        // A rebuild before the first step (any change to the setup) leaves no run behind.
        if (recorder) recorder.discardIfUntrained = true
        if (recorder) session.checkpoint()
      }
      return session.info()
    },

    'session.start': ({ sessionId }) => registry.get(sessionId).start(),
    'session.pause': ({ sessionId }) => {
      const s = registry.get(sessionId)
      // A device session pauses between steps: after its running slice (at most one, as on the CPU).
      return s.onDevice ? s.queued(() => s.pause()) : s.pause()
    },
    'session.step': ({ sessionId, steps }) => {
      const done = registry.get(sessionId).runSteps(steps)
      schedule()
      return done
    },
    'session.reset': ({ sessionId }) => registry.get(sessionId).reset(),
    'session.update': (payload) => {
      const s = registry.get(payload.sessionId)
      // A bigger batch needs more memory for activations: sized before anything changes (and a batch
      // BatchNorm cannot train on is refused before that).
      if (payload.batchSize !== undefined) {
        checkBatchSize(s.spec, s.trainer, payload.batchSize)
        registry.reserveBatchSize(s, payload.batchSize)
      }
      return s.update(payload)
    },
    'session.info': ({ sessionId }) => registry.get(sessionId).info(),
    // A second tab (or a tab whose copy of the session's id came from a duplicated tab) shows it too.
    'session.attach': ({ sessionId }) => registry.attach(sessionId).info(),
    'session.dispose': async ({ sessionId }) => {
      const s = registry.get(sessionId)
      // Another tab still showing it keeps it: only this client's hold goes.
      if (!registry.letGo(sessionId)) return { sessionId }
      // A device session's last checkpoint is read back from the GPU first: answer when it is saved.
      if (s.onDevice) await s.queued(() => undefined)
      return { sessionId }
    },
  }
}
