// The training form as the user edits it, and how it becomes a protocol SessionSpec. Pure
// functions, so the rules (what needs a new session, what changes live) are testable alone.
import {
  SessionSpec,
  describeIssues,
  type ACTIVATION_NAMES,
  type GENERATOR_NAMES,
  type RequestPayload,
} from '../../shared/protocol'

export type OptimizerType = 'sgd' | 'adam' | 'adamw' | 'rmsprop'
export const OPTIMIZER_TYPES: readonly OptimizerType[] = ['sgd', 'adam', 'adamw', 'rmsprop']

export interface SessionForm {
  data: {
    generator: (typeof GENERATOR_NAMES)[number]
    n: number
    noise: number
    seed: number
    testRatio: number
  }
  hidden: number[]
  activation: (typeof ACTIVATION_NAMES)[number]
  optimizer: { type: OptimizerType; lr: number }
  batchSize: number
}

export type CreatePayload = RequestPayload<'session.create'>

export function defaultForm(): SessionForm {
  return {
    data: { generator: 'spiral', n: 500, noise: 0.1, seed: 1, testRatio: 0.3 },
    hidden: [8, 8],
    activation: 'tanh',
    optimizer: { type: 'adam', lr: 0.01 },
    batchSize: 32,
  }
}

export function buildSpec(form: SessionForm): CreatePayload {
  return {
    model: { hidden: [...form.hidden], activation: form.activation },
    data: { ...form.data },
    optimizer: { type: form.optimizer.type, lr: form.optimizer.lr },
    train: { batchSize: form.batchSize, evalEvery: 50, seed: form.data.seed },
    backend: 'auto',
  }
}

/** Everything that needs a new session when it changes (lr and batch size change live). */
export function structuralKey(form: SessionForm): string {
  return JSON.stringify({ model: { hidden: form.hidden, activation: form.activation }, data: form.data, optimizer: form.optimizer.type })
}

/** A user-facing description of what is wrong with the form, or null when it is valid. */
export function validateForm(form: SessionForm): string | null {
  const parsed = SessionSpec.safeParse(buildSpec(form))
  return parsed.success ? null : describeIssues(parsed.error)
}

/** The form that builds `spec` (a session opened from a run), so it is not seen as edited. */
export function formFromSpec(spec: CreatePayload): SessionForm {
  const { generator, n = 500, noise = 0, seed = 0, testRatio = 0.3 } = spec.data
  return {
    data: { generator, n, noise, seed, testRatio },
    hidden: [...spec.model.hidden],
    activation: spec.model.activation ?? 'tanh',
    optimizer: { type: spec.optimizer.type, lr: spec.optimizer.lr },
    batchSize: spec.train?.batchSize ?? 32,
  }
}
