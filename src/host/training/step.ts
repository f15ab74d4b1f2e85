// One training step, written once for every backend: the scheduled lr, forward and backward (in
// chunks for a big CPU batch, gradients.ts), the L1/L2 penalty, gradient clipping, the guards
// (NaN/Inf loss, a non-finite gradient, exploding and vanishing alarms), the layer statistics,
// and the update with its overflow check. It names what it reads (drive.ts): on the CPU the reads
// are answered at once, on a device awaited together, one read-back before the update and one
// after it (plus one more on the rare path that names a non-finite value).
import { optim, type nn, type Tensor, type TypedArray } from '../../engine'
import { layerStats, type LayerGradNorm, type LayerStats, type NormStats } from '../metrics'
import { normStats, normStatsReads } from '../norm-stats'
import { sumOfSquares } from '../scan'
import { EXPLODING_STREAK } from '../grad-history'
import { explodingCheck, layerOf, nameOf, vanishingAlarm, type TrainAlarm } from '../train-guards'
import { lossUnits } from '../target-scaling'
import type { Trainer } from '../trainer'
import { need, type Drive, type Read } from './drive'
import { gradients } from './gradients'
import { putBack } from './model-state'
import { addPenaltyGrads } from './penalty'

/**
 * ok: the update was applied (`alarm` set when it raised one that does not refuse the step);
 * not ok: the update was refused (NaN/Inf, or exploding gradients with alarms.pause), the weights
 * are as before the step, and training must pause.
 */
export type StepOutcome =
  | {
      ok: true
      loss: number
      stats: LayerStats[] | null
      norms: NormStats[] | null
      lr: number
      alarm: TrainAlarm | null
    }
  | { ok: false; alarm: TrainAlarm }

/**
 * One step of trainer `t`. A non-finite loss, a gradient the optimiser refuses, or an update that
 * overflows a weight leaves the weights as they were before this step and reports which step and
 * what; so does an exploding gradient when alarms pause (checked every step, before the update,
 * so it is seen before the weights overflow). `sampleStats` also measures each layer's outputs on
 * this batch for the dead/saturated fractions. Null when the step no longer counts: abandoned
 * before its update (abandonStep: reset, restore, import, batch-size change, at a slice point or
 * while a device read was awaited), or its weights replaced while the update was checked.
 */
export function* trainStep(t: Trainer, sampleStats: boolean): Drive<StepOutcome | null> {
  const d = t.driver
  const { params, names } = d.optimizer
  const n = t.stepCount + 1
  const rows = t.stepChunkRows
  const pieces = d.inPieces(t.spec.train.batchSize) ? t.chunkFlops : null
  const { batch, current, before } = t.beginStep(d.async || pieces !== null)
  const pass = yield* gradients(d, t.plan, batch, t.data.train.nFeatures, rows, pieces, sampleStats, current)
  if (pass === null) return null
  const { l1, l2, clipNorm, alarms } = t.spec.train
  // Read now: a live change made during a split step applies to it, and the stats report the rate used.
  const lr = t.nextLr
  d.optimizer.lr = lr
  if (t.optimizer !== d.optimizer) t.optimizer.lr = lr // a device session's mirror
  // Refused or applied, the step has its outcome: its batch (and dropout masks) count as drawn from
  // then on. A refused step leaves the running statistics as they were before it.
  const refuse = (what: string, value: number, parameter: string | null): StepOutcome => {
    t.endStep()
    putBack(before, { rng: false })
    return refusal(n, what, value, parameter)
  }
  const refuseLoss = (value: number): StepOutcome => {
    for (const p of params) p.grad = null
    return refuse(`the minibatch loss is ${value}`, value, null)
  }
  if (pass.refused !== null) return refuseLoss(pass.refused)
  addPenaltyGrads(d.model, l1, l2)
  if (clipNorm !== null) optim.clipGradNorm(params, clipNorm)
  // One request: each gradient's sum of squares and, when sampling, the weights and gradients the stats read.
  const reads: Read[] = []
  for (const p of params) if (p.grad) reads.push({ sumSq: p.grad })
  const nSq = reads.length
  const sampled = pass.outputs
    ? [...d.model.layers.flatMap((l) => (l.weight.grad ? [l.weight, l.weight.grad] : [l.weight])), ...normStatsReads(d.model, before)]
    : []
  for (const x of sampled) reads.push({ value: x })
  const values: unknown[] = yield* need(reads)
  if (!current()) return null
  // On a device the loss arrives with this read.
  if (pass.refused !== null) return refuseLoss(pass.refused)
  let k = 0
  const sq = params.map((p) => (p.grad ? (values[k++] as number) : 0))
  for (let i = 0; i < params.length; i++) {
    if (Number.isFinite(sq[i])) continue
    // A non-finite sum of squares: a non-finite gradient, or squares past the float range (float32
    // on a device), so only then are the values read and looked at.
    const [g] = yield* need([{ value: params[i].grad! }])
    if (!current()) return null
    const bad = firstNonFinite(g)
    if (bad !== null) return refuse(`gradient of ${names[i]} is ${bad}`, bad, names[i])
    sq[i] = sumOfSquares(g)
  }
  const norms = layerNorms(params, sq, d.model)
  const allNorms = [...norms, ...normLayerNorms(params, sq, d.model)]
  const alarm = exploding(t, n, allNorms)
  if (alarm && alarms.pause) {
    t.endStep()
    putBack(before, { rng: false })
    return { ok: false, alarm }
  }
  let stats: LayerStats[] | null = null
  let normRows: NormStats[] | null = null
  if (pass.outputs) {
    const read = new Map(sampled.map((s, i) => [s, values[nSq + i] as TypedArray]))
    stats = layerStats(d.model, lr, pass.outputs, (x) => read.get(x)!)
    normRows = normStats(d.model, lr, before, (x) => read.get(x)!)
  }
  // The update is applied from here on: an abandon no longer undoes the step, replaced weights still void it.
  t.endStep()
  const gen = t.generation
  d.snapshot()
  d.optimizer.step()
  d.updated()
  const finite = yield* need(params.map((p) => ({ finite: p })))
  if (gen !== t.generation) return null
  const over = finite.indexOf(false)
  if (over >= 0) {
    const [v] = yield* need([{ value: params[over] }])
    if (gen !== t.generation) return null
    const x = firstNonFinite(v) ?? NaN
    d.restore()
    return refuse(`the update made ${names[over]} ${x}`, x, names[over])
  }
  t.stepCount = n
  t.gradHistory.push(allNorms.map((x, i) => ({ name: nameOf(allNorms, i), norm: x.layer })))
  // The vanishing alarm compares the first and last Linear layers only: γ/β gradients are per-feature
  // sums over the batch, not a link in the chain of products that makes a gradient vanish with depth.
  // The loss as the user reads it: in the target's units when the target trains standardised.
  const loss = pass.loss * lossUnits(t.data.targetScaling)
  return { ok: true, loss, stats, norms: normRows, lr, alarm: alarm ?? vanishingAlarm(n, norms, alarms, t.monitor) }
}

/**
 * The exploding-gradient alarm for this step, judged against each layer's own history (over its
 * relative bar EXPLODING_STREAK steps in a row, or at once when far over it; over the absolute bar
 * at once while it has no history), once per episode: it fires when that holds, stays quiet while the gradients stay over
 * the bar, and re-arms on a calm step.
 */
function exploding(t: Trainer, n: number, norms: readonly LayerGradNorm[]): TrainAlarm | null {
  const h = t.gradHistory
  const hit = explodingCheck(n, norms, t.spec.train.alarms, (layer) => h.reference(layer))
  h.overStreak = hit?.relative ? h.overStreak + 1 : 0
  if (hit === null) {
    t.explodingArmed = true
    return null
  }
  const sudden = hit.over >= t.spec.train.alarms.explodingFactor
  if ((hit.relative && !sudden && h.overStreak < EXPLODING_STREAK) || !t.explodingArmed) return null
  t.explodingArmed = false
  return hit.alarm
}

/**
 * Each norm layer's gradient norms (γ as the weight, β as the bias), named norms.{i}: an exploding
 * γ or β overflows its parameters as surely as a weight does, so the exploding alarm watches them.
 */
function normLayerNorms(params: readonly Tensor[], sq: number[], model: nn.MLP): LayerGradNorm[] {
  const of = (p: Tensor) => (params.includes(p) ? sq[params.indexOf(p)] : 0)
  return model.norms.flatMap((n, i) => {
    if (!n) return []
    const [w, b] = [of(n.weight), of(n.bias)]
    return [{ layer: Math.sqrt(w + b), weight: Math.sqrt(w), bias: Math.sqrt(b), name: `norms.${i}` }]
  })
}

/** Each layer's gradient norms (the bias counts too) from its parameters' sums of squares. */
function layerNorms(params: readonly Tensor[], sq: number[], model: nn.MLP): LayerGradNorm[] {
  const of = (p: Tensor | null) => (p ? sq[params.indexOf(p)] : 0)
  return model.layers.map((l) => {
    const w = of(l.weight)
    const b = of(l.bias)
    return { layer: Math.sqrt(w + b), weight: Math.sqrt(w), bias: Math.sqrt(b) }
  })
}

function firstNonFinite(v: TypedArray): number | null {
  for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) return v[k]
  return null
}

/** A refused step: the update was not applied, training pauses, and the alarm says why. */
function refusal(step: number, what: string, value: number, parameter: string | null): StepOutcome {
  const message = `step ${step}: ${what}; training paused. Lower the learning rate or reset.`
  return {
    ok: false,
    alarm: { step, kind: Number.isNaN(value) ? 'nan' : 'inf', layer: parameter && layerOf(parameter), parameter, message },
  }
}
