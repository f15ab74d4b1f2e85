// Validation problems as people read them: "Learning rate is 50; it must be at most 10" rather
// than the schema's "optimizer.lr: Too big: expected number to be <=10". The renderer words its
// form problems with it; the protocol's own messages (for developers and logs) stay as they are.
import type { z } from 'zod'

type Issue = z.core.$ZodIssue
type Path = readonly PropertyKey[]

/** The settings' names as the studio's controls label them. */
const NAMES: Record<string, string> = {
  lr: 'Learning rate',
  momentum: 'Momentum',
  weightDecay: 'Weight decay',
  beta1: 'β₁',
  beta2: 'β₂',
  eps: 'ε',
  alpha: 'RMSprop α',
  batchSize: 'Batch size',
  evalEvery: 'Evaluate every (steps)',
  seed: 'Seed',
  l1: 'L1 strength',
  l2: 'L2 strength',
  clipNorm: 'Gradient clipping threshold',
  maxStepsPerSecond: 'Speed limit (steps/s)',
  warmupSteps: 'Warm-up steps',
  stepSize: 'Step size (steps)',
  gamma: 'Decay factor γ',
  periodSteps: 'Cosine period (steps)',
  minLr: 'Minimum learning rate',
  maxEpochs: 'Stop after (epochs)',
  maxSteps: 'Stop after (steps)',
  targetLoss: 'Target loss',
  patience: 'Early-stopping patience',
  minDelta: 'Early-stopping minimum improvement',
  explodingGradNorm: 'Exploding-gradient threshold (first steps)',
  explodingFactor: 'Exploding-gradient factor (× the layer’s usual norm)',
  vanishingGradNorm: 'Vanishing-gradient threshold',
  hidden: 'Hidden layers',
  activations: 'Activations',
  n: 'Number of points',
  noise: 'Noise',
  testRatio: 'Test split',
  classes: 'Number of classes',
  features: 'Input features',
  limit: 'Rows to load',
  dropout: 'Dropout p',
  fileId: 'CSV file',
  imagesFileId: 'IDX images file',
  labelsFileId: 'IDX labels file',
  target: 'Target column',
}

/** `optimizer.lr` → "Learning rate"; `model.hidden[2]` → "Hidden layer 3's width". */
export function fieldName(path: Path): string {
  const keys = path.map(String)
  const last = path.at(-1)
  if (typeof last === 'number') {
    const parent = keys.at(-2)
    if (parent === 'hidden') return `Hidden layer ${last + 1}'s width`
    if (parent === 'activations') return `Hidden layer ${last + 1}'s activation`
    return `${fieldName(path.slice(0, -1))}, item ${last + 1}`
  }
  const i = keys.findIndex((k, j) => j > 0 && /^\d+$/.test(k) && keys[j - 1] === 'blocks')
  const layer = i >= 0 ? `Hidden layer ${Number(keys[i]) + 1}: ` : ''
  const key = keys.at(-1) ?? ''
  const name = NAMES[key] ?? (key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() || 'The settings')
  return layer + (layer ? name.charAt(0).toLowerCase() + name.slice(1) : name.charAt(0).toUpperCase() + name.slice(1))
}

/** `model.blocks[0].residual` → its path, then its name (for messages keyed by path strings). */
export function fieldNameOfPath(path: string): string {
  return fieldName(path.split(/\.|(?=\[)/).map((k) => (/^\[\d+\]$/.test(k) ? Number(k.slice(1, -1)) : k)))
}

const fmt = (v: unknown): string => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : JSON.stringify(v))

/** What the value must be, after "it must…": "be at most 10", "be a whole number". */
export function requirement(issue: Issue): string {
  switch (issue.code) {
    case 'too_big': {
      const max = fmt(issue.maximum)
      if (issue.origin === 'array' || issue.origin === 'set') return `have at most ${max} items`
      if (issue.origin === 'string') return `be at most ${max} characters long`
      return issue.inclusive ? `be at most ${max}` : `be below ${max}`
    }
    case 'too_small': {
      const min = fmt(issue.minimum)
      if (issue.origin === 'array' || issue.origin === 'set')
        return issue.minimum === 1 ? 'have at least one item' : `have at least ${min} items`
      if (issue.origin === 'string') return issue.minimum === 1 ? 'not be empty' : `be at least ${min} characters long`
      return issue.inclusive ? `be at least ${min}` : `be greater than ${min}`
    }
    case 'invalid_type':
      if (issue.expected === 'int') return 'be a whole number'
      if (issue.expected === 'number') return 'be a number'
      return `be a ${issue.expected}`
    case 'invalid_value':
      return issue.values.length === 1 ? `be ${fmt(issue.values[0])}` : `be one of ${issue.values.map(fmt).join(', ')}`
    case 'not_multiple_of':
      return `be a multiple of ${fmt(issue.divisor)}`
    default:
      return ''
  }
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

/** The problem for a message beside its field: "must be at most 10 (it is 50)". */
export function issueForField(issue: Issue, input?: unknown): string {
  const need = requirement(issue)
  if (!need) return issue.message
  const value = input === undefined ? undefined : valueAt(input, issue.path)
  const shown = typeof value === 'number' && Number.isFinite(value) ? ` (it is ${value})` : ''
  return `must ${need}${shown}`
}

/** The problem on its own, naming the field: "Learning rate must be at most 10 (it is 50)". */
export function issueSentence(issue: Issue, input?: unknown): string {
  return `${fieldName(issue.path)} ${issueForField(issue, input)}`
}
