// Reverse-mode autodiff as backpropagation is taught: order the graph topologically (iteratively,
// so a 100,000-op chain cannot overflow the stack), seed the output with 1, and walk it backwards
// applying each op's local rule. Contributions to a tensor used twice accumulate with +=, and
// broadcasting is undone here, once, by summing each gradient back to its input's shape.
import { EngineError, fmtShape } from './errors.js'
import { noGrad } from './grad-mode.js'
import { sameShape } from './shape.js'
import type { Tensor } from './tensor.js'
import { add } from './ops/add.js'
import { scalarLike, takeExclusive } from './ops/op.js'
import { expand, sumToShape } from './ops/index.js'

export interface TopoOptions {
  /** Follow every input, not only those that need a gradient (the graph view draws data too). */
  allInputs?: boolean
  /** Called when more than this many nodes are reached; it throws the caller's own error. */
  maxNodes?: number
  onTooMany?: (maxNodes: number) => never
}

/** Every tensor `root` depends on that needs a gradient (or every one), inputs before the ops that use them. */
export function topoSort(root: Tensor, options: TopoOptions = {}): Tensor[] {
  const { allInputs = false, maxNodes = Infinity, onTooMany } = options
  const order: Tensor[] = []
  const visited = new Set<Tensor>([root])
  const stack: { node: Tensor; next: number }[] = [{ node: root, next: 0 }]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.next < top.node._prev.length) {
      const child = top.node._prev[top.next++]
      if ((allInputs || child.requiresGrad) && !visited.has(child)) {
        visited.add(child)
        if (visited.size > maxNodes && onTooMany) onTooMany(maxNodes)
        stack.push({ node: child, next: 0 })
      }
    } else {
      stack.pop()
      order.push(top.node)
    }
  }
  return order
}

export interface BackwardOptions {
  /**
   * Keep the gradient of every tensor the pass reaches, as if retainGrad() had been called on each
   * (the graph view shows them). Off by default: intermediate gradients are dropped as soon as the
   * pass has used them, which keeps peak memory to the live frontier.
   */
  retainGrads?: boolean
}

export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  const { order, visit } = backwardPass(root, seed, options)
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) visit(order[i])
  })
}

/** What a piece of a pass may hold: the pass yields between nodes once their summed cost passes `budget`. */
export interface BackwardPieces {
  budget: number
  /** The cost of running `node`'s rule, in the caller's units. */
  cost(node: Tensor): number
}

/**
 * backward() as resumable work: with `pieces`, the pass yields between nodes once the nodes' costs
 * since the last break pass the budget, so a caller can let other work run meanwhile (a training
 * step on a wide model, an inspection of one); without, it runs to the end in one go. Nothing is
 * done before the first next(). While it is paused, the leaves it has reached already hold their
 * new gradients and the others do not, and nothing else may touch this graph; grad mode is only
 * switched off inside each node's piece, so code that runs between pieces records graphs as usual.
 */
export function* backwardInPieces(
  root: Tensor,
  seed?: Tensor,
  options: BackwardOptions = {},
  pieces?: BackwardPieces,
): Generator<void, void, void> {
  const { order, visit, reached } = backwardPass(root, seed, options)
  let spent = 0
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]
    if (pieces && reached(node)) {
      const cost = pieces.cost(node)
      if (spent > 0 && spent + cost > pieces.budget) {
        yield
        spent = 0
      }
      spent += cost
    }
    noGrad(() => visit(node))
  }
}

/**
 * The pass, checked and ready: the graph in topological order, `visit`, which applies one node's
 * rule (true: it had one) and adds what it gives to its inputs' gradients (called on each node from
 * the root down, without grad), and `reached`: whether a node has a gradient to pass on yet.
 */
function backwardPass(
  root: Tensor,
  seed: Tensor | undefined,
  options: BackwardOptions,
): { order: Tensor[]; visit: (node: Tensor) => boolean; reached: (node: Tensor) => boolean } {
  const retainAll = options.retainGrads === true
  if (!root.requiresGrad) {
    throw new EngineError(
      'backward',
      'backward',
      `this tensor ${fmtShape(root.shape)} does not require grad: no input of the computation had requiresGrad set`,
    )
  }
  let g0: Tensor
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new EngineError(
        'backward',
        'backward',
        `called on a tensor of shape ${fmtShape(root.shape)} without a gradient; reduce it to a scalar (sum, mean) or pass a gradient of the same shape`,
      )
    }
    g0 = expand(scalarLike(1, root), root.shape)
  } else {
    if (!sameShape(seed.shape, root.shape)) {
      throw new EngineError('backward', 'shape', `gradient has shape ${fmtShape(seed.shape)}, the tensor ${fmtShape(root.shape)}`)
    }
    g0 = seed.detach()
  }
  const order = topoSort(root)
  const grads = new Map<Tensor, Tensor>([[root, g0]])
  const acc = new Accumulator()
  const visit = (node: Tensor): boolean => {
    const g = grads.get(node)
    if (g === undefined) return false
    grads.delete(node) // the pass no longer needs it: keeps peak memory to the live frontier
    acc.release(g)
    if (node._backward === null || node._retainGrad || retainAll) node.grad = node.grad === null ? g : add(node.grad, g)
    if (node._backward === null) return false
    const inputGrads = node._backward(g, node)
    const inputs = node._prev
    const exclusive = inputGrads.map(
      (gi, j) => !!gi && takeExclusive(gi) && inputGrads.indexOf(gi) === j && inputGrads.lastIndexOf(gi) === j,
    )
    for (let j = 0; j < inputs.length; j++) {
      const input = inputs[j]
      const gi = inputGrads[j]
      if (!input.requiresGrad || gi === null || gi === undefined) continue
      const reduced = sumToShape(gi, input.shape)
      grads.set(input, acc.add(grads.get(input), reduced, exclusive[j] && reduced === gi)) // +=
    }
    return true
  }
  return { order, visit, reached: (node) => grads.has(node) }
}

/**
 * The += of gradient contributions. A sum it allocated, or a rule's gradient marked exclusive, is
 * held by one slot and nothing else, so later contributions go into it in place (where the backend
 * can). Everything else may be shared (add's rule hands its upstream gradient to both operands, a
 * retained .grad is the user's), so it is only read. A slot's buffer is released, and never written
 * again, once its node hands it to a rule or keeps it as .grad.
 */
class Accumulator {
  private readonly owned = new Set<Tensor>()

  add(prev: Tensor | undefined, g: Tensor, exclusive: boolean): Tensor {
    if (prev === undefined) {
      if (exclusive) this.owned.add(g)
      return g
    }
    const be = g.backend
    if (be.addInto && prev.dtype === g.dtype && prev.backend === be) {
      if (this.owned.has(prev)) {
        be.addInto(prev.storage, g.storage)
        return prev
      }
      if (exclusive) {
        be.addInto(g.storage, prev.storage)
        this.owned.add(g)
        return g
      }
    }
    const sum = add(prev, g)
    this.owned.delete(prev)
    this.owned.add(sum)
    return sum
  }

  release(g: Tensor): void {
    this.owned.delete(g)
  }
}
