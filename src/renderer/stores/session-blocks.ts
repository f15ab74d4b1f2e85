// The form's per-hidden-layer blocks (norm, dropout, residual; shared/model-blocks.ts): what the
// spec gets (nothing while every block is plain, so plain specs, runs and their keys stay as they
// were), the refusals shown at their controls before the host is asked, and the words and formulas
// the editor and the network view use. The rules themselves are shared/model-blocks.ts's.
import { fieldNameOfPath } from '../../shared/issue-wording'
import {
  NORM_LABELS,
  blockProblems,
  blocksOf,
  isPlain,
  type BlockOptions,
  type NormName,
  type NormPosition,
} from '../../shared/model-blocks'
import type { SessionForm } from './session-form'

/** `{ blocks }` for the spec's model when some block is not plain; `{}` otherwise. */
export function specBlocks(hidden: number, blocks: readonly BlockOptions[]): { blocks?: BlockOptions[] } {
  const aligned = blocksOf(hidden, blocks)
  return aligned.some((b) => !isPlain(b)) ? { blocks: aligned } : {}
}

/**
 * The blocks' refusals by spec path (`model.blocks[0].residual`), in shared/model-blocks.ts's words.
 * `inputs`: the data's width when known; without it the first layer's residual cannot be judged
 * here (the host still refuses it). Widths the schema already refuses are left to their fields.
 */
export function blockIssues(form: Pick<SessionForm, 'hidden' | 'blocks' | 'batchSize'>, inputs: number | null): Record<string, string> {
  if (!form.hidden.every((w) => Number.isInteger(w) && w > 0)) return {}
  const sizes = [inputs ?? form.hidden[0] ?? 0, ...form.hidden]
  const out: Record<string, string> = {}
  for (const p of blockProblems(sizes, form.blocks.slice(0, form.hidden.length), form.batchSize)) {
    const path = ['model', ...p.path]
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
      .join('')
      .replace(/^\./, '')
    out[path] ??= p.message
  }
  return out
}

/** Issues as one line for the banner ("Hidden layer 1: residual: …"); null when there are none. */
export function issuesLine(issues: Record<string, string>): string | null {
  const entries = Object.entries(issues)
  return entries.length ? entries.map(([p, m]) => `${fieldNameOfPath(p)}: ${m}`).join('; ') : null
}

export const NORM_CHOICES: { value: NormName; label: string }[] = [
  { value: 'none', label: 'no norm' },
  { value: 'batch', label: NORM_LABELS.batch.label },
  { value: 'layer', label: NORM_LABELS.layer.label },
]

/** Where the norm sits, in words (model-blocks.ts: pre, mid, post). */
export const POSITION_WORDS: Record<NormPosition, string> = {
  pre: 'before the layer',
  mid: 'before the activation',
  post: 'after the activation',
}

/**
 * What hidden layer computes from its input x, as model-blocks.ts documents it: "act(BN(W·x))",
 * "x + drop(act(W·x))", "LN(x + act(W·x))". `norm` names the norm ("norm" for a generic one).
 */
export function blockFormula(b: BlockOptions, norm = b.norm === 'none' ? null : NORM_LABELS[b.norm].short): string {
  const n = (inner: string, at: NormPosition) => (norm && b.normAt === at ? `${norm}(${inner})` : inner)
  let y = `act(${n(`W·${n('x', 'pre')}`, 'mid')})`
  if (b.dropout > 0) y = `drop(${y})`
  if (b.residual) y = `x + ${y}`
  return n(y, 'post')
}

/** The formula with the norm at `at` (for each position's tooltip). */
export function positionFormula(b: BlockOptions, at: NormPosition): string {
  return blockFormula({ ...b, normAt: at }, b.norm === 'none' ? 'norm' : NORM_LABELS[b.norm].short)
}

const CHIP_WORDS: Record<NormPosition, string> = { pre: 'before layer', mid: 'before act', post: 'after act' }

/** Short chips for a block ("BN before act", "drop 0.2", "+skip"); none for a plain one. */
export function blockChips(b: BlockOptions): string[] {
  const chips: string[] = []
  if (b.norm !== 'none') chips.push(`${NORM_LABELS[b.norm].short} ${CHIP_WORDS[b.normAt]}`)
  if (b.dropout > 0) chips.push(`drop ${b.dropout}`)
  if (b.residual) chips.push('+skip')
  return chips
}
