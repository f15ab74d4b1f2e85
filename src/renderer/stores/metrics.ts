// The current session's metrics for the charts and the status line: plain buffers (marked raw)
// behind a version counter, so full-speed training does not make Vue track every point, and the
// latest values as one shallow ref.
import { defineStore } from 'pinia'
import { markRaw, shallowRef } from 'vue'
import type { EventPayload, RequestResult } from '../../shared/protocol'
import type { NormSlot } from '../charts/layer-rows'
import { EMPTY_LATEST, MetricsBuffers, type LatestMetrics, type TrainAlarm } from './metrics-buffers'

/** Legend names for the per-layer charts: `hidden 1 (2→8)` … `output (8→2)`. */
export function layerLabels(layers: RequestResult<'session.create'>['layers']): string[] {
  return layers.map((l, i) => `${i === layers.length - 1 ? 'output' : `hidden ${i + 1}`} (${l.inFeatures}→${l.outFeatures})`)
}

export const useMetricsStore = defineStore('metrics', () => {
  const buffers = markRaw(new MetricsBuffers())
  /** Bumped by every change to `buffers`: what charts watch instead of the buffers themselves. */
  const version = shallowRef(0)
  const latest = shallowRef<LatestMetrics>(EMPTY_LATEST)

  /** Forget everything (a new or reset session); the layer names and the norms make the per-layer rows. */
  function clear(layerNames?: string[], norms?: NormSlot[]): void {
    buffers.clear(layerNames, norms)
    latest.value = buffers.latest
    version.value++
  }

  /** Add a batch (the caller has checked it belongs to the current session). */
  function ingest(batch: EventPayload<'train.metrics'>): void {
    buffers.ingest(batch)
    latest.value = buffers.latest
    version.value++
  }

  /** Record an alarm of the current session (the loss chart marks it; a clear forgets it). */
  function addAlarm(alarm: TrainAlarm): void {
    buffers.addAlarm(alarm)
    version.value++
  }

  return { buffers, version, latest, clear, ingest, addAlarm }
})
