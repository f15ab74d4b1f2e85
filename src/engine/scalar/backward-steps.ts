// The backward pass as data, one step per (node → operand) edge, so the teaching view can replay it
// one contribution at a time. It reads the same rule table as Value.backward and mutates nothing.

import { RULES } from './rules'
import { operandsOf, topoSort, type Value } from './value'

export interface BackwardStep {
  /** the node whose gradient is being pushed back */
  readonly node: Value
  readonly nodeId: number
  readonly op: string
  /** node's full gradient at this point (its sum is complete: every user of it came earlier) */
  readonly upstream: number
  /** the operand receiving the contribution */
  readonly input: Value
  readonly inputIndex: number
  /** d node / d input */
  readonly localDerivative: number
  /** upstream * localDerivative */
  readonly contribution: number
  /** input's running gradient before this step */
  readonly gradBefore: number
  /** input's running gradient after this step (gradBefore + contribution, unless the bug is on) */
  readonly gradAfter: number
  /** the local rule in words, with this step's numbers */
  readonly rule: string
}

export interface BackwardStepsOptions {
  /**
   * false simulates the classic bug of `grad = ...` instead of `grad += ...`: a Value used twice keeps
   * only its last contribution (for b = a + a, a.grad ends at 1 instead of 2).
   */
  readonly accumulate?: boolean
}

/**
 * The steps of one backward pass from `root`, starting from all-zero gradients with root seeded to 1,
 * in the order Value.backward applies them (reverse topological order, operands in order). The Values'
 * own `grad` fields are left untouched.
 */
export function backwardSteps(root: Value, options: BackwardStepsOptions = {}): BackwardStep[] {
  const accumulate = options.accumulate ?? true
  const order = topoSort(root)
  const grads = new Map<Value, number>([[root, 1]])
  const steps: BackwardStep[] = []
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!
    if (node.op === '') continue
    const rule = RULES[node.op]
    const operands = operandsOf(node)
    const local = rule.local(operands)
    const upstream = grads.get(node) ?? 0
    node.inputs.forEach((input, inputIndex) => {
      const localDerivative = local[inputIndex]!
      const contribution = upstream * localDerivative
      const gradBefore = grads.get(input) ?? 0
      const gradAfter = accumulate ? gradBefore + contribution : contribution
      grads.set(input, gradAfter)
      steps.push({
        node,
        nodeId: node.id,
        op: node.op,
        upstream,
        input,
        inputIndex,
        localDerivative,
        contribution,
        gradBefore,
        gradAfter,
        rule: rule.explain(operands, inputIndex, localDerivative),
      })
    })
  }
  return steps
}

/**
 * Each Value's gradient once all `steps` have run (root's seed of 1 included): what the graph would
 * show at the end of the replay. Replaying a prefix of the steps gives the picture mid-pass.
 */
export function gradsAfter(root: Value, steps: readonly BackwardStep[]): Map<Value, number> {
  const grads = new Map<Value, number>()
  for (const v of topoSort(root)) grads.set(v, 0)
  grads.set(root, 1)
  for (const s of steps) grads.set(s.input, s.gradAfter)
  return grads
}
