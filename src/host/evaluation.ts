// Loss and accuracy of a session's model over the rows of a split, in chunks and without a graph:
// on the CPU as resumable work (one chunk between yields, so an evaluation spreads over slices),
// on a WebGPU device with every chunk's results read back in one await. Both tally the same chunks
// the same way, so a CPU and a device session report the same measurement.
import { noGrad, type data, type nn, type Tensor, type TypedArray } from '../engine'
import type { EvalPoint } from './metrics'
import type { LossPlan } from './setup'
import type { Work } from './work-budget'

/** Train metrics are taken on at most this many training rows, so evaluation stays cheap. */
export const TRAIN_EVAL_ROWS = 5000

export interface Measurement {
  loss: number
  accuracy: number | null
}

/** The rows a train-set measurement covers. */
export function trainRows(ds: data.Dataset): number {
  return Math.min(ds.n, TRAIN_EVAL_ROWS)
}

/** Builds the model's input tensor for rows [a, a+m) of the dataset. */
export type ChunkInput = (ds: data.Dataset, a: number, m: number) => Tensor

interface Chunk {
  a: number
  m: number
}

function chunksOf(rows: number, chunkRows: number): Chunk[] {
  const out: Chunk[] = []
  for (let a = 0; a < rows; a += chunkRows) out.push({ a, m: Math.min(chunkRows, rows - a) })
  return out
}

/** Sums chunk results into the mean loss and accuracy over all rows. */
class Tally {
  private lossSum = 0
  private correct = 0
  private classified = true

  constructor(
    private readonly plan: LossPlan,
    private readonly ds: data.Dataset,
  ) {}

  /** One chunk: its mean loss and its outputs (read now; a CPU view may be reused later). */
  add({ a, m }: Chunk, loss: number, out: TypedArray): void {
    this.lossSum += loss * m
    const c = this.plan.correct(out, this.ds.y.subarray(a, a + m), m)
    if (c === null) this.classified = false
    else this.correct += c
  }

  result(rows: number): Measurement {
    return { loss: this.lossSum / rows, accuracy: this.classified ? this.correct / rows : null }
  }
}

/** What a measurement runs over: the model, its loss, and chunks of `chunkRows` rows (work-budget.ts). */
export interface MeasureSetup {
  model: nn.MLP
  plan: LossPlan
  chunkRows: number
  input: ChunkInput
}

/**
 * Mean loss and accuracy over the first `rows` rows, on a CPU model (values read in place), as
 * resumable work: it yields after every chunk. The caller must not change the weights meanwhile.
 */
export function* measure({ model, plan, chunkRows, input }: MeasureSetup, ds: data.Dataset, rows: number, read: (t: Tensor) => TypedArray): Work<Measurement> {
  const tally = new Tally(plan, ds)
  for (const chunk of chunksOf(rows, chunkRows)) {
    noGrad(() => {
      const out = model.forward(input(ds, chunk.a, chunk.m))
      tally.add(chunk, read(plan.loss(out, ds.y.subarray(chunk.a, chunk.a + chunk.m)))[0], read(out))
    })
    yield
  }
  return tally.result(rows)
}

/** measure() on a device model: every chunk's loss and outputs read back in one await. */
export async function measureOnDevice({ model, plan, chunkRows, input }: MeasureSetup, ds: data.Dataset, rows: number): Promise<Measurement> {
  const chunks = chunksOf(rows, chunkRows)
  const reads = noGrad(() =>
    chunks.flatMap(({ a, m }) => {
      const out = model.forward(input(ds, a, m))
      return [plan.loss(out, ds.y.subarray(a, a + m)).data(), out.data()]
    }),
  )
  const values = await Promise.all(reads)
  const tally = new Tally(plan, ds)
  chunks.forEach((chunk, i) => tally.add(chunk, values[2 * i][0], values[2 * i + 1]))
  return tally.result(rows)
}

/**
 * The evaluation point from the test and (capped) train measurements. Null when the loss is not
 * finite: the protocol carries finite numbers only, and the step-loss guard reports the problem.
 */
export function evalPoint(step: number, test: Measurement, train: Measurement): EvalPoint | null {
  if (!Number.isFinite(test.loss) || !Number.isFinite(train.loss)) return null
  return { step, trainLoss: train.loss, testLoss: test.loss, trainAccuracy: train.accuracy, testAccuracy: test.accuracy }
}
