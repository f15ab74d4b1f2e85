// Protocol messages for runs that last: every session is a run saved in the data directory
// (config, append-only metrics, safetensors checkpoints); runs are listed, renamed, tagged,
// deleted (with undo), reopened to inspect or resume, compared, scrubbed through, and exported.
import { z } from 'zod'
import { EvalPoint } from './protocol-stats'

const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')
/** Run ids are folder names made by the host: a timestamp and a random suffix. */
export const RunId = z.string().regex(/^r[0-9a-z-]{6,40}$/, 'is not a run id')
const num = z.number()

/** 'damaged': its run.json could not be read (see `damaged.reason`); it is listed so the user sees it. */
export const RUN_STATUSES = ['live', 'saved', 'interrupted', 'damaged'] as const

/** A run recorded from outside the studio (a PyTorch loop through studio_watch.py), kept in its run.json. */
export const ExternalSource = z.strictObject({
  source: z.literal('studio_watch'),
  /** The PyTorch module names of its layers, input side first, and their weight shapes. */
  layers: z.array(z.string()),
  shapes: z.array(z.array(z.number().int())).optional(),
  /** Points the script reported dropping (the studio was away or too slow). */
  dropped: z.number().int().min(0),
})

export const RunSummary = z.strictObject({
  runId: RunId,
  name: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** 'live': a session is training it now; 'saved': closed cleanly; 'interrupted': the process died. */
  status: z.enum(RUN_STATUSES),
  /** Steps recorded in its metrics log. */
  steps: z.number().int(),
  /** Steps at which a checkpoint exists, ascending. */
  checkpoints: z.array(z.number().int()),
  lastTrainLoss: num.nullable(),
  lastTestLoss: num.nullable(),
  lastTestAccuracy: num.nullable(),
  /** The full configuration (the SessionSpec it was created from), as stored. */
  spec: z.unknown(),
  /** The session training it now, if any. */
  sessionId: sessionId.nullable(),
  /** Present when the run's files could not be read: why (name the file), so it is not hidden. */
  damaged: z.strictObject({ reason: z.string() }).optional(),
  /** Present for a run recorded from outside (it has metrics but no checkpoints: it is watched, not opened). */
  external: ExternalSource.optional(),
  /** Bytes its folder takes on disk (checkpoints, metrics log, run.json) as of its last change; absent until measured. */
  bytes: z.number().int().min(0).optional(),
})

export const RunMetrics = z.strictObject({
  runId: RunId,
  /** Train loss per step, downsampled (mean over buckets) to at most maxPoints. */
  steps: z.array(z.number().int()),
  trainLoss: z.array(num),
  evals: z.array(EvalPoint),
  /** Per-layer gradient norms over time (the sampled layer stats), downsampled likewise. */
  gradNorms: z.array(z.strictObject({ step: z.number().int(), norms: z.array(num) })),
  /** Lines of the log that could not be read (a torn tail after a crash), skipped. */
  skippedLines: z.number().int(),
})

export const StorageStatus = z.strictObject({
  dir: z.string(),
  /** false when the directory cannot be written (read-only, full...): training goes on in memory. */
  writable: z.boolean(),
  message: z.string().optional(),
})

export const EXPORT_FORMATS = ['safetensors', 'pytorch', 'onnx', 'json', 'metrics-csv'] as const

export const ExportedFile = z.strictObject({
  name: z.string(),
  mediaType: z.string(),
  /** base64 for binary files (safetensors, onnx), utf-8 text otherwise. */
  encoding: z.enum(['base64', 'utf8']),
  content: z.string(),
})

/** Runs per runs.list page unless asked otherwise, and the most one page may hold. */
export const RUNS_PAGE = { default: 200, max: 1_000 } as const

export const RUNS_REQUESTS = {
  /**
   * One page of runs, newest first: `limit` of them after `cursor` (a previous page's nextCursor;
   * none: the first page). `total` counts them all; nextCursor is null on the last page. Changes
   * after that arrive as runs.changed events, so a list need not be polled.
   */
  'runs.list': {
    payload: z.strictObject({
      includeDeleted: z.boolean().default(false),
      cursor: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(RUNS_PAGE.max).default(RUNS_PAGE.default),
    }),
    result: z.strictObject({
      runs: z.array(RunSummary),
      total: z.number().int(),
      nextCursor: z.string().nullable(),
      storage: StorageStatus,
      /** Bytes all runs in the data directory take (those measured so far; the trash not counted). */
      totalBytes: z.number().int().min(0).optional(),
    }),
  },
  'runs.metrics': {
    payload: z.strictObject({ runId: RunId, maxPoints: z.number().int().min(10).max(20_000).default(2_000) }),
    result: RunMetrics,
  },
  'runs.rename': { payload: z.strictObject({ runId: RunId, name: z.string().trim().min(1).max(120) }), result: RunSummary },
  'runs.tag': { payload: z.strictObject({ runId: RunId, tags: z.array(z.string().trim().min(1).max(40)).max(20) }), result: RunSummary },
  /** Moves the run to the trash (undo with runs.restore); a live run is stopped first. */
  'runs.delete': { payload: z.strictObject({ runId: RunId }), result: z.strictObject({ runId: RunId }) },
  'runs.restore': { payload: z.strictObject({ runId: RunId }), result: RunSummary },
  /**
   * Open a run as a session at a checkpoint (default: the last). Training from there continues the
   * same run (resume) and reproduces an uninterrupted run with the same seed exactly; opening an
   * earlier checkpoint is time travel (the run's later history is kept; training from there starts
   * a new branch run whose name says where it came from).
   */
  'runs.open': {
    payload: z.strictObject({ runId: RunId, checkpointStep: z.number().int().min(0).optional() }),
    /** `notice`: what the user should know, e.g. the latest checkpoint was damaged and an earlier one opened. */
    result: z.strictObject({ sessionId, runId: RunId, step: z.number().int(), notice: z.string().optional() }),
  },
  'runs.export': {
    payload: z.strictObject({ runId: RunId, format: z.enum(EXPORT_FORMATS), checkpointStep: z.number().int().min(0).optional() }),
    result: z.strictObject({ files: z.array(ExportedFile) }),
  },
  /**
   * Save a session created unrecorded (session.create with record: false) as a run, now: its config,
   * the metrics it has kept in memory since step 0 and a checkpoint where it stands; from then on it
   * records like any session. `notice`: what the user should know (its oldest metrics were dropped).
   */
  'runs.save': {
    payload: z.strictObject({
      sessionId,
      name: z.string().trim().min(1).max(120),
      tags: z.array(z.string().trim().min(1).max(40)).max(20).default([]),
    }),
    result: z.strictObject({ run: RunSummary, notice: z.string().optional() }),
  },
  /** Load safetensors weights into a session's model; shape mismatches are explained per tensor.
   *  (Serve mode caps a message at 1 MiB, so about 700 KB of weights.) */
  'session.importWeights': {
    payload: z.strictObject({ sessionId, safetensorsBase64: z.string().max(1_000_000) }),
    result: z.strictObject({ loaded: z.array(z.string()), step: z.number().int() }),
  },
} as const

export const RUNS_EVENTS = {
  /**
   * Runs changed on disk (created, renamed, tagged, checkpointed, stopped, deleted, restored): the
   * new summaries of those in the data directory, the ids of those that left it (trashed or gone),
   * and the storage status when it changed. Sent instead of being polled for; at most a few a second.
   */
  'runs.changed': z.strictObject({
    runs: z.array(RunSummary),
    removed: z.array(RunId),
    storage: StorageStatus.optional(),
    /** As in runs.list, after these changes. */
    totalBytes: z.number().int().min(0).optional(),
  }),
} as const
