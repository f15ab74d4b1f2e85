// What the lab's modules are in the step's graph. BatchNorm, LayerNorm, dropout and the residual sum
// are composed of primitive ops (each node has its own rule in use-graph-vjp.ts); the host marks
// which module a node belongs to (`group`), and this says what the module computes and what its
// backward amounts to once its primitives' rules are chained. A fused norm op (one node with its
// own rule) gets the same formulas as its VJP.
import type { RequestResult } from '../../../../shared/protocol'

type GraphNode = RequestResult<'session.graph'>['nodes'][number]

export type ModuleKind = 'batchNorm' | 'layerNorm' | 'dropout' | 'residual'

/** The module a group label names ('norms.0 · BatchNorm1d (batch statistics)' → batchNorm). */
export function moduleKind(group: string | undefined): ModuleKind | null {
  if (!group) return null
  if (group.includes('BatchNorm')) return 'batchNorm'
  if (group.includes('LayerNorm')) return 'layerNorm'
  if (group.startsWith('dropout')) return 'dropout'
  if (group.startsWith('residual')) return 'residual'
  return null
}

const NOTES: Record<ModuleKind, string> = {
  batchNorm:
    'BatchNorm1d, composed of primitives: μ and σ² are the mean and (biased) variance of each feature over the batch, x̂ = (x − μ)·(σ² + ε)^−½, y = γ·x̂ + β. Chained, its primitives’ rules give dγ = Σ_rows dy·x̂, dβ = Σ_rows dy and dx = (γ/σ)·(dy − mean_rows(dy) − x̂·mean_rows(dy·x̂)): every row’s gradient depends on the whole batch, because μ and σ² do. In eval mode μ and σ² are the running statistics, constants, and dx is just (γ/σ)·dy.',
  layerNorm:
    'LayerNorm, composed of primitives: μ and σ² are the mean and (biased) variance of each row over its features, x̂ = (x − μ)·(σ² + ε)^−½, y = γ·x̂ + β. Chained, its primitives’ rules give dγ = Σ_rows dy·x̂, dβ = Σ_rows dy and dx = (γ/σ)·(dy − mean_features(dy) − x̂·mean_features(dy·x̂)): each row on its own, the same in training and evaluation.',
  dropout:
    'Dropout: y = x ⊙ mask / (1 − p), the mask drawn afresh each training step (0 with probability p). Its rule is mul’s: dx = dy ⊙ mask / (1 − p) — dropped units pass no gradient. In eval mode it is the identity and leaves no node.',
  residual:
    'A residual connection: y = x + F(x). add passes dy unchanged to both operands, so the skip path carries the gradient past F(x) whatever F does to it: dx = dy + (the gradient through F).',
}

/** What a grouped node's module computes and how its backward chains, or null outside a module. */
export function moduleNote(node: Pick<GraphNode, 'group'>): string | null {
  const kind = moduleKind(node.group)
  return kind && `${node.group}: ${NOTES[kind]}`
}
