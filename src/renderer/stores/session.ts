// The training session's lifecycle: the session the host built from the form (or adopted from a
// run), its state, and the actions on it. Actions run one at a time, in order, so a Play pressed
// during a rebuild acts on the new session. Form edits are debounced here: structural ones rebuild
// the session, live settings update it in place. The form, the connection, the error banner and
// the metrics are their own stores; this one drives them.
import { defineStore } from 'pinia'
import { computed, nextTick, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { EngineRequestError, getEngineClient, type EngineEvent } from '../engine'
import { useConnectionStore } from './connection'
import { FormError, errorMessage, useErrorsStore } from './errors'
import { useFormStore } from './form'
import { normSlots } from '../charts/layer-rows'
import { layerLabels, useMetricsStore } from './metrics'
import { adoptSession as adopt } from './session-adopt'
import { createDebouncer } from './debounce'
import { createSerial } from './serial'
import { useLinkStore } from './link'
import { keepAcrossTabs, restore } from './session-restore'
import { peerSessions } from './tab-peers'
import { buildSpec, livePatch, liveSettings, structuralKey, type UpdatePatch } from './session-form'

type SessionInfo = RequestResult<'session.create'>
type SessionState = RequestResult<'session.start'>

/** Debounce delays: structural edits rebuild the session, live settings update it in place. */
export const REBUILD_DELAY_MS = 300
export const UPDATE_DELAY_MS = 200
export const PREVIEW_DELAY_MS = 150

type Debounced = 'rebuild' | 'live' | 'preview'

export const useSessionStore = defineStore('session', () => {
  const client = getEngineClient()
  const connection = useConnectionStore()
  const formStore = useFormStore()
  const form = formStore.form
  const { pushError, clearTopic } = useErrorsStore()
  const metrics = useMetricsStore()

  const info = shallowRef<SessionInfo | null>(null)
  const state = shallowRef<SessionState | null>(null)
  const busy = ref(false)
  /** The structural key of the form the current session was built from (or mirrors). */
  const createdKey = ref<string | null>(null)
  /** The last session.create refusal (e.g. a backend that is not available), shown by its field. */
  const createError = shallowRef<{ code: string; message: string } | null>(null)
  /** The live settings the current session has (what session.update patches are made against). */
  let appliedLive: Required<UpdatePatch> | null = null

  // This tab's session survives a reload, and a second tab of this profile continues it (session-restore.ts).
  keepAcrossTabs(info, state)

  const stale = computed(() => info.value !== null && createdKey.value !== structuralKey(form))
  const running = computed(() => state.value?.status === 'running')
  /** Whether the session has trained (a structural edit then waits for the user to rebuild). */
  const progressed = computed(() => running.value || (state.value?.step ?? 0) > 0)
  const sessionId = () => info.value?.state.sessionId

  function report(err: unknown): void {
    if (err instanceof EngineRequestError && err.code === 'not_found') {
      // The host no longer has our session (it restarted, or the server dropped it): start over.
      forgetSession()
      scheduleRebuild()
    }
    pushError(errorMessage(err), err instanceof FormError ? 'form' : 'session')
  }

  // Serial actions

  const serial = createSerial(busy, report)

  function forgetSession(): void {
    info.value = null
    state.value = null
    createdKey.value = null
  }

  /** The current session, created (or rebuilt after structural edits) on demand. */
  async function ensureSession(): Promise<SessionInfo> {
    if (info.value && !stale.value) return info.value
    // The schema's problems and the blocks' refusals (which need the data's width) alike.
    const problem = formStore.formError
    if (problem) throw new FormError(problem)
    const key = structuralKey(form)
    const spec = buildSpec(form)
    const live = liveSettings(form)
    // The new session first: when the host refuses it, the current one is still there.
    const created = await client.request('session.create', spec).catch((err: unknown) => {
      if (err instanceof EngineRequestError) createError.value = { code: err.code, message: err.message }
      throw err
    })
    createError.value = null
    clearTopic('session') // what went wrong before is about the session this one replaces
    const old = sessionId()
    forgetSession()
    if (old) await client.request('session.dispose', { sessionId: old }).catch(() => undefined)
    info.value = created
    state.value = created.state
    createdKey.value = key
    appliedLive = live
    metrics.clear(layerLabels(created.layers), normSlots(created.spec.model.blocks))
    return created
  }

  const play = () =>
    serial(async () => {
      const s = await ensureSession()
      state.value = await client.request('session.start', { sessionId: s.state.sessionId })
    })

  /** Pause pressed, not yet answered: shown at once ("pausing…") while a big model's step finishes. */
  const pausing = ref(false)
  const pause = () => {
    pausing.value = state.value?.status === 'running'
    return serial(async () => {
      const id = sessionId()
      if (id) state.value = await client.request('session.pause', { sessionId: id })
    }).finally(() => (pausing.value = false))
  }

  const step = (steps = 1) =>
    serial(async () => {
      const s = await ensureSession()
      state.value = await client.request('session.step', { sessionId: s.state.sessionId, steps })
    })

  const reset = () =>
    serial(async () => {
      const id = sessionId()
      if (!id || stale.value) {
        await ensureSession()
        return
      }
      state.value = await client.request('session.reset', { sessionId: id })
      clearTopic('session')
      metrics.clear()
    })

  const rebuild = () => serial(async () => void (await ensureSession()))

  /** What session.update accepts (optimiser hyperparameters, batch, schedule, …) applies without a reset. */
  const applyLive = () =>
    serial(async () => {
      const id = sessionId()
      if (!id || stale.value || !appliedLive) return
      const problem = formStore.formError
      if (problem) throw new FormError(problem)
      const next = liveSettings(form)
      const patch = livePatch(appliedLive, next)
      if (!patch) return
      state.value = await client.request('session.update', { sessionId: id, ...patch })
      appliedLive = next
    })

  /** Preview the form's data; a failure goes to the banner (only the latest preview's). */
  const refreshPreview = () => formStore.loadPreview().catch(report)

  // Form edits: structural ones rebuild (as TensorFlow Playground does) until the session has
  // trained, then wait for Rebuild/Reset/Play (the UI says so); live settings update in place.

  const { debounce, cancel } = createDebouncer<Debounced>()
  function scheduleRebuild(): void {
    debounce('rebuild', REBUILD_DELAY_MS, () => {
      if (formStore.formError) return pushError(`Check the settings: ${formStore.formError}`, 'form')
      // A session that has trained waits for Rebuild / Reset / Play (the setup column says so).
      if (info.value && (!stale.value || progressed.value)) return
      void rebuild()
    })
  }

  watch(() => structuralKey(form), scheduleRebuild)
  // A settings problem fixed (or replaced by another): its banner goes, and a structural edit that
  // waited for the fix (optimiser type changed while lr was invalid) is applied now, not on Play.
  watch(
    () => formStore.formError,
    (problem) => {
      clearTopic('form')
      if (!problem && stale.value) scheduleRebuild()
    },
  )
  watch(
    () => JSON.stringify(liveSettings(form)),
    () => debounce('live', UPDATE_DELAY_MS, () => void applyLive()),
  )
  watch(
    () => formStore.dataKey,
    () => {
      clearTopic('session') // new data: the banners about the old data's session and preview are out of date
      debounce('preview', PREVIEW_DELAY_MS, () => void refreshPreview())
    },
  )

  /**
   * Show a session the host already has (a run opened at a checkpoint) in every view: the form
   * mirrors its spec, so nothing counts as stale and no rebuild follows, and the charts start with
   * the run's history up to the session's step.
   */
  async function adoptNow(id: string): Promise<void> {
    await adopt(id, {
      client,
      currentId: sessionId,
      install(adopted) {
        formStore.mirror(adopted.spec)
        info.value = adopted
        state.value = adopted.state
        createdKey.value = structuralKey(form)
        appliedLive = liveSettings(form)
        metrics.clear(layerLabels(adopted.layers), normSlots(adopted.spec.model.blocks))
      },
      seed: metrics.ingest,
    })
    // The form watchers fire on the next tick; the session already is what they would make.
    await nextTick()
    cancel('rebuild', 'live')
  }
  const adoptSession = (id: string) => serial(() => adoptNow(id))

  // Events from the host

  let lastStateMessage: string | undefined
  function onEvent(ev: EngineEvent): void {
    if (ev.event === 'host.status') {
      forgetSession()
      pushError(`The engine host ${ev.payload.status === 'crashed' ? 'crashed' : 'restarted'}: ${ev.payload.message}`, 'session')
      if (ev.payload.status === 'restarted') scheduleRebuild()
      return
    }
    if (ev.event === 'runs.changed' || ev.event === 'watch.metrics' || ev.event === 'client.resume') return // other stores' business
    if (ev.payload.sessionId !== sessionId()) return // a disposed session's last words
    if (ev.event === 'session.state') {
      state.value = ev.payload
      // A pause an alarm caused says the alarm's message: the Alarms card has it already.
      const said = ev.payload.message
      if (said && said !== lastStateMessage && !metrics.buffers.alarms.some((a) => a.message === said)) pushError(said, 'session')
      lastStateMessage = said
      return
    }
    if (ev.event === 'train.alarm') return // the studio-inspect store records alarms
    metrics.ingest(ev.payload)
    const latest = metrics.latest
    if (state.value?.status === 'running') state.value = { ...state.value, step: latest.step, epoch: latest.epoch }
  }

  let listening = false
  let initializing = false
  /** Connect once: listen, then ask the host what it offers, preview the data, build a session. */
  async function init(): Promise<boolean> {
    if (!listening) {
      listening = true
      client.onEvent(onEvent)
      client.onProblem((message) => console.warn(`[engine] ${message}`))
      // A first connection that failed is retried when the socket comes back.
      client.onStatus((s) => {
        if (s.state === 'open' && !connection.hello && !initializing) void init()
      })
    }
    initializing = true
    try {
      return await serial(async () => {
        await connection.loadHello()
        const link = useLinkStore()
        const restored = await restore({
          client,
          resumed: connection.resumed,
          link,
          adopt: adoptNow,
          form,
          notify: (m) => pushError(m),
          peers: peerSessions,
        })
        void refreshPreview()
        if (!restored) await ensureSession()
      })
    } finally {
      initializing = false
    }
  }

  return {
    info,
    state,
    busy,
    createError,
    stale,
    running,
    progressed,
    init,
    play,
    pause,
    pausing,
    step,
    reset,
    rebuild,
    adoptSession,
    /** Let go of the current session (an external run takes the charts); Play builds a new one. */
    forgetSession,
    refreshPreview,
  }
})
