// The whole autograd graph behind a tensor as plain data (nodes, edges, value and gradient
// statistics), so a view can draw backpropagation without ever touching engine objects. Unlike
// autograd's topoSort it also walks the leaves that need no gradient: the input batch, the labels,
// scalar constants. Call it after `backward(..., { retainGrads: true })` to get every gradient.
import { EngineError } from './errors.js'
import type { Tensor } from './tensor.js'
import type { TypedArray } from './backends/backend.js'
import { topoSort } from './autograd.js'

export interface TensorStats {
  /** Over the finite values only; all 0 when there are none. */
  mean: number
  /** Population standard deviation. */
  std: number
  min: number
  max: number
  /** L2 norm. */
  norm: number
  /** How many values are NaN or ±Infinity. */
  nonFinite: number
}

export type GraphNodeKind = 'input' | 'parameter' | 'constant' | 'op' | 'loss'

export interface GraphSnapshotNode {
  /** Position in `nodes`: inputs come before the ops that use them, the root is last. */
  id: number
  /** '' for a leaf, else the primitive op that made it (matmul, add, tanh, sum, reshape...). */
  op: string
  label: string
  kind: GraphNodeKind
  shape: number[]
  value: TensorStats
  /** null where no gradient flows (inputs, constants) or none was kept. */
  grad: TensorStats | null
  transA?: boolean
  transB?: boolean
  /** The module the node was computed in (a group's label), when the snapshot was given groups. */
  group?: string
}

export interface GraphSnapshotEdge {
  from: number
  to: number
  /** Operand position in `to` (`a + a` has two edges from a, inputIndex 0 and 1). */
  inputIndex: number
}

export interface GraphSnapshot {
  nodes: GraphSnapshotNode[]
  edges: GraphSnapshotEdge[]
  rootId: number
}

export interface GraphSnapshotOptions {
  /** Names for tensors, e.g. parameters from namedParameters() and the input batch ('input x'). */
  labels?: ReadonlyMap<Tensor, string>
  /** The root's label when `labels` has none. Default 'loss'. */
  rootLabel?: string
  /** Refuse bigger graphs (a snapshot is meant to be drawn). Default 10,000. */
  maxNodes?: number
  /** Modules composed of primitives (BatchNorm, dropout, a residual sum), to mark their nodes. */
  groups?: readonly GraphGroup[]
}

/**
 * A module's part of the graph: every node `output` was computed from without passing through one
 * of `inputs` (the module's operands, outside the group) — its ops and its own leaves (γ, β, eps,
 * a dropout mask). A node in several groups keeps the first one's label.
 */
export interface GraphGroup {
  label: string
  output: Tensor
  inputs: readonly Tensor[]
}

/** Each node of each group, labelled (see GraphGroup). */
export function groupMembers(groups: readonly GraphGroup[]): Map<Tensor, string> {
  const member = new Map<Tensor, string>()
  for (const g of groups) {
    const stop = new Set(g.inputs)
    const seen = new Set<Tensor>()
    const stack = [g.output]
    while (stack.length > 0) {
      const t = stack.pop()!
      if (stop.has(t) || seen.has(t)) continue
      seen.add(t)
      if (!member.has(t)) member.set(t, g.label)
      stack.push(...t._prev)
    }
  }
  return member
}

/** Statistics of a tensor's values; non-finite values are counted, not averaged. */
export function tensorStats(values: ArrayLike<number>): TensorStats {
  let n = 0
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) continue
    n++
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  if (n === 0) return { mean: 0, std: 0, min: 0, max: 0, norm: 0, nonFinite: values.length }
  const mean = sum / n
  let sq = 0
  let dev = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) continue
    sq += v * v
    dev += (v - mean) * (v - mean)
  }
  // float64 sums of float64 values near 1e308 can overflow; clamp so the stats stay finite numbers.
  return { mean: clamp(mean), std: clamp(Math.sqrt(dev / n)), min, max, norm: clamp(Math.sqrt(sq)), nonFinite: values.length - n }
}

function clamp(x: number): number {
  if (Number.isFinite(x)) return x
  return x > 0 ? Number.MAX_VALUE : x < 0 ? -Number.MAX_VALUE : 0
}

function kindOf(t: Tensor, root: Tensor, label: string): GraphNodeKind {
  if (t === root) return 'loss'
  if (t._op !== '') return 'op'
  if (t.requiresGrad) return 'parameter'
  // A named leaf without a gradient is data (the batch, its labels); an unnamed one is a constant
  // (a scalar operand, logSoftmax's detached row max).
  return label !== '' ? 'input' : 'constant'
}

/**
 * A snapshot of the graph that computed `root`. Reads every value (and every kept gradient) back
 * from the backend, so it is meant for small graphs: one training step of a studio model.
 */
export async function graphSnapshot(root: Tensor, options: GraphSnapshotOptions = {}): Promise<GraphSnapshot> {
  const order = nodeOrder(root, options)
  const [values, grads] = await Promise.all([
    Promise.all(order.map((t) => t.data())),
    Promise.all(order.map((t) => (t.grad ? t.grad.data() : null))),
  ])
  const read = new Map<Tensor, TypedArray>()
  order.forEach((t, i) => {
    read.set(t, values[i])
    if (t.grad) read.set(t.grad, grads[i]!)
  })
  const steps = snapshotSteps(root, order, options, (t) => read.get(t)!, Infinity)
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
  }
}

/**
 * graphSnapshot in pieces, for backends that read synchronously (the CPU): values are read in place
 * (no copies) and the generator yields between nodes once the elements summarised since the last
 * break pass `pieceElements`, so a caller can let other work run while a big graph is summarised.
 */
export function graphSnapshotInPieces(
  root: Tensor,
  pieceElements: number,
  options: GraphSnapshotOptions = {},
): Generator<void, GraphSnapshot, void> {
  const read = (t: Tensor): TypedArray => {
    const sync = t.backend.readSync
    if (!sync)
      throw new EngineError('graphSnapshotInPieces', 'backend', `the ${t.backend.name} backend reads asynchronously; use graphSnapshot`)
    return sync.call(t.backend, t.storage)
  }
  return snapshotSteps(root, nodeOrder(root, options), options, read, pieceElements)
}

function nodeOrder(root: Tensor, options: GraphSnapshotOptions): Tensor[] {
  return topoSort(root, {
    allInputs: true,
    maxNodes: options.maxNodes ?? 10_000,
    onTooMany: (max) => {
      throw new EngineError('graphSnapshot', 'argument', `the graph has more than ${max} nodes; snapshot a smaller computation`)
    },
  })
}

/** The snapshot of `order` (root last) from values `read` gives, with a break whenever `pieceElements` more have been summarised. */
function* snapshotSteps(
  root: Tensor,
  order: readonly Tensor[],
  options: GraphSnapshotOptions,
  read: (t: Tensor) => TypedArray,
  pieceElements: number,
): Generator<void, GraphSnapshot, void> {
  const ids = new Map(order.map((t, i) => [t, i]))
  const groups = groupMembers(options.groups ?? [])
  const nodes: GraphSnapshotNode[] = []
  let done = 0
  for (const [id, t] of order.entries()) {
    const work = t.size + (t.grad ? t.grad.size : 0)
    if (done > 0 && done + work > pieceElements) {
      yield
      done = 0
    }
    done += work
    const label = options.labels?.get(t) ?? (t === root ? (options.rootLabel ?? 'loss') : t.label)
    const node: GraphSnapshotNode = {
      id,
      op: t._op,
      label,
      kind: kindOf(t, root, label),
      shape: [...t.shape],
      value: tensorStats(read(t)),
      grad: t.grad ? tensorStats(read(t.grad)) : null,
    }
    if (t._meta?.transA !== undefined) node.transA = t._meta.transA
    if (t._meta?.transB !== undefined) node.transB = t._meta.transB
    const group = groups.get(t)
    if (group !== undefined) node.group = group
    nodes.push(node)
  }
  const edges: GraphSnapshotEdge[] = []
  for (const t of order) t._prev.forEach((p, inputIndex) => edges.push({ from: ids.get(p)!, to: ids.get(t)!, inputIndex }))
  return { nodes, edges, rootId: ids.get(root)! }
}
