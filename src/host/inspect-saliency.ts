// The saliency gallery: which test images the model gets most confidently wrong and least
// confidently right, and for each, where in the image the loss and the predicted class's logit
// are most sensitive. The input is a tensor that requires grad and backward() carries the
// gradient all the way to the pixels: one vector-Jacobian product per map (a seed of ones on the
// loss, a one-hot seed on the logits), never a Jacobian. Work is bounded by a budget of
// multiply-adds (a big model looks at fewer rows), on the model in eval mode whose
// weights need no gradient for the while, so the live model's weights and .grad are untouched.
import { noGrad, tensor, type Tensor, type TypedArray } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { SALIENCY_MAX_PIXELS } from '../shared/protocol-saliency'
import { dataLabel, type SplitData } from './data-source'
import { HostError } from './errors'
import { forwardCost, withinBudget } from './inspect-model'
import { asLossReads } from './inspect-network'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { LossPlan } from './setup'
import type { nn } from '../engine'

export type SaliencyResult = RequestResult<'session.saliency'>

/**
 * Multiply-adds one gallery may spend, about a frame's worth on the CPU backend (~1–2 G/s here):
 * the two backward passes (≈ 3 forwards each) over the chosen examples get GRADIENT_SHARE of it,
 * the forward pass that ranks test rows the rest.
 */
export const SALIENCY_BUDGET = 2e7
const GRADIENT_SHARE = 0.4
/** Test rows ranked at most. */
export const SALIENCY_MAX_ROWS = 512
/** Rows of one forward pass while ranking. */
const CHUNK = 128

const finite = (v: number): number => (Number.isFinite(v) ? Math.fround(v) : 0)

interface Ranked {
  row: number
  label: number
  predicted: number
  confidence: number
}

/** The class a row's outputs pick, and what the loss reads for it (softmax probability, or sigmoid of one logit). */
function readRow(out: TypedArray, probs: TypedArray, i: number, k: number): { predicted: number; confidence: number } {
  if (k === 1) {
    const p1 = probs[i]!
    return out[i]! > 0 ? { predicted: 1, confidence: p1 } : { predicted: 0, confidence: 1 - p1 }
  }
  let best = 0
  for (let j = 1; j < k; j++) if (out[i * k + j]! > out[i * k + best]!) best = j
  return { predicted: best, confidence: probs[i * k + best]! }
}

/** `rows` test rows spread evenly over the split, each with its prediction. */
function rank(model: nn.MLP, plan: LossPlan, test: SplitData['test'], rows: number[]): Ranked[] {
  const f = test.nFeatures
  const k = plan.outputSize
  const w = model.layers[0].weight
  const ranked: Ranked[] = []
  for (let a = 0; a < rows.length; a += CHUNK) {
    const part = rows.slice(a, a + CHUNK)
    const x = new Float32Array(part.length * f)
    part.forEach((r, i) => x.set(test.x.subarray(r * f, r * f + f), i * f))
    noGrad(() => {
      const out = model.forward(tensor(x, { shape: [part.length, f], dtype: w.dtype, backend: w.backend, allowNonFinite: true }))
      const o = view(out)
      const p = view(plan.name === 'softmaxCrossEntropy' ? asLossReads(out, plan.name) : out.sigmoid())
      part.forEach((row, i) => ranked.push({ row, label: test.y[row]!, ...readRow(o, p, i, k) }))
    })
  }
  return ranked
}

/** The most confident mistakes and the least confident correct answers, up to perKind of each. */
export function chooseExamples(ranked: readonly Ranked[], perKind: number): (Ranked & { kind: 'wrong' | 'right' })[] {
  const wrong = ranked.filter((r) => r.predicted !== r.label).sort((a, b) => b.confidence - a.confidence || a.row - b.row)
  const right = ranked.filter((r) => r.predicted === r.label).sort((a, b) => a.confidence - b.confidence || a.row - b.row)
  return [
    ...wrong.slice(0, perKind).map((r) => ({ ...r, kind: 'wrong' as const })),
    ...right.slice(0, perKind).map((r) => ({ ...r, kind: 'right' as const })),
  ]
}

/**
 * Per-example ∂loss/∂x and ∂logit[predicted]/∂x for the rows of `x` (model inputs, row-major).
 * The loss is the batch mean, so its gradient is scaled back by the row count: each row's map is
 * the gradient of that example's own loss (rows do not interact in eval mode).
 */
export function inputGradients(
  model: nn.MLP,
  plan: LossPlan,
  x: Float32Array | Float64Array,
  labels: Float32Array,
  predicted: readonly number[],
): { lossGrad: Float64Array; logitGrad: Float64Array } {
  const rows = labels.length
  const f = x.length / rows
  const k = plan.outputSize
  const w = model.layers[0].weight
  const input = (): Tensor => tensor(x, { shape: [rows, f], dtype: w.dtype, backend: w.backend, requiresGrad: true, allowNonFinite: true })

  const a = input()
  plan.loss(model.forward(a), labels).backward()
  const lossGrad = Float64Array.from(view(a.grad!), (v) => v * rows)

  // One logit per row (k = 1, a sigmoid output): class 0's logit is −z.
  const seed = new Float32Array(rows * k)
  predicted.forEach((c, i) => (k === 1 ? (seed[i] = c === 1 ? 1 : -1) : (seed[i * k + c] = 1)))
  const b = input()
  const out = model.forward(b)
  out
    .mul(tensor(seed, { shape: [rows, k], dtype: w.dtype, backend: w.backend }))
    .sum()
    .backward()
  const logitGrad = Float64Array.from(view(b.grad!))
  return { lossGrad, logitGrad }
}

/**
 * Run `fn` on the model with its weights needing no gradient, so backward() stops at the input and
 * leaves every parameter's .grad alone. The live model rests in eval mode between steps and is used
 * as it is, without a copy (a 16×1024 model's copy is 63 MB); the flags are restored before
 * anything else runs (the host is one thread). A model caught in train mode is copied in eval mode.
 */
export function withInputOnlyGrads<T>(live: nn.MLP, fn: (model: nn.MLP) => T): T {
  const model = live.training ? live.clone().train(false) : live
  const params = model.namedParameters().map(([, p]) => p)
  const flags = params.map((p) => p.requiresGrad)
  for (const p of params) p.requiresGrad = false
  try {
    return fn(model)
  } finally {
    params.forEach((p, i) => (p.requiresGrad = flags[i]!))
  }
}

function toBytes(values: ArrayLike<number>, lo: number, hi: number): string {
  const span = hi > lo ? hi - lo : 1
  const out = Uint8Array.from(values, (v) => (Number.isFinite(v) ? Math.round((Math.min(hi, Math.max(lo, v)) - lo) * (255 / span)) : 0))
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64')
}

export function saliencyOf(session: TrainingSession, perKind: number): SaliencyResult {
  const { trainer } = session
  const d = trainer.data
  const fail = (why: string): never => {
    throw new HostError('invalid_payload', `session.saliency: ${why}`)
  }
  if (!d.imageShape) fail(`"${dataLabel(session.spec.data)}" is not image data (IDX images, Digits, or a CSV marked H×W)`)
  const [height, width] = d.imageShape!
  if (height * width > SALIENCY_MAX_PIXELS) fail(`${height}×${width} images exceed the gallery's ${SALIENCY_MAX_PIXELS} pixels`)
  if (d.raw.task === 'regression') fail('saliency to a class needs a classification task')
  if (d.test.n === 0) fail('the session has no test rows (its testRatio leaves none)')

  return withInputOnlyGrads(trainer.model, (model) => gallery(session, model, perKind, [height, width]))
}

function gallery(session: TrainingSession, model: nn.MLP, perKind: number, [height, width]: [number, number]): SaliencyResult {
  const { trainer } = session
  const { data: d, plan } = trainer
  const cost = forwardCost(model)
  // Two backward passes over the examples cost about six forwards each; the rest ranks test rows.
  const examples = withinBudget(GRADIENT_SHARE * SALIENCY_BUDGET, 6 * cost, 2 * perKind, 2)
  const want = withinBudget((1 - GRADIENT_SHARE) * SALIENCY_BUDGET, cost, SALIENCY_MAX_ROWS, examples)
  const n = Math.min(want, d.test.n)
  const rows = Array.from({ length: n }, (_, j) => Math.floor((j * d.test.n) / n))
  const ranked = rank(model, plan, d.test, rows)
  const chosen = chooseExamples(ranked, Math.max(1, Math.floor(examples / 2)))

  const hw = height * width
  const f = d.test.nFeatures
  const x = new Float32Array(chosen.length * f)
  chosen.forEach((c, i) => x.set(d.test.x.subarray(c.row * f, c.row * f + f), i * f))
  const grads =
    chosen.length > 0
      ? inputGradients(
          model,
          plan,
          x,
          Float32Array.from(chosen, (c) => c.label),
          chosen.map((c) => c.predicted),
        )
      : { lossGrad: new Float64Array(0), logitGrad: new Float64Array(0) }

  // The raw (unstandardised) pixels, over one range for the whole gallery.
  const raws = chosen.map((c) => d.raw.x.subarray(d.testRows[c.row]! * hw, d.testRows[c.row]! * hw + hw))
  let lo = Infinity
  let hi = -Infinity
  for (const r of raws) for (const v of r) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)]
  const pixelRange: [number, number] = lo <= hi ? [lo, hi] : [0, 1]
  return {
    sessionId: session.id,
    step: trainer.stepCount,
    height,
    width,
    pixelRange,
    examined: n,
    wrong: ranked.filter((r) => r.predicted !== r.label).length,
    examples: chosen.map((c, i) => ({
      kind: c.kind,
      row: c.row,
      label: c.label,
      predicted: c.predicted,
      confidence: finite(c.confidence),
      pixels: toBytes(raws[i]!, pixelRange[0], pixelRange[1]),
      lossGrad: Array.from(grads.lossGrad.subarray(i * f, i * f + f), finite),
      logitGrad: Array.from(grads.logitGrad.subarray(i * f, i * f + f), finite),
    })),
  }
}
