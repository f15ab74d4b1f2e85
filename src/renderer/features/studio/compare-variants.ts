// Compare live's variants: the current configuration with one setting changed per variant (norm,
// residual, both, initialiser, activation, optimiser, learning rate), everything else (data, seeds,
// step budget) shared so their curves compare step for step. Pure: each variant spec is checked
// with the rules the host applies (the protocol schema, shared/model-blocks.ts's blockProblems)
// before anything starts, and an impossible one is refused with the reason.
import { ACTIVATION_NAMES, INIT_NAMES, SessionSpec, describeIssues } from '../../../shared/protocol'
import { NORM_LABELS, blockProblems, blocksOf, type BlockOptions, type NormName } from '../../../shared/model-blocks'
import { OPTIMIZER_LABELS, type OptimizerType } from '../../../shared/model-rules'
import type { CreatePayload } from '../../stores/session-form'

export const COMPARE_SETTINGS = ['blocks', 'norm', 'residual', 'init', 'activation', 'optimizer', 'lr'] as const
export type CompareSetting = (typeof COMPARE_SETTINGS)[number]
export const MIN_VARIANTS = 2
export const MAX_VARIANTS = 4

export const SETTING_LABELS: Record<CompareSetting, string> = {
  blocks: 'norm + residual',
  norm: 'norm',
  residual: 'residual',
  init: 'initialiser',
  activation: 'activation',
  optimizer: 'optimiser',
  lr: 'learning rate',
}

const normWord = (n: NormName): string => (n === 'none' ? 'no norm' : NORM_LABELS[n].label)
const BLOCK_VALUES = ['none', 'batch', 'residual+batch', 'layer', 'residual', 'residual+layer'] as const

/** The values a setting offers, with their labels; null for a free number (the learning rate). */
export function settingChoices(setting: CompareSetting): { value: string; label: string }[] | null {
  switch (setting) {
    case 'blocks':
      return BLOCK_VALUES.map((value) => ({ value, label: variantLabel('blocks', value) }))
    case 'norm':
      return (['none', 'batch', 'layer'] as const).map((value) => ({ value, label: normWord(value) }))
    case 'residual':
      return ['off', 'on'].map((value) => ({ value, label: variantLabel('residual', value) }))
    case 'init':
      return INIT_NAMES.map((value) => ({ value, label: value }))
    case 'activation':
      return ACTIVATION_NAMES.map((value) => ({ value, label: value }))
    case 'optimizer':
      return (Object.keys(OPTIMIZER_LABELS) as OptimizerType[]).map((value) => ({ value, label: OPTIMIZER_LABELS[value] }))
    case 'lr':
      return null
  }
}

/** How a variant is named in legends, badges and its saved run ("residual + BatchNorm", "lr 0.1"). */
export function variantLabel(setting: CompareSetting, value: string): string {
  if (setting === 'blocks') {
    const [residual, norm] = value.startsWith('residual') ? [true, value.split('+')[1] ?? 'none'] : [false, value]
    if (!residual) return normWord(norm as NormName)
    return norm === 'none' ? 'residual' : `residual + ${normWord(norm as NormName)}`
  }
  if (setting === 'norm') return normWord(value as NormName)
  if (setting === 'residual') return value === 'on' ? 'residual' : 'no residual'
  if (setting === 'optimizer') return OPTIMIZER_LABELS[value as OptimizerType] ?? value
  if (setting === 'lr') return `lr ${value}`
  return value
}

/** The spec's blocks, one per hidden layer (blocksOf fills in what a partial block leaves out). */
const baseBlocks = (base: CreatePayload): BlockOptions[] =>
  blocksOf(base.model.hidden.length, base.model.blocks as readonly BlockOptions[] | undefined)

/** Hidden layer i can take a residual connection when its input is as wide as its output. */
function residualFits(hidden: readonly number[], inputs: number | null, i: number): boolean {
  return (i === 0 ? inputs : hidden[i - 1]) === hidden[i]
}

/** The configuration's own value of a setting (what a variant list starts with). */
export function currentValue(base: CreatePayload, setting: CompareSetting): string {
  const blocks = baseBlocks(base)
  const norm = blocks[0]?.norm ?? 'none'
  const residual = blocks.some((b) => b.residual)
  switch (setting) {
    case 'blocks':
      return residual ? (norm === 'none' ? 'residual' : `residual+${norm}`) : norm
    case 'norm':
      return norm
    case 'residual':
      return residual ? 'on' : 'off'
    case 'init':
      return base.model.init ?? 'xavier-uniform'
    case 'activation':
      return base.model.activations?.[0] ?? base.model.activation ?? 'tanh'
    case 'optimizer':
      return base.optimizer.type
    case 'lr':
      return String(base.optimizer.lr)
  }
}

/** A sensible first list: the current value, then the usual alternatives (for a plain deep net: none, BatchNorm, residual + BatchNorm). */
export function defaultValues(base: CreatePayload, setting: CompareSetting): string[] {
  const current = currentValue(base, setting)
  if (setting === 'lr') {
    const lr = base.optimizer.lr
    return [current, String(+(lr / 10).toPrecision(3)), String(+(lr * 10).toPrecision(3))].filter((v) => Number(v) <= 10)
  }
  const preferred: Partial<Record<CompareSetting, readonly string[]>> = {
    init: ['xavier-uniform', 'he-normal', 'pytorch'],
    activation: ['relu', 'tanh', 'sigmoid'],
    optimizer: ['sgd', 'adam'],
  }
  const others = preferred[setting] ?? settingChoices(setting)!.map((c) => c.value)
  const count = setting === 'residual' || setting === 'optimizer' ? 2 : 3
  return [current, ...others.filter((v) => v !== current)].slice(0, count)
}

/** Every hidden layer's block with the norm kind and the residual (where widths allow it) as given. */
function withBlocks(base: CreatePayload, inputs: number | null, change: { norm?: NormName; residual?: boolean }): CreatePayload {
  const hidden = base.model.hidden
  const blocks: BlockOptions[] = baseBlocks(base).map((b, i) => ({
    ...b,
    ...(change.norm ? { norm: change.norm } : {}),
    ...(change.residual !== undefined ? { residual: change.residual && residualFits(hidden, inputs, i) } : {}),
  }))
  if (change.residual && !blocks.some((b) => b.residual))
    throw new Error(
      'no hidden layer is as wide as its input, so none can take a residual connection; make neighbouring layers equally wide',
    )
  return { ...base, model: { ...base.model, blocks } }
}

/** The base spec with one setting set to `value`; throws (with the reason) when that cannot be. */
export function variantSpec(base: CreatePayload, setting: CompareSetting, value: string, inputs: number | null): CreatePayload {
  const hidden = base.model.hidden
  if (['blocks', 'norm', 'residual'].includes(setting) && hidden.length === 0)
    throw new Error(`${SETTING_LABELS[setting]}: the network has no hidden layers to change; add one`)
  switch (setting) {
    case 'blocks': {
      const residual = value.startsWith('residual')
      return withBlocks(base, inputs, { norm: (residual ? (value.split('+')[1] ?? 'none') : value) as NormName, residual })
    }
    case 'norm':
      return withBlocks(base, inputs, { norm: value as NormName })
    case 'residual':
      return withBlocks(base, inputs, { residual: value === 'on' })
    case 'init':
      return { ...base, model: { ...base.model, init: value as CreatePayload['model']['init'] } }
    case 'activation': {
      const { activations: _perLayer, ...model } = base.model
      return { ...base, model: { ...model, activation: value as CreatePayload['model']['activation'] } }
    }
    case 'optimizer':
      return { ...base, optimizer: { type: value as OptimizerType, lr: base.optimizer.lr } }
    case 'lr': {
      const lr = Number(value)
      if (value.trim() === '' || !Number.isFinite(lr)) throw new Error(`learning rate "${value}" is not a number`)
      return { ...base, optimizer: { ...base.optimizer, lr } }
    }
  }
}

export interface Variant {
  value: string
  label: string
  spec: CreatePayload
}

export type Derived = { ok: true; variants: Variant[] } | { ok: false; problems: string[] }

/**
 * The variants of `base` for 2–4 values of one setting, each checked as the host would check it
 * (`inputs`: the data's width when known, for residuals on the first layer); or every reason why not.
 */
export function deriveVariants(base: CreatePayload, setting: CompareSetting, values: readonly string[], inputs: number | null): Derived {
  const problems: string[] = []
  if (values.length < MIN_VARIANTS || values.length > MAX_VARIANTS)
    problems.push(`compare ${MIN_VARIANTS} to ${MAX_VARIANTS} variants (${values.length} given)`)
  const variants: Variant[] = []
  const seen = new Map<string, string>()
  for (const value of values) {
    const label = variantLabel(setting, value)
    let spec: CreatePayload
    try {
      spec = variantSpec(base, setting, value, inputs)
    } catch (err) {
      problems.push(`${label}: ${err instanceof Error ? err.message : String(err)}`)
      continue
    }
    const parsed = SessionSpec.safeParse(spec)
    if (!parsed.success) {
      problems.push(`${label}: ${describeIssues(parsed.error)}`)
      continue
    }
    const m = parsed.data.model
    const sizes = [inputs ?? m.hidden[0] ?? 0, ...m.hidden]
    // One reason per variant: the same refusal on twelve layers would bury the others.
    const refused = blockProblems(sizes, blocksOf(m.hidden.length, m.blocks), parsed.data.train.batchSize)
    if (refused.length)
      problems.push(`${label}: ${refused[0]!.message}${refused.length > 1 ? ` (and ${refused.length - 1} more like it)` : ''}`)
    const key = JSON.stringify(parsed.data)
    const twin = seen.get(key)
    if (twin !== undefined) problems.push(`${label} is the same configuration as ${twin}; pick values that differ`)
    seen.set(key, label)
    variants.push({ value, label, spec })
  }
  return problems.length ? { ok: false, problems } : { ok: true, variants }
}
