// The training session as the UI sees it: the form, what the host offers (hello), the current
// session and its state, the connection, errors for the banner, and the metrics buffers (plain
// data behind a version counter, so full-speed training does not make Vue track every point).
// Actions run one at a time, in order, so a Play pressed during a rebuild acts on the new session.
import { defineStore } from 'pinia'
import { computed, markRaw, nextTick, reactive, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { EngineRequestError, getEngineClient, type ConnectionStatus, type EngineEvent } from '../engine'
import { EMPTY_LATEST, MetricsBuffers, type LatestMetrics } from './metrics-buffers'
import { adoptedHistory } from './adopted-history'
import {
  buildData,
  buildSpec,
  defaultForm,
  formFromSpec,
  formIssues,
  livePatch,
  liveSettings,
  structuralKey,
  validateForm,
  type SessionForm,
  type UpdatePatch,
} from './session-form'
import { networkShape } from './session-shape'

type SessionInfo = RequestResult<'session.create'>
type SessionState = RequestResult<'session.start'>

export interface UiError {
  id: number
  message: string
  /** How many times the same message was raised while it was shown. */
  count: number
}

/** Debounce delays: structural edits rebuild the session, live settings update it in place. */
export const REBUILD_DELAY_MS = 300
export const UPDATE_DELAY_MS = 200
export const PREVIEW_DELAY_MS = 150
/** Points of a run's history asked for when adopting its session (the loss chart keeps 1200). */
const HISTORY_POINTS = 1_200

class FormError extends Error {}

/** Legend names for the per-layer charts: `hidden 1 (2→8)` … `output (8→2)`. */
export function layerLabels(layers: SessionInfo['layers']): string[] {
  return layers.map((l, i) => `${i === layers.length - 1 ? 'output' : `hidden ${i + 1}`} (${l.inFeatures}→${l.outFeatures})`)
}

export const useSessionStore = defineStore('session', () => {
  const client = getEngineClient()
  const form = reactive<SessionForm>(defaultForm())
  const hello = shallowRef<RequestResult<'host.hello'> | null>(null)
  const preview = shallowRef<RequestResult<'dataset.preview'> | null>(null)
  const info = shallowRef<SessionInfo | null>(null)
  const state = shallowRef<SessionState | null>(null)
  const connection = shallowRef<ConnectionStatus>(client.status())
  const errors = ref<UiError[]>([])
  const busy = ref(false)
  const metrics = markRaw(new MetricsBuffers())
  const metricsVersion = shallowRef(0)
  const latest = shallowRef<LatestMetrics>(EMPTY_LATEST)
  const createdKey = ref<string | null>(null)
  /** The data spec (JSON) that `preview` shows. */
  const previewKey = ref<string | null>(null)
  /** The last session.create refusal (e.g. a backend that is not available), shown by its field. */
  const createError = shallowRef<{ code: string; message: string } | null>(null)
  /** The live settings the current session has (what session.update patches are made against). */
  let appliedLive: Required<UpdatePatch> | null = null

  const formError = computed(() => validateForm(form))
  /** The form's problems by spec path, for messages next to their fields. */
  const issues = computed(() => formIssues(form))
  const stale = computed(() => info.value !== null && createdKey.value !== structuralKey(form))
  const running = computed(() => state.value?.status === 'running')
  /** Whether the session has trained (a structural edit then waits for the user to rebuild). */
  const progressed = computed(() => running.value || (state.value?.step ?? 0) > 0)
  const dataKey = computed(() => JSON.stringify(buildData(form)))
  /** The preview when it is of the form's current data, else null. */
  const freshPreview = computed(() => (preview.value && previewKey.value === dataKey.value ? preview.value : null))
  /** The network the form describes (input → hidden… → output, parameters), computed locally. */
  const shape = computed(() => networkShape(form, hello.value, freshPreview.value))

  // ---------------------------------------------------------------------------------------------
  // Errors

  let nextErrorId = 1
  function pushError(message: string): void {
    const same = errors.value.find((e) => e.message === message)
    if (same) same.count++
    else errors.value.push({ id: nextErrorId++, message, count: 1 })
  }
  function dismissError(id: number): void {
    errors.value = errors.value.filter((e) => e.id !== id)
  }

  function report(err: unknown): void {
    if (err instanceof FormError) return pushError(`Check the settings: ${err.message}`)
    if (!(err instanceof EngineRequestError)) return pushError(err instanceof Error ? err.message : String(err))
    if (err.code === 'not_found') {
      // The host no longer has our session (it restarted, or the server dropped it): start over.
      forgetSession()
      scheduleRebuild()
    }
    const prefix: Partial<Record<EngineRequestError['code'], string>> = {
      disconnected: 'Not connected to the engine',
      host_crashed: 'The engine host crashed',
      invalid_payload: 'The engine refused the settings',
      backend_unavailable: 'Backend unavailable',
    }
    pushError(prefix[err.code] ? `${prefix[err.code]}: ${err.message}` : err.message)
  }

  // ---------------------------------------------------------------------------------------------
  // Serial actions

  let chain: Promise<unknown> = Promise.resolve()
  function serial(fn: () => Promise<void>): Promise<boolean> {
    const run = chain.then(async () => {
      busy.value = true
      try {
        await fn()
        return true
      } catch (err) {
        report(err)
        return false
      } finally {
        busy.value = false
      }
    })
    chain = run
    return run
  }

  function forgetSession(): void {
    info.value = null
    state.value = null
    createdKey.value = null
  }

  function clearMetrics(layerNames?: string[]): void {
    metrics.clear(layerNames)
    latest.value = metrics.latest
    metricsVersion.value++
  }

  /** The current session, created (or rebuilt after structural edits) on demand. */
  async function ensureSession(): Promise<SessionInfo> {
    if (info.value && !stale.value) return info.value
    const problem = validateForm(form)
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
    const old = info.value?.state.sessionId
    forgetSession()
    if (old) await client.request('session.dispose', { sessionId: old }).catch(() => undefined)
    info.value = created
    state.value = created.state
    createdKey.value = key
    appliedLive = live
    clearMetrics(layerLabels(created.layers))
    return created
  }

  const sessionId = () => info.value?.state.sessionId

  const play = () =>
    serial(async () => {
      const s = await ensureSession()
      state.value = await client.request('session.start', { sessionId: s.state.sessionId })
    })

  const pause = () =>
    serial(async () => {
      const id = sessionId()
      if (id) state.value = await client.request('session.pause', { sessionId: id })
    })

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
      clearMetrics()
    })

  const rebuild = () => serial(async () => void (await ensureSession()))

  /** What session.update accepts (optimiser hyperparameters, batch, schedule, …) applies without a reset. */
  const applyLive = () =>
    serial(async () => {
      const id = sessionId()
      if (!id || stale.value || !appliedLive) return
      const problem = validateForm(form)
      if (problem) throw new FormError(problem)
      const next = liveSettings(form)
      const patch = livePatch(appliedLive, next)
      if (!patch) return
      state.value = await client.request('session.update', { sessionId: id, ...patch })
      appliedLive = next
    })

  let previewTicket = 0
  /** Preview the form's data (skipped while the source has nothing chosen, e.g. no upload yet). */
  async function refreshPreview(): Promise<void> {
    const ticket = ++previewTicket
    const data = buildData(form)
    const key = JSON.stringify(data)
    if (Object.keys(issues.value).some((p) => p.startsWith('data.'))) return
    try {
      const result = await client.request('dataset.preview', data)
      if (ticket === previewTicket) (preview.value = result), (previewKey.value = key)
    } catch (err) {
      if (ticket === previewTicket) report(err)
    }
  }

  /**
   * Ask the host whether `data` can be used (a CSV with its target and features): null when it
   * can, else the host's message (it names the row/column). Changes nothing.
   */
  async function probeData(data: ReturnType<typeof buildData>): Promise<string | null> {
    try {
      await client.request('dataset.preview', data)
      return null
    } catch (err) {
      return (err instanceof Error ? err.message : String(err)).replace(/^dataset\.preview: /, '')
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Form edits: structural ones rebuild (as TensorFlow Playground does) until the session has
  // trained, then wait for Rebuild/Reset/Play (the UI says so); live settings update in place.

  const timers = new Map<string, ReturnType<typeof setTimeout>>()
  function debounce(name: string, ms: number, fn: () => void): void {
    clearTimeout(timers.get(name))
    timers.set(name, setTimeout(() => (timers.delete(name), fn()), ms))
  }
  function scheduleRebuild(): void {
    debounce('rebuild', REBUILD_DELAY_MS, () => {
      if (formError.value) return pushError(`Check the settings: ${formError.value}`)
      // A session that has trained waits for Rebuild / Reset / Play (the setup column says so).
      if (info.value && (!stale.value || progressed.value)) return
      void rebuild()
    })
  }

  watch(() => structuralKey(form), scheduleRebuild)
  watch(() => JSON.stringify(liveSettings(form)), () => debounce('live', UPDATE_DELAY_MS, () => void applyLive()))
  watch(dataKey, () => debounce('preview', PREVIEW_DELAY_MS, () => void refreshPreview()))

  function addLayer(): void {
    if (form.hidden.length >= (hello.value?.limits.maxHiddenLayers ?? 16)) return
    form.hidden.push(form.hidden.at(-1) ?? 8)
    form.activations.push(form.activations.at(-1) ?? 'tanh')
  }
  function removeLayer(index: number): void {
    form.hidden.splice(index, 1)
    form.activations.splice(index, 1)
  }
  /** Move hidden layer `index` by `by` places (−1: towards the input), with its activation. */
  function moveLayer(index: number, by: number): void {
    const to = index + by
    if (to < 0 || to >= form.hidden.length) return
    for (const list of [form.hidden, form.activations] as unknown[][]) list.splice(to, 0, ...list.splice(index, 1))
  }
  /** The same activation for every hidden layer. */
  function setAllActivations(a: SessionForm['activations'][number]): void {
    form.activations = form.hidden.map(() => a)
  }
  function regenerate(): void {
    const seed = Math.floor(Math.random() * 1_000_000)
    if (form.source === 'generator') form.data.seed = seed
    else form[form.source].seed = seed
  }

  /**
   * Show a session the host already has (a run opened at a checkpoint) in every view: the form
   * mirrors its spec, so nothing counts as stale and no rebuild follows, and the charts start with
   * the run's history up to the session's step.
   */
  const adoptSession = (id: string) =>
    serial(async () => {
      const adopted = await client.request('session.info', { sessionId: id }).catch((err: unknown) => {
        // Not our current session that went missing: say so rather than forget the current one.
        if (err instanceof EngineRequestError && err.code === 'not_found') throw new Error(`Could not open session ${id}: ${err.message}`)
        throw err
      })
      const runId = adopted.runId
      const history = runId ? await client.request('runs.metrics', { runId, maxPoints: HISTORY_POINTS }).catch(() => null) : null
      const old = info.value?.state.sessionId
      if (old && old !== id) await client.request('session.dispose', { sessionId: old }).catch(() => undefined)
      Object.assign(form, formFromSpec(adopted.spec))
      info.value = adopted
      state.value = adopted.state
      createdKey.value = structuralKey(form)
      appliedLive = liveSettings(form)
      clearMetrics(layerLabels(adopted.layers))
      if (history) {
        metrics.ingest(adoptedHistory(history, adopted.state))
        latest.value = metrics.latest
        metricsVersion.value++
      }
      // The form watchers fire on the next tick; the session already is what they would make.
      await nextTick()
      for (const name of ['rebuild', 'live']) {
        clearTimeout(timers.get(name))
        timers.delete(name)
      }
    })

  // ---------------------------------------------------------------------------------------------
  // Events from the host

  let lastStateMessage: string | undefined
  function onEvent(ev: EngineEvent): void {
    if (ev.event === 'host.status') {
      forgetSession()
      pushError(ev.payload.status === 'crashed' ? `The engine host crashed: ${ev.payload.message}` : `The engine host restarted: ${ev.payload.message}`)
      if (ev.payload.status === 'restarted') scheduleRebuild()
      return
    }
    if (ev.event === 'runs.changed') return // the runs store's business
    if (ev.payload.sessionId !== sessionId()) return // a disposed session's last words
    if (ev.event === 'session.state') {
      state.value = ev.payload
      if (ev.payload.message && ev.payload.message !== lastStateMessage) pushError(ev.payload.message)
      lastStateMessage = ev.payload.message
      return
    }
    if (ev.event === 'train.alarm') return // the studio-inspect store records alarms
    metrics.ingest(ev.payload)
    latest.value = metrics.latest
    if (state.value?.status === 'running') state.value = { ...state.value, step: metrics.latest.step, epoch: metrics.latest.epoch }
    metricsVersion.value++
  }

  let listening = false
  let initializing = false
  /** Connect once: listen, then ask the host what it offers, preview the data, build a session. */
  async function init(): Promise<boolean> {
    if (!listening) {
      listening = true
      client.onEvent(onEvent)
      client.onProblem((message) => console.warn(`[engine] ${message}`))
      client.onStatus((s) => {
        connection.value = s
        // A first connection that failed is retried when the socket comes back.
        if (s.state === 'open' && !hello.value && !initializing) void init()
      })
    }
    initializing = true
    try {
      return await serial(async () => {
        hello.value = await client.request('host.hello', {})
        void refreshPreview()
        await ensureSession()
      })
    } finally {
      initializing = false
    }
  }

  return {
    form, hello, preview, info, state, connection, errors, busy, metrics, metricsVersion, latest,
    formError, issues, stale, running, progressed, freshPreview, shape, createError,
    init, play, pause, step, reset, rebuild, adoptSession, refreshPreview, probeData, addLayer, removeLayer, moveLayer, setAllActivations, regenerate, dismissError, pushError,
  }
})
