// External runs: PyTorch loops that report through studio_watch.py (watch.report). Each script's
// watchId becomes one run, recorded as the studio records its own (run.json, the metrics log; no
// checkpoints: the weights stay in PyTorch), so it is listed, its history opens and exports as
// CSV. Every report runs the studio's gradient alarms on the reported norms and goes to every
// client as a watch.metrics event. A run whose script went quiet is saved after `idleMs`.
import type { EventMessage, EventPayload, ParsedPayload, RequestResult } from '../../shared/protocol'
import { eventMessage, LayerStats, REQUESTS } from '../../shared/protocol'
import { GENERATOR_NAMES } from '../../shared/protocol-data'
import type { z } from 'zod'
import { HostError } from '../errors'
import type { LayerGradNorm, MetricsBatch } from '../metrics'
import { RunRecorder } from '../runs/recorder'
import { needStore, type RunsHost } from '../runs/runs-host'
import { APP_VERSION, newRunId, RUN_FORMAT, type RunRecord } from '../runs/store'
import { explodingAlarm, freshMonitor, vanishingAlarm, type AlarmSpec, type MonitorState, type TrainAlarm } from '../train-guards'

type Report = ParsedPayload<'watch.report'>
type Point = Report['points'][number]
type LayerStatsOut = z.output<typeof LayerStats>

/** The studio's default alarm thresholds; an external run is never paused (the studio cannot). */
const ALARMS: AlarmSpec = { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: false }
/** A run whose script sent nothing for this long is saved (a later report reopens it). */
export const WATCH_IDLE_MS = 120_000

interface Watched {
  recorder: RunRecorder | null
  runId: string
  layers: string[]
  monitor: MonitorState
  /** Edge-triggered alarms: raised when a condition starts, not on every step it lasts. */
  exploding: boolean
  nonFinite: boolean
  lastSeen: number
  /** The user deleted the run in the studio: later reports are refused. */
  deleted?: boolean
}

export interface WatchRunsOptions {
  idleMs?: number
  now?: () => number
}

/** A valid configuration for run.json (which holds a SessionSpec); `external` says what the run really is. */
function placeholderSpec(lr: number | null): RunRecord['spec'] {
  return REQUESTS['session.create'].payload.parse({
    model: { hidden: [], activation: 'linear' },
    data: { generator: GENERATOR_NAMES[0] },
    optimizer: { type: 'sgd', lr: lr !== null && lr > 0 && lr <= 10 ? lr : 0.01 },
  })
}

function layerStats(s: NonNullable<Point['stats']>[number], lr: number | null): LayerStatsOut {
  const ratio = s.updateRatio ?? (lr !== null && s.weightNorm > 0 ? (lr * s.gradNorm) / s.weightNorm : 0)
  const { gradNorm, meanAbsGrad, maxAbsGrad, weightNorm } = s
  return { gradNorm, meanAbsGrad, maxAbsGrad, weightNorm, updateRatio: ratio, deadFraction: null, saturatedFraction: null }
}

export class WatchRuns {
  private readonly runs = new Map<string, Watched>()
  private readonly idleMs: number
  private readonly now: () => number
  private readonly timer: ReturnType<typeof setInterval>

  constructor(
    private readonly host: RunsHost,
    private readonly post: (msg: EventMessage) => void,
    options: WatchRunsOptions = {},
  ) {
    this.idleMs = options.idleMs ?? WATCH_IDLE_MS
    this.now = options.now ?? Date.now
    this.timer = setInterval(() => this.saveIdle(), Math.min(this.idleMs, 10_000))
    this.timer.unref?.()
  }

  /** The record of a run a script is reporting to now, if any (runs-host lists it as live). */
  live(runId: string): RunRecord | undefined {
    for (const w of this.runs.values()) if (w.runId === runId && w.recorder) return w.recorder.rec
    return undefined
  }

  report(r: Report): RequestResult<'watch.report'> {
    const w = this.open(r)
    const stepsOut: number[] = []
    const lossOut: number[] = []
    const layers: MetricsBatch['layers'] = []
    const alarms: TrainAlarm[] = []
    let epoch = 0
    let lr: number | null = null
    for (const p of r.points) {
      epoch = p.epoch
      lr = p.lr ?? lr
      if (p.loss !== null) {
        stepsOut.push(p.step)
        lossOut.push(p.loss)
      }
      const bad = p.loss === null || p.nonFinite
      if (bad && !w.nonFinite)
        alarms.push({
          step: p.step,
          kind: 'nan',
          layer: null,
          parameter: null,
          message: `step ${p.step}: ${p.loss === null ? 'the loss' : 'a gradient or weight'} is not finite (NaN or Inf) in the PyTorch run; it continues.`,
        })
      w.nonFinite = bad
      if (!p.stats) continue
      layers.push({ step: p.step, stats: p.stats.map((s) => layerStats(s, p.lr)) })
      alarms.push(...this.alarmsFor(w, p.step, p.stats))
    }
    const wall = Math.max(1, this.now() - w.lastSeen)
    w.lastSeen = this.now()
    const batch = {
      steps: stepsOut,
      trainLoss: lossOut,
      epoch,
      evals: [],
      layers,
      stepsPerSecond: (1000 * r.points.length) / wall,
      lr: lr ?? 0,
    }
    const rec = w.recorder?.rec
    if (w.recorder && rec?.external) {
      rec.external.dropped = Math.max(rec.external.dropped, r.dropped)
      w.recorder.appendMetrics({ sessionId: 's0', ...batch })
    }
    this.post(
      eventMessage('watch.metrics', {
        runId: w.runId,
        name: rec?.name ?? r.name,
        layerNames: w.layers,
        batch,
        alarms: alarms.map(({ step, kind, layer, parameter, message }) => ({ step, kind, layer, parameter, message })),
        final: r.final,
      } satisfies EventPayload<'watch.metrics'>),
    )
    if (r.final) this.close(r.watchId)
    return { runId: w.runId, accepted: r.points.length, alarms: alarms.map((a) => a.message) }
  }

  /** The studio's alarms on one point's norms, in PyTorch's layer names. */
  private alarmsFor(w: Watched, step: number, stats: NonNullable<Point['stats']>): TrainAlarm[] {
    const norms: LayerGradNorm[] = stats.map((s) => ({
      weight: s.gradNorm,
      bias: s.biasGradNorm,
      layer: Math.hypot(s.gradNorm, s.biasGradNorm),
    }))
    const rename = (a: TrainAlarm): TrainAlarm => {
      const i = a.layer === null ? -1 : Number(a.layer.slice('layers.'.length))
      const name = w.layers[i]
      if (name === undefined) return a
      const message = a.message.replaceAll(`${a.layer}`, name)
      return { ...a, layer: name, parameter: a.parameter?.replace(`${a.layer}`, name) ?? null, message }
    }
    const out: TrainAlarm[] = []
    const exploding = explodingAlarm(step, norms, ALARMS)
    if (exploding && !w.exploding) out.push(rename(exploding))
    w.exploding = exploding !== null
    const vanishing = vanishingAlarm(step, norms, ALARMS, w.monitor)
    if (vanishing) out.push(rename(vanishing))
    return out
  }

  /** The run for this script, made on its first report (or reopened after it went idle). */
  private open(r: Report): Watched {
    const known = this.runs.get(r.watchId)
    // The script learns its layers at the first log() with a model; points before that had none.
    if (known && known.layers.length === 0 && r.layers.length > 0) {
      known.layers = [...r.layers]
      if (known.recorder?.rec.external)
        Object.assign(known.recorder.rec.external, { layers: [...r.layers], ...(r.shapes ? { shapes: r.shapes } : {}) })
    }
    if (known && known.layers.join('\n') !== r.layers.join('\n'))
      throw new HostError(
        'invalid_payload',
        `watch.report: watchId ${r.watchId} reported layers [${known.layers.join(', ')}] before and now [${r.layers.join(', ')}]; a new model needs a new StudioWatch`,
      )
    if (known?.deleted)
      throw new HostError('not_found', `watch.report: run ${known.runId} ("${r.name}") was deleted in the studio; its reports are refused`)
    if (known?.recorder) return known
    const store = needStore(this.host)
    const lr = r.points.find((p) => p.lr !== null)?.lr ?? null
    let rec: RunRecord
    if (known) rec = { ...store.read(known.runId), status: 'live' }
    else {
      const now = new Date(this.now())
      rec = {
        format: RUN_FORMAT,
        runId: newRunId(now),
        name: r.name,
        tags: ['pytorch'],
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        status: 'live',
        spec: placeholderSpec(lr),
        backend: { name: 'cpu', reason: 'trained outside the studio (PyTorch, reported by studio_watch.py)' },
        appVersion: APP_VERSION,
        stats: { steps: 0, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null },
        external: { source: 'studio_watch', layers: [...r.layers], ...(r.shapes ? { shapes: r.shapes } : {}), dropped: r.dropped },
      }
      if (!store.create(rec)) throw new HostError('internal', store.storage().message ?? 'the run could not be created')
    }
    const recorder = new RunRecorder(
      store,
      rec,
      (message) => console.error(`watched run ${rec.runId}: ${message}`),
      this.host.recorderOptions,
    )
    recorder.save('live')
    const w: Watched = known ?? {
      recorder,
      runId: rec.runId,
      layers: [...r.layers],
      monitor: freshMonitor(),
      exploding: false,
      nonFinite: false,
      lastSeen: this.now(),
    }
    w.recorder = recorder
    this.runs.set(r.watchId, w)
    return w
  }

  private close(watchId: string): void {
    const w = this.runs.get(watchId)
    if (!w?.recorder) return
    w.recorder.close('saved')
    w.recorder = null
  }

  /** The run is being deleted: saved as it is (before its folder moves) and closed to its script. */
  unwatch(runId: string): void {
    for (const [id, w] of this.runs)
      if (w.runId === runId) {
        this.close(id)
        w.deleted = true
      }
  }

  private saveIdle(): void {
    for (const [id, w] of this.runs) if (w.recorder && this.now() - w.lastSeen >= this.idleMs) this.close(id)
  }

  /** The host is stopping: every watched run is saved as it is. */
  dispose(): void {
    clearInterval(this.timer)
    for (const id of this.runs.keys()) this.close(id)
  }
}
