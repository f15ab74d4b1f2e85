// Turning a validated spec into engine objects: the dataset and its split, the loss that fits the
// task, and the optimiser. Spec problems the schema cannot see (a loss that does not fit the data,
// a class count the generator does not take) become 'invalid_payload' errors that name the mismatch.
import { blockProblems, blocksOf, isPlain } from '../shared/model-blocks'
import {
  bceWithLogits,
  data,
  hingeLoss,
  huberLoss,
  mseLoss,
  nn,
  optim,
  Rng,
  softmaxCrossEntropy,
  type Backend,
  type Tensor,
  type TypedArray,
} from '../engine'
import type { ParsedPayload } from '../shared/protocol'
import { lossMismatch, outputWidth, resolveLoss, type LossName } from '../shared/model-rules'
import { HostError } from './errors'

export type SessionSpecOut = ParsedPayload<'session.create'>
export type DataSpecOut = SessionSpecOut['data']
export type { SplitData } from './data-source'
export type OptimizerSpecOut = SessionSpecOut['optimizer']
export type OptimizerPatch = NonNullable<ParsedPayload<'session.update'>['optimizer']>
export type Task = data.Task
export type { LossName } from '../shared/model-rules'

/** A loss bound to the task: output width, the loss on a batch, and how to count correct rows. */
export interface LossPlan {
  name: LossName
  outputSize: number
  loss(out: Tensor, y: Float32Array): Tensor
  /** Correct predictions among n rows of outputs; null for regression. */
  correct(out: TypedArray, y: Float32Array, n: number): number | null
}

function argmaxCorrect(k: number) {
  return (out: TypedArray, y: Float32Array, n: number): number => {
    let c = 0
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let j = 1; j < k; j++) if (out[i * k + j] > out[i * k + best]) best = j
      if (best === y[i]) c++
    }
    return c
  }
}

/** One logit per row: class 1 when it is positive. */
function signCorrect(out: TypedArray, y: Float32Array, n: number): number {
  let c = 0
  for (let i = 0; i < n; i++) if ((out[i] > 0 ? 1 : 0) === y[i]) c++
  return c
}

/**
 * The loss a spec trains with, bound to the task (which loss fits and the output width are the
 * shared rules in shared/model-rules.ts; the engine functions are bound here). `source` names the
 * data in errors (a dataset's description or name; not every source is a generator).
 */
export function planLoss(loss: SessionSpecOut['model']['loss'], task: Task, nClasses: number, source: string): LossPlan {
  const name = resolveLoss(loss, task)
  const mismatch = lossMismatch(name, task)
  if (mismatch) throw new HostError('invalid_payload', `model.loss: ${name} ${mismatch}, but "${source}" is a ${task} dataset`)
  const outputSize = outputWidth(name, nClasses)
  switch (name) {
    case 'softmaxCrossEntropy':
      return { name, outputSize, loss: (out, y) => softmaxCrossEntropy(out, y), correct: argmaxCorrect(nClasses) }
    case 'mse':
      return { name, outputSize, loss: (out, y) => mseLoss(out, y), correct: () => null }
    case 'huber':
      return { name, outputSize, loss: (out, y) => huberLoss(out, y), correct: () => null }
    case 'bceWithLogits':
      return { name, outputSize, loss: (out, y) => bceWithLogits(out, y), correct: signCorrect }
    case 'hinge':
      // Hinge wants labels in {-1, +1}; the datasets store classes 0 and 1.
      return {
        name,
        outputSize,
        loss: (out, y) =>
          hingeLoss(
            out,
            y.map((v) => 2 * v - 1),
          ),
        correct: signCorrect,
      }
  }
}

/** Each hidden layer's activation (`activations` overrides `activation` per layer); the output is linear. */
export function hiddenActivations(model: SessionSpecOut['model']): nn.Activation[] {
  return model.activations ? [...model.activations] : model.hidden.map(() => model.activation)
}

/**
 * Refuse blocks that cannot work for this network and batch size (shared/model-blocks.ts says why,
 * in the words the studio shows at its controls): a residual across widths, BatchNorm on batches of
 * one. `sizes`: inputs, hidden widths, outputs. `batchSize` is what a batch can hold: the spec's,
 * or fewer when the training split is smaller.
 */
export function checkBlocks(sizes: readonly number[], spec: SessionSpecOut['model'], batchSize: number): void {
  if (!spec.blocks) return
  const problems = blockProblems(sizes, blocksOf(sizes.length - 2, spec.blocks), batchSize)
  if (problems.length > 0) throw new HostError('invalid_payload', problems.map((p) => `model.${p.path.join('.')}: ${p.message}`).join('; '))
}

/** The dropout masks' generator draws from its own stream of the train seed, apart from the weights' and the batches'. */
const DROPOUT_STREAM = 0x2545f491
export const dropoutSeed = (seed: number): number => (seed ^ DROPOUT_STREAM) >>> 0

/**
 * The session's model, on `backend` (the session's own: never the engine's default), with its
 * blocks. It rests in eval mode: evaluations, inspections and exports run it as it is (BatchNorm on
 * its running statistics, no dropout), and only the training step switches it to train mode.
 */
export function buildModel(
  nInputs: number,
  spec: SessionSpecOut,
  outputSize: number,
  backend: Backend,
  trainRows = Infinity,
  init: nn.Initializer = spec.model.init,
): nn.MLP {
  const sizes = [nInputs, ...spec.model.hidden, outputSize]
  checkBlocks(sizes, spec.model, Math.min(spec.train.batchSize, trainRows))
  const blocks = spec.model.blocks?.some((b) => !isPlain(b)) ? spec.model.blocks.map((b) => ({ ...b })) : undefined
  return new nn.MLP(sizes, {
    backend,
    activation: [...hiddenActivations(spec.model), 'linear'],
    outputActivation: 'linear',
    init,
    seed: spec.train.seed,
    blocks,
    dropoutRng: new Rng(dropoutSeed(spec.train.seed)),
  }).eval()
}

export const hasBatchNorm = (model: nn.MLP): boolean => model.norms.some((n) => n instanceof nn.BatchNorm1d)

/**
 * Whether a training step must run as one piece, never split into chunks of rows: BatchNorm's
 * statistics are the whole batch's, and dropout draws each layer's mask over the whole batch (a
 * split step would draw them chunk by chunk, in another order than a device or an unsplit step).
 */
export const stepsWhole = (model: nn.MLP): boolean => hasBatchNorm(model) || model.dropoutRng !== null

export type AnyOptimizer = optim.SGD | optim.Adam | optim.AdamW | optim.RMSprop

/**
 * The session's optimiser. Its own per-step NaN/Inf gradient check is off: the trainer already
 * sums every gradient's squares each step (for the alarms), and a non-finite sum is that check.
 */
export function buildOptimizer(spec: OptimizerSpecOut, params: [string, Tensor][]): AnyOptimizer {
  const checkFinite = false
  switch (spec.type) {
    case 'sgd':
      return new optim.SGD(params, {
        lr: spec.lr,
        momentum: spec.momentum,
        nesterov: spec.nesterov,
        weightDecay: spec.weightDecay,
        checkFinite,
      })
    case 'adam':
      return new optim.Adam(params, {
        lr: spec.lr,
        beta1: spec.beta1,
        beta2: spec.beta2,
        eps: spec.eps,
        weightDecay: spec.weightDecay,
        checkFinite,
      })
    case 'adamw':
      return new optim.AdamW(params, {
        lr: spec.lr,
        beta1: spec.beta1,
        beta2: spec.beta2,
        eps: spec.eps,
        weightDecay: spec.weightDecay,
        checkFinite,
      })
    case 'rmsprop':
      return new optim.RMSprop(params, {
        lr: spec.lr,
        alpha: spec.alpha,
        eps: spec.eps,
        momentum: spec.momentum,
        weightDecay: spec.weightDecay,
        checkFinite,
      })
  }
}

/** Which live settings each optimiser has; anything else in a patch is refused. */
export const OPTIMIZER_KEYS: Record<OptimizerSpecOut['type'], readonly (keyof OptimizerPatch)[]> = {
  sgd: ['lr', 'momentum', 'nesterov', 'weightDecay'],
  adam: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  adamw: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  rmsprop: ['lr', 'alpha', 'eps', 'momentum', 'weightDecay'],
}

/** The spec with the patch applied, or an 'invalid_payload' error naming the key that does not fit. */
export function patchOptimizerSpec(spec: OptimizerSpecOut, patch: OptimizerPatch): OptimizerSpecOut {
  const allowed = OPTIMIZER_KEYS[spec.type]
  const defined = (Object.keys(patch) as (keyof OptimizerPatch)[]).filter((k) => patch[k] !== undefined)
  const bad = defined.filter((k) => !allowed.includes(k))
  if (bad.length > 0) {
    throw new HostError(
      'invalid_payload',
      `session.update: ${bad.join(', ')} ${bad.length > 1 ? 'do' : 'does'} not apply to ${spec.type} (its live settings: ${allowed.join(', ')})`,
    )
  }
  const next = { ...spec }
  for (const k of defined) (next as Record<string, unknown>)[k] = patch[k]
  return next
}
