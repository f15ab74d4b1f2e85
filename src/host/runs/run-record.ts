// What a run is on disk: run.json's record (format, names, status, the spec, stats), the file
// names inside a run's folder, and reading run.json back (saying why when it cannot be used).
import type { BackendInfo } from '../../engine'
import { REQUESTS, type RequestResult } from '../../shared/protocol'
import { RunId, type ExternalSource } from '../../shared/protocol-runs'
import type { z } from 'zod'
import type { SessionSpecOut } from '../setup'
import type { RunStats } from './metrics-log'

export type RunSummaryOut = RequestResult<'runs.rename'>
export type StorageStatusOut = RequestResult<'runs.list'>['storage']
export type RunStatus = Exclude<RunSummaryOut['status'], 'damaged'>

declare const __APP_VERSION__: string | undefined
export const APP_VERSION = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : 'dev'
export const RUN_FORMAT = 1
export const TRASH = '.trash'

export interface RunRecord {
  format: number
  runId: string
  name: string
  tags: string[]
  createdAt: string
  updatedAt: string
  status: RunStatus
  spec: SessionSpecOut
  backend: BackendInfo
  appVersion: string
  /** Where a time-travel branch came from. */
  parent?: { runId: string; step: number }
  /** As of the last save (a live run's numbers are newer in memory). */
  stats: RunStats
  /** A run reported from outside (studio_watch.py): its spec is a placeholder, this says what it was. */
  external?: z.output<typeof ExternalSource>
}

export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.ndjson'
export const CHECKPOINT_DIR = 'checkpoints'
export const DEFAULT_MAX_LOG_BYTES = 64 << 20

export function newRunId(now: Date): string {
  return `r${now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`
}

/** The record, or why run.json cannot be used. */
export function parseRecord(text: string): RunRecord | string {
  let v: RunRecord
  try {
    v = JSON.parse(text) as RunRecord
  } catch (e) {
    return `run.json is not valid JSON (${text.length === 0 ? 'the file is empty' : e instanceof Error ? e.message : String(e)}), perhaps cut short`
  }
  if (typeof v !== 'object' || v === null) return 'run.json does not hold a run description'
  if (v.format !== RUN_FORMAT) return `run.json has format ${JSON.stringify(v.format)}; this version reads format ${RUN_FORMAT}`
  const missing = (['runId', 'name', 'tags', 'createdAt', 'status', 'spec', 'stats'] as const).filter((k) => v[k] === undefined)
  if (missing.length > 0) return `run.json lacks ${missing.map((k) => `"${k}"`).join(', ')}`
  if (!RunId.safeParse(v.runId).success || typeof v.name !== 'string' || !Array.isArray(v.tags))
    return 'run.json has an invalid runId, name or tags'
  const spec = REQUESTS['session.create'].payload.safeParse(migrateSpec(v.spec))
  if (!spec.success) return 'run.json holds a configuration this version cannot read'
  return { ...v, spec: spec.data }
}

/**
 * A run's spec as this version reads it: tables saved before target standardisation existed
 * trained on the raw target, so they say standardizeTarget: false (the option's default is true).
 */
export function migrateSpec(spec: unknown): unknown {
  if (typeof spec !== 'object' || spec === null) return spec
  const data = (spec as { data?: unknown }).data
  if (typeof data !== 'object' || data === null) return spec
  const d = data as Record<string, unknown>
  if ((d.source !== 'csv' && d.source !== 'bundled') || 'standardizeTarget' in d) return spec
  return { ...spec, data: { ...d, standardizeTarget: false } }
}
