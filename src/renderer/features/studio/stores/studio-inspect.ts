// The studio's inspection panels beyond the metrics stream: alarms (events), and histograms, the
// decision boundary and predictions (requests). Requests are polled as the metrics move, never
// faster than each panel's rate and never more than one in flight per panel, so a fast run or a
// slow host cannot queue work; results for a session or run that has moved on are dropped.
import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef, watch } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { getEngineClient } from '../../../engine'
import { HistogramHistory } from '../../../charts/histogram-history'
import type { TrainAlarm } from '../../../stores/metrics-buffers'
import { useMetricsStore } from '../../../stores/metrics'
import { useSessionStore } from '../../../stores/session'

export type InspectPanel = 'histograms' | 'boundary' | 'predictions'
export type HistogramRange = 'auto' | { lo: number; hi: number }

/** Minimum time between two requests of a panel (histograms ≤ 2/s, boundary ≤ 4/s). */
export const POLL_INTERVAL_MS: Record<InspectPanel, number> = { histograms: 500, boundary: 250, predictions: 1000 }
export const HISTOGRAM_BINS = 30
export const BOUNDARY_RESOLUTION = 64

/**
 * A panel's requests may take about this share of the host's time: a request that took d ms is
 * followed by the next no sooner than d / share after it began. On a big model (16 × 1024) one
 * boundary or histogram request costs a good part of a training step; polled at its base rate it
 * would halve training speed.
 */
export const POLL_HOST_SHARE = 0.1

/**
 * Runs `fetch` when poked, at most once per `intervalMs` (longer when fetches are slow, see
 * POLL_HOST_SHARE) and one at a time: pokes while a fetch is in flight or too soon after the last
 * one are remembered, and answered by one trailing fetch.
 */
export class Poller {
  private inFlight = false
  private dirty = false
  private lastStart = -Infinity
  private lastDuration = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = false

  constructor(
    private readonly intervalMs: number,
    private readonly fetch: () => Promise<void>,
  ) {}

  poke(): void {
    this.stopped = false
    this.dirty = true
    this.pump()
  }

  /** Forget pending pokes (a fetch already in flight finishes, its result is the caller's to drop). */
  stop(): void {
    this.stopped = true
    this.dirty = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private pump(): void {
    if (this.stopped || !this.dirty || this.inFlight || this.timer) return
    const wait = this.lastStart + Math.max(this.intervalMs, this.lastDuration / POLL_HOST_SHARE) - Date.now()
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.pump()
      }, wait)
      return
    }
    this.dirty = false
    this.inFlight = true
    const started = (this.lastStart = Date.now())
    void this.fetch()
      .catch(() => undefined)
      .finally(() => {
        this.lastDuration = Date.now() - started
        this.inFlight = false
        this.pump()
      })
  }
}

/** Bytes as base64, in chunks (String.fromCharCode over a whole file overflows the stack). */
export function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text)
}

type Boundary = RequestResult<'session.boundary'>
type Predictions = RequestResult<'session.predictions'>

export const useStudioInspectStore = defineStore('studio-inspect', () => {
  const client = getEngineClient()
  const session = useSessionStore()
  const metrics = useMetricsStore()

  // ---------------------------------------------------------------------------------------------
  // Alarms: kept in the session's metrics buffers, so a reset or a new session clears them.

  const alarmBanner = shallowRef<TrainAlarm | null>(null)
  const alarms = computed<TrainAlarm[]>(() => {
    void metrics.version // the buffers are plain data: the version says when they changed
    return metrics.buffers.alarms.slice()
  })

  function onAlarm(alarm: TrainAlarm): void {
    if (alarm.sessionId !== session.info?.state.sessionId) return
    metrics.addAlarm(alarm)
    alarmBanner.value = alarm
  }
  const dismissAlarm = () => (alarmBanner.value = null)

  // ---------------------------------------------------------------------------------------------
  // Polled panels

  const histRange = ref<HistogramRange>('auto')
  const histograms = markRaw(new HistogramHistory(100))
  const histVersion = shallowRef(0)
  const boundary = shallowRef<Boundary | null>(null)
  const predictions = shallowRef<Predictions | null>(null)
  const errors = ref<Record<InspectPanel, string | null>>({ histograms: null, boundary: null, predictions: null })
  const users: Record<InspectPanel, number> = { histograms: 0, boundary: 0, predictions: 0 }

  const sessionId = () => session.info?.state.sessionId
  /** Which run of which session a request belongs to; a reply for another one is stale. */
  const ticket = () => `${sessionId()}#${metrics.buffers.generation}`

  async function guarded<T>(panel: InspectPanel, ask: (id: string) => Promise<T>, keep: (result: T) => void): Promise<void> {
    const id = sessionId()
    if (!id) return
    const before = ticket()
    try {
      const result = await ask(id)
      if (ticket() !== before) return
      errors.value[panel] = null
      keep(result)
    } catch (err) {
      if (ticket() === before) errors.value[panel] = err instanceof Error ? err.message : String(err)
    }
  }

  const pollers: Record<InspectPanel, Poller> = {
    histograms: new Poller(POLL_INTERVAL_MS.histograms, () => {
      const range = histRange.value
      return guarded(
        'histograms',
        (id) => client.request('session.histograms', { sessionId: id, bins: HISTOGRAM_BINS, range }),
        (r) => {
          if (range !== histRange.value) return // binned over a range the user has since changed
          histograms.add(r)
          histVersion.value++
        },
      )
    }),
    boundary: new Poller(POLL_INTERVAL_MS.boundary, () =>
      guarded(
        'boundary',
        (id) => client.request('session.boundary', { sessionId: id, resolution: BOUNDARY_RESOLUTION }),
        (r) => (boundary.value = r),
      ),
    ),
    predictions: new Poller(POLL_INTERVAL_MS.predictions, () =>
      guarded(
        'predictions',
        (id) => client.request('session.predictions', { sessionId: id, split: 'test', max: 1000 }),
        (r) => (predictions.value = r),
      ),
    ),
  }

  /** Which panels apply to the current session: the boundary needs 2-D inputs. */
  function applies(panel: InspectPanel): boolean {
    const info = session.info
    if (!info) return false
    if (panel === 'boundary') return info.planar
    if (panel === 'predictions') return info.task === 'regression' || !info.planar
    return true
  }

  function poke(panel: InspectPanel): void {
    if (users[panel] > 0 && applies(panel)) pollers[panel].poke()
  }
  const pokeAll = () => (['histograms', 'boundary', 'predictions'] as const).forEach(poke)

  /** A panel on screen asks to be kept up to date; call the returned function when it goes. */
  function acquire(panel: InspectPanel): () => void {
    users[panel]++
    poke(panel)
    let released = false
    return () => {
      if (released) return
      released = true
      if (--users[panel] === 0) pollers[panel].stop()
    }
  }

  function clearPanels(): void {
    histograms.clear()
    histVersion.value++
    boundary.value = null
    predictions.value = null
    errors.value = { histograms: null, boundary: null, predictions: null }
    alarmBanner.value = null
  }

  let generation = metrics.buffers.generation
  watch(
    () => metrics.version,
    () => {
      if (metrics.buffers.generation !== generation) {
        generation = metrics.buffers.generation
        clearPanels()
      }
      pokeAll()
    },
  )
  watch(
    () => session.info?.state.sessionId,
    () => {
      clearPanels()
      pokeAll()
    },
  )

  /** A new histogram range starts a new history (bins of different ranges never share a plot). */
  function setHistogramRange(range: HistogramRange): void {
    if (range !== 'auto' && !(Number.isFinite(range.lo) && Number.isFinite(range.hi) && range.lo < range.hi)) {
      errors.value.histograms = `Histogram range: lo must be below hi (got ${range.lo} … ${range.hi})`
      return
    }
    histRange.value = range
    histograms.clear()
    histVersion.value++
    poke('histograms')
  }

  /** Load safetensors weights into the current session; resolves to what to tell the user. */
  async function importWeights(bytes: Uint8Array): Promise<{ ok: boolean; message: string }> {
    const id = sessionId()
    if (!id) return { ok: false, message: 'Import weights: there is no session yet' }
    try {
      const r = await client.request('session.importWeights', { sessionId: id, safetensorsBase64: toBase64(bytes) })
      pokeAll()
      return { ok: true, message: `Loaded ${r.loaded.length} tensor${r.loaded.length === 1 ? '' : 's'}: ${r.loaded.join(', ')}` }
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) }
    }
  }

  client.onEvent((ev) => {
    if (ev.event === 'train.alarm') onAlarm(ev.payload)
  })

  return {
    alarms,
    alarmBanner,
    dismissAlarm,
    histRange,
    histograms,
    histVersion,
    boundary,
    predictions,
    errors,
    acquire,
    setHistogramRange,
    applies,
    importWeights,
  }
})
