// Runs from outside the studio: a PyTorch training loop reports through studio_watch.py (shipped
// with the PyTorch export) to serve mode's POST /api/watch, which forwards the validated body as
// a watch.report request; the host records it as an external run and tells every client. And the
// way back: runs.import turns a PyTorch state dict into a new run of the studio.
import { z } from 'zod'
import { RunId } from './protocol-runs'

/** What one POST may carry; the server refuses bigger bodies before parsing them. */
export const WATCH_LIMITS = {
  maxBodyBytes: 256 * 1024,
  maxReports: 256,
  maxLayers: 64,
  maxNameLength: 120,
  /** POSTs per second the server accepts (a bucket of this many, refilled each second). */
  maxPostsPerSecond: 20,
} as const

const finite = z.number().refine(Number.isFinite, 'must be a finite number')
const stat = finite.check(z.gte(0))

/** One layer's statistics as studio_watch.py computes them from the model's parameters. */
export const WatchLayerStats = z.strictObject({
  gradNorm: stat,
  meanAbsGrad: stat,
  maxAbsGrad: stat,
  weightNorm: stat,
  /** ‖g‖ of the layer's bias (for the alarms, which look at weight and bias together). */
  biasGradNorm: stat.default(0),
  /** lr·‖g‖/‖w‖ when the learning rate is known, else null. */
  updateRatio: stat.nullable().default(null),
})

export const WatchPoint = z.strictObject({
  step: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The minibatch loss; null when it was not finite (NaN/Inf cannot travel in JSON). */
  loss: finite.nullable(),
  epoch: z.number().int().min(0).default(0),
  lr: stat.nullable().default(null),
  /** A gradient or weight was NaN/Inf at this step (its statistics are left out: JSON cannot carry them). */
  nonFinite: z.boolean().default(false),
  /** One entry per watched layer, in `layers` order; absent on steps without statistics. */
  stats: z.array(WatchLayerStats).max(WATCH_LIMITS.maxLayers).optional(),
})

export const WatchReport = z
  .strictObject({
    /** Chosen by the script once per StudioWatch: reports with the same id go to the same run. */
    watchId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 characters from A-Z, a-z, 0-9, "-" and "_"'),
    name: z.string().trim().min(1).max(WATCH_LIMITS.maxNameLength),
    /** The layers' names (PyTorch module names), input side first. */
    layers: z.array(z.string().min(1).max(200)).max(WATCH_LIMITS.maxLayers),
    /** Each layer's weight shape ([out, in] for nn.Linear), same order. */
    shapes: z
      .array(z.array(z.number().int().min(0)).max(8))
      .max(WATCH_LIMITS.maxLayers)
      .optional(),
    points: z.array(WatchPoint).max(WATCH_LIMITS.maxReports),
    /** The script closed its StudioWatch: the run is saved. */
    final: z.boolean().default(false),
    /** Points the script dropped before this report (the studio was away or the queue full). */
    dropped: z.number().int().min(0).default(0),
  })
  .check((ctx) => {
    const { layers, shapes, points } = ctx.value
    if (shapes && shapes.length !== layers.length)
      ctx.issues.push({
        code: 'custom',
        input: shapes,
        path: ['shapes'],
        message: `gives ${shapes.length} shapes for ${layers.length} layers`,
      })
    points.forEach((p, i) => {
      if (p.stats && p.stats.length !== layers.length)
        ctx.issues.push({
          code: 'custom',
          input: p.stats,
          path: ['points', i, 'stats'],
          message: `gives ${p.stats.length} layer statistics for ${layers.length} layers`,
        })
    })
  })

export const WATCH_REQUESTS = {
  /** A report from studio_watch.py (forwarded by serve mode's POST /api/watch). */
  'watch.report': {
    payload: WatchReport,
    result: z.strictObject({ runId: RunId, accepted: z.number().int(), alarms: z.array(z.string()) }),
  },
} as const
