// Compare live: 2–4 variants of the studio's configuration (compare-variants.ts) trained side by
// side as host sessions created unrecorded, so leaving without saving leaves nothing on disk. Play
// advances every variant in rounds of a few steps and waits for all of them, so they stay in
// lockstep on one step axis; a variant that stops by itself (a stop condition, an alarm that pauses,
// an error) is marked and left where it is. "Save as runs" turns them into runs named by variant
// with one shared tag (runs.save). Each variant's metrics go into its own plain MetricsBuffers.
import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient, type EngineEvent } from '../../../engine'
import { THEME } from '../../../charts/setup'
import { errorMessage } from '../../../stores/errors'
import { layerLabels } from '../../../stores/metrics'
import { MetricsBuffers, type TrainAlarm } from '../../../stores/metrics-buffers'
import { useSessionStore } from '../../../stores/session'
import type { CreatePayload } from '../../../stores/session-form'
import { SETTING_LABELS, defaultValues, deriveVariants, type CompareSetting, type Variant } from '../compare-variants'

type SessionState = RequestResult<'session.start'>

/** Steps per lockstep round: small enough that variants stay close, big enough to keep the host busy. */
export const ROUND_STEPS = 20

/** "2026-12-01 14:03:09" in the user's time zone: a tag people read next to their other runs. */
export function localStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

export interface Lane {
  label: string
  value: string
  color: string
  sessionId: string
  buffers: MetricsBuffers
  state: SessionState
  /** Why it stopped by itself (null while it can go on). */
  stopped: string | null
  runId: string | null
}

/** What a variant's card shows. */
export interface LaneView {
  label: string
  color: string
  sessionId: string
  step: number
  status: SessionState['status']
  stopped: string | null
  alarms: TrainAlarm[]
  /** The train loss at the last evaluation (whole train set, so variants compare), and its step. */
  lastLoss: number | null
  lossStep: number | null
  runId: string | null
}

export const useCompareStore = defineStore('compare', () => {
  const client = getEngineClient()
  const session = useSessionStore()

  const setting = ref<CompareSetting>('blocks')
  const values = ref<string[]>([])
  /** Why the variants cannot start (each names its variant), or a failure of the last action. */
  const problems = ref<string[]>([])
  const lanes = shallowRef<Lane[]>([])
  /** Bumped by every change to a lane (metrics, state, alarms): what charts and cards watch. */
  const version = shallowRef(0)
  const playing = ref(false)
  const busy = ref(false)
  /** The tag the variants were saved under (null: not saved). */
  const savedTag = ref<string | null>(null)
  /** Bumped by pause and reset: a round that was under way then does not mark variants stopped. */
  let runToken = 0

  const touch = () => void version.value++
  const active = computed(() => lanes.value.length > 0)
  /** The furthest step any variant has reached: every chart's x range ends here. */
  const maxStep = computed(() => (version.value, Math.max(0, ...lanes.value.map((l) => l.buffers.latest.step))))
  const views = computed<LaneView[]>(() => {
    void version.value
    return lanes.value.map((l) => ({
      label: l.label,
      color: l.color,
      sessionId: l.sessionId,
      step: Math.max(l.state.step, l.buffers.latest.step),
      status: l.state.status,
      stopped: l.stopped,
      alarms: [...l.buffers.alarms],
      lastLoss: l.buffers.latest.trainLoss,
      lossStep: l.buffers.latest.evalStep,
      runId: l.runId,
    }))
  })

  /** Pick the setting to vary; the values start from the configuration's own and the usual alternatives. */
  function choose(next: CompareSetting, base: CreatePayload): void {
    setting.value = next
    values.value = defaultValues(base, next)
    problems.value = []
  }

  function fail(what: string, err: unknown): void {
    problems.value = [`${what}: ${errorMessage(err)}`]
  }

  function laneOf(v: Variant, info: RequestResult<'session.create'>, i: number): Lane {
    const buffers = markRaw(new MetricsBuffers())
    buffers.clear(layerLabels(info.layers))
    return markRaw({
      label: v.label,
      value: v.value,
      color: THEME.palette[i]!,
      sessionId: info.state.sessionId,
      buffers,
      state: info.state,
      stopped: null,
      runId: null,
    })
  }

  /** Derive, check and create every variant (all or none); false with `problems` set when refused. */
  async function start(base: CreatePayload, inputs: number | null): Promise<boolean> {
    const derived = deriveVariants(base, setting.value, values.value, inputs)
    if (!derived.ok) {
      problems.value = derived.problems
      return false
    }
    problems.value = []
    await leave()
    busy.value = true
    try {
      // The studio's own session would compete for the same host: it waits.
      if (session.running) await session.pause()
      const made = await Promise.allSettled(
        derived.variants.map((v) => client.request('session.create', { ...v.spec, backend: base.backend, record: false })),
      )
      const ok = made.flatMap((r, i) => (r.status === 'fulfilled' ? [laneOf(derived.variants[i]!, r.value, i)] : []))
      const refused = made.findIndex((r) => r.status === 'rejected')
      if (refused >= 0) {
        await Promise.all(ok.map((l) => client.request('session.dispose', { sessionId: l.sessionId }).catch(() => undefined)))
        fail(`${derived.variants[refused]!.label} could not start`, (made[refused] as PromiseRejectedResult).reason)
        return false
      }
      lanes.value = ok
      touch()
      savedTag.value = null
      return true
    } finally {
      busy.value = false
    }
  }

  /** Run n steps on one variant; marks it stopped when it ran fewer without being paused. */
  async function advance(l: Lane, n: number, token: number): Promise<void> {
    const before = l.state.step
    l.state = await client.request('session.step', { sessionId: l.sessionId, steps: n })
    if (l.state.status === 'error') l.stopped = l.state.message ?? 'stopped with an error'
    else if (token === runToken && l.state.step - before < n) l.stopped = l.state.message ?? `stopped at step ${l.state.step}`
    touch()
  }

  /** Every variant that can go on, n steps, together. */
  async function step(n = 1): Promise<void> {
    const token = runToken
    await Promise.all(lanes.value.filter((l) => !l.stopped).map((l) => advance(l, n, token))).catch((e) => fail('step', e))
  }

  /** Rounds of ROUND_STEPS on every variant still going, until paused or all have stopped. */
  async function play(): Promise<void> {
    if (playing.value || !active.value) return
    playing.value = true
    try {
      const token = runToken
      while (token === runToken && lanes.value.some((l) => !l.stopped)) {
        await Promise.all(lanes.value.filter((l) => !l.stopped).map((l) => advance(l, ROUND_STEPS, token)))
      }
    } catch (err) {
      fail('play', err)
    } finally {
      playing.value = false
    }
  }

  async function pause(): Promise<void> {
    runToken++
    await Promise.all(lanes.value.map(async (l) => (l.state = await client.request('session.pause', { sessionId: l.sessionId })))).catch(
      (e) => fail('pause', e),
    )
    touch()
  }

  async function reset(): Promise<void> {
    runToken++
    try {
      for (const l of lanes.value) {
        l.state = await client.request('session.reset', { sessionId: l.sessionId })
        l.buffers.clear()
        l.stopped = null
      }
    } catch (err) {
      fail('reset', err)
    }
    touch()
  }

  /** Keep every variant as a run, named by its variant, all under one tag (Runs view: filter and compare). */
  async function save(): Promise<string[]> {
    const tag = `compare ${localStamp(new Date())}`
    busy.value = true
    try {
      for (const l of lanes.value.filter((x) => !x.runId)) {
        const r = await client.request('runs.save', {
          sessionId: l.sessionId,
          name: `${SETTING_LABELS[setting.value]}: ${l.label}`,
          tags: [tag],
        })
        l.runId = r.run.runId
        if (r.notice) problems.value = [...problems.value, `${l.label}: ${r.notice}`]
      }
      savedTag.value = tag
    } catch (err) {
      fail('save as runs', err)
    } finally {
      busy.value = false
      touch()
    }
    return lanes.value.flatMap((l) => (l.runId ? [l.runId] : []))
  }

  /** Leave compare mode: every variant's session goes (unsaved ones leave nothing; saved runs are closed). */
  async function leave(): Promise<void> {
    runToken++
    const gone = lanes.value
    lanes.value = []
    savedTag.value = null
    touch()
    await Promise.all(gone.map((l) => client.request('session.dispose', { sessionId: l.sessionId }).catch(() => undefined)))
  }

  client.onEvent((ev: EngineEvent) => {
    if (ev.event === 'host.status') {
      if (lanes.value.length) problems.value = ['the engine host restarted: the variants are gone; start them again']
      lanes.value = []
      touch()
      return
    }
    if (ev.event === 'runs.changed' || ev.event === 'watch.metrics' || ev.event === 'client.resume') return // not a session's event
    const lane = lanes.value.find((l) => l.sessionId === ev.payload.sessionId)
    if (!lane) return
    if (ev.event === 'train.metrics') lane.buffers.ingest(ev.payload)
    else if (ev.event === 'train.alarm') lane.buffers.addAlarm(ev.payload)
    else if (ev.event === 'session.state') lane.state = ev.payload
    touch()
  })

  return {
    setting,
    values,
    problems,
    lanes,
    version,
    views,
    maxStep,
    playing,
    busy,
    active,
    savedTag,
    choose,
    start,
    step,
    play,
    pause,
    reset,
    save,
    leave,
  }
})
