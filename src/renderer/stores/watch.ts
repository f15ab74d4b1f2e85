// Watching an external run (a PyTorch loop reporting through studio_watch.py) in the studio: the
// current session is let go, the metrics store starts over with the run's layers and history, and
// the host's watch.metrics events for that run feed it, so the loss chart, the gradient heatmap,
// the health strip and the alarm list show it live. Anything that clears the metrics (Play builds
// a session, a run is opened) ends the watch.
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import type { EventPayload, RequestResult } from '../../shared/protocol'
import { getEngineClient, type EngineEvent } from '../engine'
import { adoptedHistory } from './adopted-history'
import { useMetricsStore } from './metrics'
import { useSessionStore } from './session'

type RunSummary = RequestResult<'runs.rename'>
type WatchMetrics = EventPayload<'watch.metrics'>

export interface Watching {
  runId: string
  name: string
  /** The script closed its StudioWatch (or the run was saved before we looked). */
  ended: boolean
}

/** A placeholder session id: the metrics store's batches carry one, an external run has none. */
const EXTERNAL = 's0'

export const useWatchStore = defineStore('watch', () => {
  const client = getEngineClient()
  const metrics = useMetricsStore()
  const session = useSessionStore()
  const watching = shallowRef<Watching | null>(null)
  /** The metrics store's generation while it shows the watched run. */
  let generation = -1

  function current(runId: string): boolean {
    if (watching.value && metrics.buffers.generation !== generation) watching.value = null
    return watching.value?.runId === runId
  }

  /** Show `run` in the studio: its history so far, then its live points. */
  async function watchRun(run: RunSummary): Promise<void> {
    const layers = run.external?.layers ?? []
    const old = session.info?.state.sessionId
    session.forgetSession()
    if (old) await client.request('session.dispose', { sessionId: old }).catch(() => undefined)
    const history = await client.request('runs.metrics', { runId: run.runId, maxPoints: 1_200 })
    metrics.clear(layers.map((name) => (name === '' ? 'model' : name)))
    generation = metrics.buffers.generation
    const state = { sessionId: EXTERNAL, status: 'idle', step: Number.MAX_SAFE_INTEGER, epoch: 0 } as RequestResult<'session.start'>
    metrics.ingest(adoptedHistory(history, state))
    watching.value = { runId: run.runId, name: run.name, ended: run.status !== 'live' }
  }

  /** What the studio shows now: null once something else took the charts. */
  const shown = computed(() => {
    void metrics.version
    return watching.value && metrics.buffers.generation === generation ? watching.value : null
  })

  function stop(): void {
    watching.value = null
  }

  function onPoints(p: WatchMetrics): void {
    if (!current(p.runId)) return
    metrics.ingest({ ...p.batch, sessionId: EXTERNAL })
    for (const a of p.alarms) metrics.addAlarm({ ...a, sessionId: EXTERNAL, paused: false })
    if (p.final) watching.value = { ...watching.value!, ended: true }
  }

  client.onEvent((ev: EngineEvent) => {
    if (ev.event === 'watch.metrics') onPoints(ev.payload)
  })

  return { watching, shown, watchRun, stop }
})
