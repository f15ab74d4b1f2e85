// The graph view's rules for the fused normalisations: BatchNorm1d in train mode and LayerNorm are
// one engine op each (src/engine/ops/normalize.ts) whose rule is the closed-form VJP.
import type { RequestResult } from '../../../../shared/protocol'
import { fmtBytes, fmtCount, fmtShape as S, numel } from '../../../composables/use-graph-format'
import type { VjpLine, VjpRule } from './use-graph-vjp'

type GraphNode = RequestResult<'session.graph'>['nodes'][number]

export const NORM_RULE_OPS: readonly string[] = ['batchNorm', 'layerNorm']

/** The rule of a batchNorm or layerNorm node; inputs are x, then weight (γ) and bias (β) when the op had them. */
export function normRule(node: GraphNode, inputs: readonly GraphNode[], skip: (input: GraphNode) => string | undefined): VjpRule {
  const [x, weight, bias] = inputs
  const X = x!.shape
  const f = X[X.length - 1] ?? 1
  const size = numel(X)
  const batch = node.op === 'batchNorm'
  // n: how many values each statistic is taken over; groups: how many statistics there are.
  const [n, groups] = batch ? [size / Math.max(1, f), f] : [f, size / Math.max(1, f)]
  const over = batch ? `per feature over the batch (n=${n})` : `per row over its ${f} features (n=${f})`
  const F = `[${f}]`
  const lines: VjpLine[] = [
    {
      target: 'dx',
      formula: batch ? 'dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))' : 'dx = invstd/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  dx̂ = dy·γ',
      shapes: `${S(X)} with ${fmtCount(groups)} pairs of sums → ${S(X)}`,
      skipped: skip(x!),
    },
  ]
  if (weight) lines.push({ target: 'dγ', formula: 'dγ = Σ dy·x̂', shapes: `${S(X)} summed per feature → ${F}`, skipped: skip(weight) })
  if (bias) lines.push({ target: 'dβ', formula: 'dβ = Σ dy', shapes: `${S(X)} summed per feature → ${F}`, skipped: skip(bias) })
  const block = n * n
  return {
    forward: `y = (x − mean)/√(var + ε)·γ + β, statistics ${over}: ${S(X)} → ${S(node.shape)}`,
    lines,
    signature: batch
      ? 'BatchNorm, fused: every output depends on the whole batch through its mean and variance, so dx is the gradient minus its mean and its projection on x̂, per feature. Composed from mean, sub, mul and pow it would take a dozen rules and temporaries.'
      : 'LayerNorm, fused: each row is normalised on its own, so dx is the row’s dx̂ minus its mean and its projection on x̂. Composed from mean, sub, mul and pow it would take a dozen rules and temporaries.',
    jacobian: `A full Jacobian: ${fmtCount(size)}×${fmtCount(size)} numbers, of which only ${fmtCount(groups)} blocks of ${fmtCount(n)}×${fmtCount(n)} (${fmtBytes(groups * block)} as float32) are non-zero — never formed.`,
  }
}
