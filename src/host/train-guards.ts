// What watches a run besides the loss: gradient alarms (exploding, vanishing, the first NaN/Inf)
// and stop conditions (max epochs/steps, a target loss, early stopping). Pure decisions over numbers
// the trainer and session hand in; their state lives in the trainer so checkpoints carry it.
import type { EventPayload } from '../shared/protocol'
import type { LayerGradNorm } from './metrics'
import type { SessionSpecOut } from './setup'

export type TrainAlarm = Omit<EventPayload<'train.alarm'>, 'sessionId' | 'paused'>
export type AlarmSpec = SessionSpecOut['train']['alarms']
export type StopSpec = SessionSpecOut['train']['stop']

/** Vanishing gradients must show on this many consecutive steps before the alarm fires. */
export const VANISHING_STREAK = 10

/** A number in the short scientific form messages use: 3.4e+04, 1e-07. */
export function sci(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  const [m, e] = x.toExponential(1).split('e')
  const exp = Number(e)
  return `${m.replace(/\.0$/, '')}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
}

/** The layer a parameter belongs to: 'layers.2.weight' → 'layers.2'. */
export function layerOf(parameter: string): string {
  return parameter.slice(0, parameter.lastIndexOf('.'))
}

/** Early stopping and vanishing-alarm progress: it decides future stops, so checkpoints save it. */
export interface MonitorState {
  /** The best monitored loss (test, or train without a test split), its step, evaluations since. */
  bestLoss: number | null
  bestStep: number
  sinceBest: number
  /** Consecutive steps that looked vanishing, and whether the alarm fired in this run. */
  vanishingStreak: number
  vanishingFired: boolean
}

export function freshMonitor(): MonitorState {
  return { bestLoss: null, bestStep: 0, sinceBest: 0, vanishingStreak: 0, vanishingFired: false }
}

const paused = (pause: boolean, advice: string): string => (pause ? `training paused. ${advice}` : 'training continues.')

/** A layer's usual gradient norm (grad-history.ts), or null while it has too little history. */
export type GradReference = (layer: string) => number | null

/**
 * The exploding-gradient alarm for this step's per-layer gradient norms (weight and bias
 * together; a norm layer's γ and β, named norms.{i}, after the Linear layers). A layer explodes when
 * its norm is more than explodingFactor times its usual norm (`reference`: its own history), or,
 * while it has no history to judge by (or none is given: an external run), above explodingGradNorm.
 * Names the layer that is furthest over its bar and the bigger of its two gradients; null when
 * none is over (or a norm is not finite: the NaN guard reports those).
 */
export function explodingAlarm(
  step: number,
  norms: readonly LayerGradNorm[],
  alarms: AlarmSpec,
  reference: GradReference = () => null,
): TrainAlarm | null {
  return explodingCheck(step, norms, alarms, reference)?.alarm ?? null
}

/**
 * explodingAlarm, whether the worst layer was judged against its history (relative) or the
 * absolute bar, and how far over its bar it is (norm / bar, above 1).
 */
export function explodingCheck(
  step: number,
  norms: readonly LayerGradNorm[],
  alarms: AlarmSpec,
  reference: GradReference,
): { alarm: TrainAlarm; relative: boolean; over: number } | null {
  if (!norms.every((n) => Number.isFinite(n.layer))) return null
  let worst: { i: number; over: number; usual: number | null } | null = null
  for (let i = 0; i < norms.length; i++) {
    const usual = reference(nameOf(norms, i))
    const bar = usual === null ? alarms.explodingGradNorm : alarms.explodingFactor * usual
    const over = norms[i].layer / bar
    if (over > 1 && (worst === null || over > worst.over)) worst = { i, over, usual }
  }
  if (worst === null) return null
  const n = norms[worst.i]
  const layer = nameOf(norms, worst.i)
  const why =
    worst.usual === null
      ? `exceeds ${sci(alarms.explodingGradNorm)}`
      : `is ${sci(n.layer / worst.usual)} times its usual ${sci(worst.usual)}`
  const message = `step ${step}: exploding gradients — ${layer} gradient norm ${sci(n.layer)} ${why}; ${paused(alarms.pause, 'Lower the learning rate or enable gradient clipping.')}`
  return {
    alarm: { step, kind: 'exploding', layer, parameter: `${layer}.${n.weight >= n.bias ? 'weight' : 'bias'}`, message },
    relative: worst.usual !== null,
    over: worst.over,
  }
}

/** The name of norms[i]: its own, or the Linear layer at that position. */
export const nameOf = (norms: readonly LayerGradNorm[], i: number): string => norms[i].name ?? `layers.${i}`

/**
 * One vanishing-gradient check: the first layer's gradient norm below the threshold while the
 * output layer's is above it. Fires once per run, after VANISHING_STREAK such steps in a row, so
 * a run that converges (every gradient small) does not trip it.
 */
export function vanishingAlarm(step: number, norms: readonly LayerGradNorm[], alarms: AlarmSpec, m: MonitorState): TrainAlarm | null {
  if (norms.length < 2 || m.vanishingFired) return null
  const first = norms[0].layer
  const last = norms[norms.length - 1].layer
  const low = alarms.vanishingGradNorm
  m.vanishingStreak = first < low && last > low ? m.vanishingStreak + 1 : 0
  if (m.vanishingStreak < VANISHING_STREAK) return null
  m.vanishingFired = true
  const out = `layers.${norms.length - 1}`
  const message = `step ${step}: vanishing gradients — layers.0 gradient norm ${sci(first)} is below ${sci(low)} while ${out} has ${sci(last)} (${VANISHING_STREAK} steps in a row); ${paused(alarms.pause, 'Try relu or leakyRelu, a he init, or fewer layers.')}`
  return { step, kind: 'vanishing', layer: 'layers.0', parameter: null, message }
}

/** maxSteps/maxEpochs: the stop message when the run has reached one, checked before each step. */
export function countStop(stop: StopSpec, step: number, epoch: number): string | null {
  if (stop.maxSteps !== null && step >= stop.maxSteps) return `stopped: reached ${stop.maxSteps} steps (maxSteps)`
  if (stop.maxEpochs !== null && epoch >= stop.maxEpochs) return `stopped: reached ${stop.maxEpochs} epochs (maxEpochs) at step ${step}`
  return null
}

/**
 * targetLoss and early stopping at an evaluation of the monitored loss (`which` says whether it is
 * the test or the train loss). Improvement means beating the best by more than minDelta. Early
 * stopping restarts its patience when it fires, so continuing gives the run `patience` more
 * evaluations to improve.
 */
export function evalStop(stop: StopSpec, m: MonitorState, loss: number, step: number, which: 'test' | 'train'): string | null {
  const es = stop.earlyStopping
  if (m.bestLoss === null || loss < m.bestLoss - (es?.minDelta ?? 0)) {
    m.bestLoss = loss
    m.bestStep = step
    m.sinceBest = 0
  } else {
    m.sinceBest++
  }
  if (stop.targetLoss !== null && loss <= stop.targetLoss)
    return `stopped: ${which} loss ${loss.toFixed(4)} reached the target ${stop.targetLoss} at step ${step}`
  if (es && m.sinceBest >= es.patience) {
    m.sinceBest = 0
    return `stopped: early stopping — ${which} loss has not improved for ${es.patience} evaluations (best ${m.bestLoss.toFixed(4)} at step ${m.bestStep})`
  }
  return null
}
