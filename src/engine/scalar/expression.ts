// The scalar explainer's little language: `name = expr` statements (newline or ';' separated) that
// build a graph of Values, parsed by hand (recursive descent; no eval, which the CSP forbids).
//
//   statement := NAME ('=' | '+=' | '-=' | '*=' | '/=') expr
//   expr      := term (('+' | '-') term)*
//   term      := unary (('*' | '/') unary)*
//   unary     := ('-' | '+') unary | power          -2**2 is -(2**2), as in Python
//   power     := primary (('**' | '^') unary)?      right-associative: 2**3**2 is 2**(3**2)
//   primary   := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
//
// Numbers stay plain numbers until they meet a Value, as Python's floats do in micrograd: `f = -2`
// is one leaf holding -2 and `2*3` is 6, while `-a` is a*(-1) and `a - b` is a + b*(-1). Names may
// be reassigned (`c = c + 1`, `c += 1`): the name then refers to the new Value, and the earlier
// Values keep their own labels (c, c₂, c₃...), so micrograd's test code can be pasted in nearly as is.

import { EngineError } from '../errors'
import { ExpressionError, tokenize, type Token } from './tokenize'
import { topoSort, Value } from './value'

export { ExpressionError } from './tokenize'

/** The explainer draws every node, so programs are capped well below what the engine could do. */
export const MAX_PROGRAM_NODES = 500

export interface Binding {
  /** The name as written (a reassigned name appears once per assignment, in order). */
  readonly name: string
  readonly value: Value
  readonly line: number
}

export interface ScalarProgramGraph {
  /** The last assigned Value: where backward starts. */
  readonly root: Value
  /** Every assignment in statement order. */
  readonly bindings: readonly Binding[]
  /** Every Value the bindings depend on, inputs before the nodes that use them, root last. */
  readonly nodes: readonly Value[]
}

export interface ParseOptions {
  maxNodes?: number
}

const FUNCTIONS = {
  tanh: { arity: 1, num: (x: number) => Math.tanh(x), val: (v: Value) => v.tanh() },
  exp: { arity: 1, num: (x: number) => Math.exp(x), val: (v: Value) => v.exp() },
  log: { arity: 1, num: (x: number) => Math.log(x), val: (v: Value) => v.log() },
  relu: { arity: 1, num: (x: number) => (x < 0 ? 0 : x), val: (v: Value) => v.relu() },
  max: { arity: 2, num: (x: number, y: number) => (x >= y ? x : y), val: (v: Value, w: Value | number) => v.max(w) },
} as const
type FunctionName = keyof typeof FUNCTIONS
const FUNCTION_LIST = Object.keys(FUNCTIONS).join(', ')

// ---------------------------------------------------------------------------------------------
// Parser and evaluator in one pass: each rule returns the number or Value it denotes.

type Operand = number | Value

const SUBSCRIPTS = '₀₁₂₃₄₅₆₇₈₉'
const subscript = (n: number) => String(n).replace(/\d/g, (d) => SUBSCRIPTS[Number(d)]!)

class Parser {
  private pos = 0
  private readonly env = new Map<string, Value>()
  private readonly assignments = new Map<string, number>()
  private readonly bindings: Binding[] = []
  private readonly seen = new Set<Value>()

  constructor(
    private readonly tokens: Token[],
    private readonly maxNodes: number,
  ) {}

  private get tok(): Token {
    return this.tokens[this.pos]!
  }

  private fail(at: Token, detail: string): never {
    throw new ExpressionError(at.line, at.col, detail)
  }

  private isOp(text: string): boolean {
    return this.tok.kind === 'op' && this.tok.text === text
  }

  private atStatementEnd(): boolean {
    return this.tok.kind === 'sep' || this.tok.kind === 'eof'
  }

  program(): ScalarProgramGraph {
    while (this.tok.kind !== 'eof') {
      if (this.tok.kind === 'sep') {
        this.pos++
        continue
      }
      this.statement()
      if (!this.atStatementEnd()) this.unexpectedAfterExpression()
    }
    const last = this.bindings.at(-1)
    if (!last)
      this.fail(
        { kind: 'eof', text: '', line: 1, col: 1 },
        'the program is empty: write assignments such as a = 2 and L = a*b, one per line or separated by ;',
      )
    return { root: last.value, bindings: this.bindings, nodes: orderOf(this.bindings.map((b) => b.value)) }
  }

  private statement(): void {
    const target = this.tok
    if (target.kind !== 'name') this.fail(target, `expected a variable name to assign to, got ${describe(target)}`)
    if (Object.hasOwn(FUNCTIONS, target.text)) this.fail(target, `${target.text} is a function and cannot be assigned to`)
    this.pos++
    const assign = this.tok
    if (assign.kind !== 'op' || !['=', '+=', '-=', '*=', '/='].includes(assign.text)) {
      this.fail(assign, `expected '=' after '${target.text}' (every statement assigns a name, like L = a*b), got ${describe(assign)}`)
    }
    this.pos++
    let value = this.expression(assign)
    if (assign.text !== '=') {
      const current = this.env.get(target.text)
      if (!current) this.fail(target, `${target.text} is used before it is assigned (${assign.text} needs a value to update)`)
      value = this.binary(assign, current, value, assign.text[0]!)
    }
    const v = value instanceof Value ? value : this.track(assign, () => new Value(value as number))
    const count = (this.assignments.get(target.text) ?? 0) + 1
    this.assignments.set(target.text, count)
    // A name for a Value that already has one (`b = a`) is an alias: the Value keeps its first label.
    if (v.label === '') v.label = count === 1 ? target.text : `${target.text}${subscript(count)}`
    this.env.set(target.text, v)
    this.bindings.push({ name: target.text, value: v, line: target.line })
  }

  /** `after` is the token the expression must follow, for the "expected an expression" message. */
  private expression(after: Token): Operand {
    let left = this.term(after)
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.tok
      this.pos++
      left = this.binary(op, left, this.term(op), op.text)
    }
    return left
  }

  private term(after: Token): Operand {
    let left = this.unary(after)
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.tok
      this.pos++
      left = this.binary(op, left, this.unary(op), op.text)
    }
    return left
  }

  private unary(after: Token): Operand {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.tok
      this.pos++
      const x = this.unary(op)
      if (op.text === '+') return x
      return typeof x === 'number' ? -x : this.track(op, () => x.neg())
    }
    return this.power(after)
  }

  private power(after: Token): Operand {
    const base = this.primary(after)
    if (!this.isOp('**') && !this.isOp('^')) return base
    const op = this.tok
    this.pos++
    return this.binary(op, base, this.unary(op), '**')
  }

  private primary(after: Token): Operand {
    const t = this.tok
    if (t.kind === 'num') {
      this.pos++
      const x = Number(t.text)
      if (!Number.isFinite(x)) this.fail(t, `the number ${t.text} is too large`)
      return x
    }
    if (t.kind === 'name') {
      this.pos++
      if (Object.hasOwn(FUNCTIONS, t.text)) return this.call(t, t.text as FunctionName)
      if (this.isOp('(')) this.fail(t, `unknown function '${t.text}'; the functions are ${FUNCTION_LIST}`)
      const v = this.env.get(t.text)
      if (!v) this.fail(t, `${t.text} is used before it is assigned`)
      return v
    }
    if (this.isOp('(')) {
      this.pos++
      const inner = this.expression(t)
      this.close(t)
      return inner
    }
    const got = t.kind === 'sep' || t.kind === 'eof' ? '' : `, got ${describe(t)}`
    return this.fail(t, `expected an expression after '${after.text}'${got}`)
  }

  private call(name: Token, fn: FunctionName): Operand {
    const open = this.tok
    if (!this.isOp('(')) this.fail(open, `${fn} is a function; call it as ${fn}(${FUNCTIONS[fn].arity === 2 ? 'a, b' : 'x'})`)
    this.pos++
    const args: Operand[] = [this.expression(open)]
    while (this.isOp(',')) {
      const comma = this.tok
      this.pos++
      args.push(this.expression(comma))
    }
    this.close(open)
    const { arity } = FUNCTIONS[fn]
    if (args.length !== arity) this.fail(name, `${fn} takes ${arity} argument${arity > 1 ? 's' : ''}, got ${args.length}`)
    const [x, y] = args as [Operand, Operand | undefined]
    if (typeof x === 'number' && (y === undefined || typeof y === 'number')) {
      return this.constant(name, (FUNCTIONS[fn].num as (a: number, b: number) => number)(x, y ?? 0), `${fn}(${args.join(', ')})`)
    }
    const first = typeof x === 'number' ? new Value(x) : x
    return this.track(name, () => (FUNCTIONS[fn].val as (v: Value, w: Operand) => Value)(first, y ?? 0))
  }

  private close(open: Token): void {
    if (this.isOp(')')) {
      this.pos++
      return
    }
    this.fail(this.tok, `expected ')' to close the '(' at line ${open.line}, col ${open.col}, got ${describe(this.tok)}`)
  }

  /** `op` is one of + - * / **; numbers fold, anything with a Value builds nodes. */
  private binary(at: Token, l: Operand, r: Operand, op: string): Operand {
    if (op === '**') {
      if (r instanceof Value)
        this.fail(at, `the exponent of ${at.text} must be a number, not a Value (pow has a backward rule for constant exponents only)`)
      if (typeof l === 'number') return this.constant(at, l ** r, `${l} ${at.text} ${r}`)
      return this.track(at, () => l.pow(r))
    }
    if (typeof l === 'number' && typeof r === 'number') {
      if (op === '/' && r === 0) this.fail(at, `division by zero (${l} / 0)`)
      const x = op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : l / r
      return this.constant(at, x, `${l} ${op} ${r}`)
    }
    const a = typeof l === 'number' ? new Value(l) : l
    return this.track(at, () => (op === '+' ? a.add(r) : op === '-' ? a.sub(r) : op === '*' ? a.mul(r) : a.div(r)))
  }

  private constant(at: Token, x: number, what: string): number {
    if (!Number.isFinite(x)) this.fail(at, `${what} is ${x}; a Value must hold a finite number`)
    return x
  }

  /** Build a Value, turning engine errors (log of a negative...) into located ones, and count nodes. */
  private track(at: Token, build: () => Value): Value {
    let v: Value
    try {
      v = build()
    } catch (e) {
      if (e instanceof EngineError && !(e instanceof ExpressionError)) this.fail(at, e.message)
      throw e
    }
    const stack = [v]
    while (stack.length > 0) {
      const n = stack.pop()!
      if (this.seen.has(n)) continue
      this.seen.add(n)
      for (const input of n.inputs) if (!this.seen.has(input)) stack.push(input)
    }
    if (this.seen.size > this.maxNodes) {
      this.fail(at, `the program builds more than ${this.maxNodes} nodes; the explainer draws every one, so keep it smaller`)
    }
    return v
  }

  private unexpectedAfterExpression(): never {
    const t = this.tok
    const prev = this.tokens[this.pos - 1]!
    if (t.kind === 'name' || t.kind === 'num' || (t.kind === 'op' && t.text === '(')) {
      this.fail(t, `expected an operator between '${prev.text}' and '${t.text}' (write ${prev.text}*${t.text} for a product)`)
    }
    return this.fail(t, `expected an operator or the end of the statement, got ${describe(t)}`)
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the program'
  if (t.kind === 'sep') return t.text === ';' ? "';'" : 'the end of the line'
  return `'${t.text}'`
}

/** All Values the roots depend on, each once, inputs first (topoSort is iterative: no recursion). */
function orderOf(roots: readonly Value[]): Value[] {
  const seen = new Set<Value>()
  const order: Value[] = []
  for (const root of roots) {
    if (seen.has(root)) continue
    for (const v of topoSort(root)) {
      if (!seen.has(v)) {
        seen.add(v)
        order.push(v)
      }
    }
  }
  return order
}

/**
 * Parse and evaluate a program, building its Values (data only: call root.backward() for the
 * grads). Throws an ExpressionError (an EngineError, op 'expression', code 'syntax') that says the
 * line, the column and what was expected.
 */
export function parseProgram(source: string, options: ParseOptions = {}): ScalarProgramGraph {
  if (typeof source !== 'string') throw new EngineError('expression', 'argument', `source must be a string, got ${typeof source}`)
  return new Parser(tokenize(source), options.maxNodes ?? MAX_PROGRAM_NODES).program()
}
