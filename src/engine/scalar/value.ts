// A micrograd-style scalar autograd Value. The graph stays inspectable (op, inputs, id) so the
// teaching view can draw it and step its backward pass; the derivative formulas live in rules.ts.

import { EngineError } from '../errors'
import { RULES, fmt, isScalarOp, type Operands, type ScalarOp } from './rules'

let nextId = 0

/** How an interior node was made. Ops pass this; user code makes leaves with `new Value(x)`. */
export interface Origin {
  readonly op: ScalarOp
  readonly inputs: readonly Value[]
  /** pow's constant exponent */
  readonly exponent?: number | undefined
}

export class Value {
  data: number
  grad = 0
  label: string
  /** unique per Value, stable for the session: a key for drawing */
  readonly id: number
  /** '' for a leaf */
  readonly op: ScalarOp | ''
  /** operands in order, duplicates kept: `a.add(a)` has inputs [a, a] */
  readonly inputs: readonly Value[]
  /** pow's constant exponent; undefined for every other op */
  readonly exponent: number | undefined

  constructor(data: number, label = '', origin?: Origin) {
    const where = origin?.op ?? 'Value'
    if (typeof data !== 'number') {
      throw new EngineError(where, 'argument', `data must be a number, got ${typeof data}`)
    }
    if (!Number.isFinite(data)) {
      // A NaN that slips in here silently poisons every gradient downstream, so stop it at the door.
      const why = origin
        ? `result is ${data} for operand(s) ${origin.inputs.map((v) => fmt(v.data)).join(', ')}` +
          (origin.exponent === undefined ? '' : ` with exponent ${origin.exponent}`)
        : `data is ${data}; a Value must hold a finite number`
      throw new EngineError(where, 'nan', why)
    }
    if (origin && (!isScalarOp(origin.op) || origin.inputs.length !== RULES[origin.op].arity)) {
      throw new EngineError(where, 'argument', `not a primitive with ${origin.inputs.length} operand(s)`)
    }
    this.data = data
    this.label = label
    this.id = nextId++
    this.op = origin?.op ?? ''
    this.inputs = origin?.inputs ?? []
    this.exponent = origin?.exponent
  }

  // --- primitives: each has a forward and a local backward in RULES ---

  add(other: Value | number): Value {
    return apply('add', [this, lift('add', other)])
  }

  mul(other: Value | number): Value {
    return apply('mul', [this, lift('mul', other)])
  }

  /** Constant exponents only, as in micrograd: d/dn of x^n would need log(x), undefined for x<0. */
  pow(n: number): Value {
    // The type says number, but untyped callers (and the UI's expression box) can still pass a Value.
    if ((n as unknown) instanceof Value) {
      throw new EngineError('pow', 'argument', 'exponent must be a number, not a Value (only constant exponents have a backward rule)')
    }
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw new EngineError('pow', 'argument', `exponent must be a finite number, got ${String(n)}`)
    }
    return apply('pow', [this], n)
  }

  exp(): Value {
    return apply('exp', [this])
  }

  log(): Value {
    return apply('log', [this])
  }

  tanh(): Value {
    return apply('tanh', [this])
  }

  relu(): Value {
    return apply('relu', [this])
  }

  /** The larger of the two; backward routes the gradient to it (the first operand at a tie). */
  max(other: Value | number): Value {
    return apply('max', [this, lift('max', other)])
  }

  // --- composed ops: no backward rules of their own, exactly as micrograd builds them ---

  neg(): Value {
    return this.mul(-1)
  }

  sub(other: Value | number): Value {
    return this.add(lift('sub', other).neg())
  }

  div(other: Value | number): Value {
    const o = lift('div', other)
    // Caught here so the message names div rather than the pow(-1) it is built from.
    if (o.data === 0) throw new EngineError('div', 'nan', `division by zero (${fmt(this.data)} / 0)`)
    return this.mul(o.pow(-1))
  }

  // --- gradients ---

  /**
   * Seeds this.grad with 1 and applies each node's local rule in reverse topological order.
   * Like PyTorch, leaves accumulate across calls (two calls double them) while interior nodes are
   * reset first and hold only this pass's gradient: reusing stale interior grads, as micrograd does,
   * would push the old gradient through the graph a second time.
   */
  backward(): void {
    const order = topoSort(this)
    for (const v of order) if (v.op !== '') v.grad = 0
    this.grad += 1
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!
      if (node.op === '') continue
      const local = RULES[node.op].local(operandsOf(node))
      node.inputs.forEach((input, i) => {
        const g = node.grad * local[i]!
        if (!Number.isFinite(g)) {
          throw new EngineError(
            node.op,
            'backward',
            `gradient into operand ${i} is ${g} (upstream ${fmt(node.grad)}, local derivative ${local[i]})`,
          )
        }
        input.grad += g
      })
    }
  }

  /** Zeros the grad of every Value reachable from this one (the whole graph it depends on). */
  zeroGrad(): void {
    for (const v of topoSort(this)) v.grad = 0
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad}${this.label ? `, label=${this.label}` : ''})`
  }
}

/** Numbers become leaf Values; anything non-finite is refused with the op's name. */
function lift(op: string, other: Value | number): Value {
  if (other instanceof Value) return other
  if (typeof other !== 'number') {
    throw new EngineError(op, 'argument', `operand must be a Value or a number, got ${typeof other}`)
  }
  if (!Number.isFinite(other)) {
    throw new EngineError(op, 'nan', `operand is ${other}; only finite numbers are allowed`)
  }
  return new Value(other)
}

function apply(op: ScalarOp, inputs: readonly Value[], exponent?: number): Value {
  const x = inputs[0]!.data
  const y = inputs[1]?.data ?? 0
  return new Value(RULES[op].forward(x, y, exponent ?? 0), '', { op, inputs, exponent })
}

/** What a node's rule needs to compute its local derivatives (shared with backwardSteps). */
export function operandsOf(node: Value): Operands {
  return {
    x: node.inputs[0]?.data ?? 0,
    y: node.inputs[1]?.data ?? 0,
    out: node.data,
    n: node.exponent ?? 0,
  }
}

/**
 * Every Value `root` depends on, inputs before the nodes that use them, root last. Iterative
 * post-order DFS with an explicit stack, so a 100,000-node chain cannot overflow the call stack;
 * a shared node appears once.
 */
export function topoSort(root: Value): Value[] {
  const order: Value[] = []
  const visited = new Set<Value>([root])
  const nodes: Value[] = [root]
  const next: number[] = [0] // next operand index to visit, per stack entry
  while (nodes.length > 0) {
    const top = nodes.length - 1
    const node = nodes[top]!
    const i = next[top]!
    if (i < node.inputs.length) {
      next[top] = i + 1
      const child = node.inputs[i]!
      if (!visited.has(child)) {
        visited.add(child)
        nodes.push(child)
        next.push(0)
      }
    } else {
      nodes.pop()
      next.pop()
      order.push(node)
    }
  }
  return order
}
