// What every op shares: turning numbers into tensors, dtype promotion, and recording the op in
// the autograd graph when (and only when) an input requires a gradient.
import type { ActivationGradOp, BinaryOp, DType, Shape, Storage, UnaryOp } from '../backends/backend.js'
import { EngineError } from '../errors.js'
import { isGradEnabled } from '../grad-mode.js'
import { broadcastShapes } from '../shape.js'
import { Tensor, type BackwardFn, type TensorLike } from '../tensor.js'

export function scalarLike(value: number, like: Tensor): Tensor {
  return new Tensor(like.backend.full(1, value, like.dtype), [], like.backend)
}

function toDtype(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t
  // Promotion is recorded so gradients flow back, cast to the input's own dtype.
  return record('cast', t.backend.cast(t.storage, dtype), t.shape, [t], (g) => [castGrad(g, t.dtype)])
}

function castGrad(g: Tensor, dtype: DType): Tensor {
  return g.dtype === dtype ? g : new Tensor(g.backend.cast(g.storage, dtype), g.shape, g.backend)
}

export function asTensor(op: string, arg: string, x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) {
    if (x.backend !== like.backend) {
      // Ops never move data on their own: a silent copy would hide a device round trip per step.
      throw new EngineError(
        op,
        'backend',
        `${arg} lives on the ${x.backend.name} backend, the other operand on ${like.backend.name}; move one with .to(backend)`,
      )
    }
    return x
  }
  if (typeof x === 'number') return scalarLike(x, like)
  throw new EngineError(op, 'argument', `${arg} must be a Tensor or a number, got ${x === null ? 'null' : typeof x}`)
}

export function checkTensor(op: string, arg: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new EngineError(op, 'argument', `${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`)
  return x
}

/** Two operands on one backend and one dtype (float64 wins, as in PyTorch's promotion). */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (!(a instanceof Tensor)) {
    if (!(b instanceof Tensor)) throw new EngineError(op, 'argument', 'at least one operand must be a Tensor')
    const x = asTensor(op, 'a', a, b)
    return [x, b]
  }
  const y = asTensor(op, 'b', b, a)
  if (a.dtype === y.dtype) return [a, y]
  return [toDtype(a, 'float64'), toDtype(y, 'float64')]
}

/** Wrap a backend result as the op's output, linking it into the graph if any input needs grad. */
export function record(op: string, storage: Storage, shape: Shape, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  const out = new Tensor(storage, shape, inputs[0].backend)
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true
    out._prev = inputs
    out._op = op
    out._backward = backward
  }
  return out
}

/** A kernel call with no graph: used for constants and inside backward rules (masks, derivatives). */
export function rawUnary(op: UnaryOp, x: Tensor, param = 0): Tensor {
  return new Tensor(x.backend.unary(op, x.storage, param), x.shape, x.backend)
}

export function unaryOp(op: UnaryOp, x: Tensor, backward: BackwardFn, param = 0): Tensor {
  checkTensor(op, 'x', x)
  return record(op, x.backend.unary(op, x.storage, param), x.shape, [x], backward)
}

export function binaryOp(op: BinaryOp, a: TensorLike, b: TensorLike, backward: BackwardFn): Tensor {
  const [x, y] = operands(op, a, b)
  const shape = broadcastShapes(op, x.shape, y.shape)
  return record(op, x.backend.binary(op, x.storage, x.shape, y.storage, y.shape, shape), shape, [x, y], backward)
}

// Gradients a backward rule has just allocated and shares with nothing: not its upstream gradient,
// not a saved tensor, not a view of either, not returned twice. Autograd may add a later
// contribution into such a buffer in place instead of allocating the sum; the mark is taken
// (removed) as soon as autograd reads the rule's result, so it never outlives that moment.
const exclusive = new WeakSet<Tensor>()

/** Mark a rule's freshly allocated gradient as exclusively the rule's (see above); returns it. */
export function exclusiveGrad(t: Tensor | null): Tensor | null {
  if (t !== null) exclusive.add(t)
  return t
}

/** Whether `t` was marked by exclusiveGrad, removing the mark. */
export function takeExclusive(t: Tensor): boolean {
  return exclusive.delete(t)
}

/** Inputs of a recorded op, for backward rules that need them. */
export function inputsOf(out: Tensor): readonly Tensor[] {
  return out._prev
}

/**
 * g·f'(·) through the backend's fused kernel when it has one (backward runs without a graph, so
 * the raw result is enough); null tells the rule to compose it from primitives.
 */
export function fusedActivationGrad(op: ActivationGradOp, g: Tensor, yOrX: Tensor): Tensor | null {
  const be = g.backend
  if (!be.activationGrad || g.dtype !== yOrX.dtype || g.size !== yOrX.size || isGradEnabled()) return null
  return new Tensor(be.activationGrad(op, g.storage, yOrX.storage), yOrX.shape, be)
}
