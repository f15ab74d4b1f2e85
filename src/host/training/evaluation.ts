// Loss and accuracy (classification) or R², RMSE and MAE (regression) of a session's model over the
// rows of a split, in the target's units, in chunks and without a graph,
// written once for both drivers (drive.ts): each chunk's loss and outputs are read with `later`
// and a slice point follows, so on the CPU an evaluation spreads over slices, one chunk a piece,
// and on a device every chunk is read back in one await when the caller settles.
import { noGrad, type data, type TypedArray } from '../../engine'
import type { EvalPoint } from '../metrics'
import type { LossPlan } from '../setup'
import { lossUnits, type TargetScaling } from '../target-scaling'
import { FitTally, type RegressionFit } from './regression-fit'
import { later, settle, SLICE, type Drive } from './drive'
import type { Driver } from './driver'
import { forwardFlopsPerRow } from '../work-budget'

/** Train metrics are taken on at most this many training rows, so evaluation stays cheap. */
export const TRAIN_EVAL_ROWS = 5000
/**
 * An evaluation may cost about this share of the training between two evaluations (a row's forward
 * pass is about a third of a training row's forward and backward). Past it, each split is measured
 * on a fixed sample: its first rows, the same every time, so the curves stay comparable.
 */
export const EVAL_SHARE = 0.05
/** Floating-point operations of an evaluation always allowed (a few ms): small models measure every row. */
export const EVAL_FREE_FLOPS = 5e7

/**
 * Rows of each split an evaluation measures at most: what EVAL_SHARE of `evalEvery` steps of
 * `batchSize` rows allows (half each for test and train), or EVAL_FREE_FLOPS, whichever is more.
 */
export function evalRowBudget(forwardFlopsPerRow: number, evalEvery: number, batchSize: number): number {
  const share = (EVAL_SHARE * evalEvery * batchSize * 3) / 2
  return Math.max(1, Math.floor(Math.max(share, EVAL_FREE_FLOPS / Math.max(1, forwardFlopsPerRow))))
}

export interface Measurement {
  /** In the target's units when it trains standardised (target-scaling.ts). */
  loss: number
  accuracy: number | null
  /** Regression only. */
  fit: RegressionFit | null
}

/** The rows a train-set measurement covers (`budget`: evalRowBudget). */
export function trainRows(ds: data.Dataset, budget = Infinity): number {
  return Math.min(ds.n, TRAIN_EVAL_ROWS, budget)
}

interface Chunk {
  a: number
  m: number
}

/** Sums chunk results into the mean loss and accuracy over all rows. */
export class Tally {
  private lossSum = 0
  private correct = 0
  private classified = true
  private readonly fit: FitTally | null

  constructor(
    private readonly plan: LossPlan,
    private readonly ds: data.Dataset,
    private readonly rows: number,
    private readonly scaling: TargetScaling | null = null,
  ) {
    this.fit = ds.task === 'regression' ? new FitTally() : null
  }

  /** One chunk: its mean loss and its outputs (read now; a CPU view may be reused later). */
  add({ a, m }: Chunk, loss: number, out: TypedArray): void {
    this.lossSum += loss * m
    const y = this.ds.y.subarray(a, a + m)
    this.fit?.add(out, y, m)
    const c = this.plan.correct(out, y, m)
    if (c === null) this.classified = false
    else this.correct += c
  }

  /** The measurement, once every chunk is in (on a device: after a settle). */
  result(): Measurement {
    return {
      loss: (this.lossSum / this.rows) * lossUnits(this.scaling),
      accuracy: this.classified ? this.correct / this.rows : null,
      fit: this.fit && this.fit.result(this.scaling),
    }
  }
}

/**
 * Mean loss and accuracy over the first `rows` rows of `ds`, in chunks of `chunkRows` (the same on
 * every backend, so a CPU and a device session measure alike), one slice point after each. The
 * tally is complete once the caller settles (drive.ts); the weights must not change meanwhile.
 */
export function* measure(
  d: Pick<Driver, 'model' | 'input'>,
  plan: LossPlan,
  chunkRows: number,
  ds: data.Dataset,
  rows: number,
  scaling: TargetScaling | null = null,
): Drive<Tally> {
  const tally = new Tally(plan, ds, rows, scaling)
  for (let a = 0; a < rows; a += chunkRows) {
    const chunk = { a, m: Math.min(chunkRows, rows - a) }
    const [loss, out] = noGrad(() => {
      const out = d.model.forward(d.input(ds.x.subarray(a * ds.nFeatures, (a + chunk.m) * ds.nFeatures), chunk.m, ds.nFeatures))
      return [plan.loss(out, ds.y.subarray(a, a + chunk.m)), out]
    })
    yield* later([{ value: loss }, { value: out }], ([l, o]) => tally.add(chunk, l[0], o))
    yield SLICE
  }
  return tally
}

/**
 * The evaluation point from the test and (capped) train measurements. Null when the loss is not
 * finite: the protocol carries finite numbers only, and the step-loss guard reports the problem.
 */
export function evalPoint(step: number, test: Measurement, train: Measurement): EvalPoint | null {
  if (!Number.isFinite(test.loss) || !Number.isFinite(train.loss)) return null
  const point: EvalPoint = { step, trainLoss: train.loss, testLoss: test.loss, trainAccuracy: train.accuracy, testAccuracy: test.accuracy }
  if (train.fit && test.fit) point.regression = { train: train.fit, test: test.fit }
  return point
}

/** What an evaluation reads of a trainer (trainer.ts): the model that trains, the loss, the data and the step. */
export interface Evaluated {
  readonly driver: Pick<Driver, 'model' | 'input'>
  readonly plan: LossPlan
  readonly data: { train: data.Dataset; test: data.Dataset; targetScaling: TargetScaling | null }
  readonly stepCount: number
  /** The live evalEvery and batch size, which size the evaluation's sample (evalRowBudget). */
  readonly spec: { readonly train: { readonly evalEvery: number; readonly batchSize: number } }
}

/** Rows of each split an evaluation of `t` measures at most. */
function evalRows(t: Evaluated): number {
  return evalRowBudget(forwardFlopsPerRow(t.driver.model.sizes), t.spec.train.evalEvery, t.spec.train.batchSize)
}

/**
 * Test-set and train-set loss and accuracy at the current weights (each on at most `evalRows`
 * rows, the train set on at most TRAIN_EVAL_ROWS), in chunks of
 * `chunkRows`, for either driver (a device reads both back in one await); null when there is no
 * test set (testRatio rounds to zero rows) or a loss is not finite (see evalPoint). The weights
 * must not change meanwhile.
 */
export function* evaluationOf(t: Evaluated, chunkRows: number): Drive<EvalPoint | null> {
  const { train, test } = t.data
  if (test.n === 0) return null
  const s = t.data.targetScaling
  const te = yield* measure(t.driver, t.plan, chunkRows, test, Math.min(test.n, evalRows(t)), s)
  const tr = yield* measure(t.driver, t.plan, chunkRows, train, trainRows(train, evalRows(t)), s)
  yield* settle()
  return evalPoint(t.stepCount, te.result(), tr.result())
}

/** Mean loss on the (capped) training rows. */
export function* trainLossOf(t: Evaluated, chunkRows: number): Drive<number> {
  const tally = yield* measure(t.driver, t.plan, chunkRows, t.data.train, trainRows(t.data.train, evalRows(t)), t.data.targetScaling)
  yield* settle()
  return tally.result().loss
}
