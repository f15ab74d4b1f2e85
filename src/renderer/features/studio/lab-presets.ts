// The gradient-flow lab's presets: whole session specs that tell one story each in a click (deep
// sigmoid: vanishing gradients, then the BatchNorm and residual cures; dead ReLUs at a high learning
// rate, then LayerNorm; overfitting a small noisy set, then dropout). A preset is a full spec run
// through formFromSpec, so whatever it does not name is the default. Each story's variants share
// data, seeds and a step budget, so their runs compare step for step.
import type { BlockOptions } from '../../../shared/model-blocks'
import type { CreatePayload } from '../../stores/session-form'

export interface LabPreset {
  /** Stable id: `lab-preset-<id>` is its test id. */
  id: string
  label: string
  /** One sentence: what to watch for once it runs. */
  caption: string
  spec: CreatePayload
}

export interface LabStory {
  id: string
  title: string
  presets: LabPreset[]
}

const block = (over: Partial<BlockOptions> = {}): BlockOptions => ({ norm: 'none', normAt: 'mid', dropout: 0, residual: false, ...over })
const every = (n: number, b: (i: number) => BlockOptions): BlockOptions[] => Array.from({ length: n }, (_, i) => b(i))

/**
 * The steps each deep-sigmoid variant runs. Without norms the vanishing alarm fires within the first
 * dozen steps and the loss sits at ln 2 throughout; with BatchNorm it is far lower by then.
 */
export const DEEP_STEPS = 100
const DEEP_LAYERS = 12

/**
 * 12 hidden layers of 16 sigmoid units on the moons, Adam at 0.01 (the host's deep-sigmoid test
 * uses the spiral, which none of the variants learns in so few steps). Alarms do not pause, so
 * every variant runs its whole step budget.
 */
function deepSigmoid(blocks: BlockOptions[]): CreatePayload {
  return {
    model: { hidden: Array<number>(DEEP_LAYERS).fill(16), activation: 'sigmoid', blocks },
    data: { generator: 'moons', n: 200, noise: 0.1, seed: 1 },
    optimizer: { type: 'adam', lr: 0.01 },
    train: {
      batchSize: 64,
      seed: 1,
      evalEvery: 20,
      stop: { maxEpochs: null, maxSteps: DEEP_STEPS, targetLoss: null, earlyStopping: null },
      alarms: { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: false },
    },
  }
}

/**
 * Six ReLU layers of 32 on the moons with Adam at 0.1: big early updates push units below zero for
 * good (about two thirds dead by step 200). LayerNorm after each activation keeps the next layer's
 * inputs at one scale: few dead units (the loss at this lr is noisy either way).
 */
function reluHighLr(blocks: BlockOptions[]): CreatePayload {
  return {
    model: { hidden: Array<number>(6).fill(32), activation: 'relu', blocks },
    data: { generator: 'moons', n: 400, noise: 0.1, seed: 3 },
    optimizer: { type: 'adam', lr: 0.1 },
    train: { batchSize: 32, seed: 3, evalEvery: 20, stop: { maxEpochs: null, maxSteps: 200, targetLoss: null, earlyStopping: null } },
  }
}

/**
 * Sixty noisy points, a third held out, and a wide ReLU net with far more weights than points: by
 * step 600 the train loss is near 0 and the test loss above 5; with dropout the test loss ends
 * about half as high (noisily: dropout's test curve jumps).
 */
function smallNoisy(blocks: BlockOptions[]): CreatePayload {
  return {
    model: { hidden: [256, 256], activation: 'relu', blocks },
    data: { generator: 'moons', n: 60, noise: 0.5, testRatio: 0.35, seed: 7 },
    optimizer: { type: 'adam', lr: 0.01 },
    train: { batchSize: 16, seed: 7, evalEvery: 20, stop: { maxEpochs: null, maxSteps: 600, targetLoss: null, earlyStopping: null } },
  }
}

export const LAB_STORIES: readonly LabStory[] = [
  {
    id: 'deep-sigmoid',
    title: 'Deep sigmoid: vanishing gradients',
    presets: [
      {
        id: 'deep-sigmoid',
        label: 'Deep sigmoid: vanishing gradients',
        caption: `Twelve sigmoid layers shrink the gradient at every layer: the vanishing-gradient alarm names layers.0 within a few steps, and after ${DEEP_STEPS} the loss is still at chance.`,
        spec: deepSigmoid(every(DEEP_LAYERS, () => block())),
      },
      {
        id: 'deep-sigmoid-bn',
        label: '… with BatchNorm',
        caption: `BatchNorm before every sigmoid keeps its inputs centred where its slope is largest: no alarm, and a lower loss after the same ${DEEP_STEPS} steps.`,
        spec: deepSigmoid(every(DEEP_LAYERS, () => block({ norm: 'batch' }))),
      },
      {
        id: 'deep-sigmoid-res-bn',
        label: '… with residual + BatchNorm',
        caption:
          'Skip connections (layers 2–12; layer 1 changes the width) give the gradient a path around every sigmoid: after a rough start the loss falls furthest, with the gradient heatmap even from first layer to last.',
        spec: deepSigmoid(every(DEEP_LAYERS, (i) => block({ norm: 'batch', residual: i > 0 }))),
      },
    ],
  },
  {
    id: 'dead-relu',
    title: 'Dead ReLUs at a high learning rate',
    presets: [
      {
        id: 'dead-relu',
        label: 'Dead ReLUs at a high learning rate',
        caption:
          'At lr 0.1 the first big updates push ReLU units below zero for every input: watch the dead fraction in the health strip climb to about two thirds while the loss jumps about.',
        spec: reluHighLr(every(6, () => block())),
      },
      {
        id: 'dead-relu-ln',
        label: '… with LayerNorm',
        caption:
          'LayerNorm after each ReLU hands the next layer inputs at one scale, so the same lr no longer throws units off the edge: a fraction of the dead units (the loss still jumps about at this lr, lower or higher depending on the seed).',
        spec: reluHighLr(every(6, () => block({ norm: 'layer', normAt: 'post' }))),
      },
    ],
  },
  {
    id: 'overfit',
    title: 'Dropout vs overfitting',
    presets: [
      {
        id: 'overfit',
        label: 'Overfitting a small noisy set',
        caption:
          'Two layers of 256 on about forty noisy training points: the train loss heads for zero while the test loss turns after a few dozen steps and climbs.',
        spec: smallNoisy(every(2, () => block())),
      },
      {
        id: 'overfit-dropout',
        label: '… with dropout 0.3',
        caption:
          'Dropout 0.3 on both layers stops units relying on each other: the train loss falls more slowly and the test loss, though jumpy, ends about half as high.',
        spec: smallNoisy(every(2, () => block({ dropout: 0.3 }))),
      },
    ],
  },
]

/** Every preset, in the order shown. */
export const LAB_PRESETS: readonly LabPreset[] = LAB_STORIES.flatMap((s) => s.presets)
