// The local-derivative table of the scalar engine: each primitive's forward and its local backward
// side by side, plus the rule in words. Value.backward and backwardSteps both read this table, so
// every derivative formula is written exactly once.

/** What a rule sees of one node: its operand data, its own output, and pow's constant exponent. */
export interface Operands {
  /** first operand's data */
  readonly x: number
  /** second operand's data (0 for a unary op) */
  readonly y: number
  /** the node's forward result; tanh, exp and relu differentiate through it */
  readonly out: number
  /** pow's constant exponent (unused by the other ops) */
  readonly n: number
}

export interface Rule {
  readonly arity: 1 | 2
  forward(x: number, y: number, n: number): number
  /** d out / d operand_i for each operand, in operand order */
  local(o: Operands): readonly number[]
  /** one short sentence for the teaching view; `d` is the local derivative for operand i */
  explain(o: Operands, i: number, d: number): string
}

/** Short number for sentences: 4 significant digits, no trailing zeros. */
export function fmt(v: number): string {
  return String(Number(v.toPrecision(4)))
}

export const RULES = {
  add: {
    arity: 2,
    forward: (x, y) => x + y,
    local: () => [1, 1],
    explain: () => 'add distributes: passes the upstream gradient unchanged (local derivative 1)',
  },
  mul: {
    arity: 2,
    forward: (x, y) => x * y,
    // "mul swaps": each operand's derivative is the other operand
    local: ({ x, y }) => [y, x],
    explain: (o, i) => `mul swaps: local derivative is the other operand (${fmt(i === 0 ? o.y : o.x)})`,
  },
  pow: {
    arity: 1,
    forward: (x, _y, n) => x ** n,
    local: ({ x, n }) => [n * x ** (n - 1)],
    explain: ({ x, n }, _i, d) => `pow: n·x^(n-1) = ${fmt(n)}·${fmt(x)}^${fmt(n - 1)} = ${fmt(d)}`,
  },
  exp: {
    arity: 1,
    forward: (x) => Math.exp(x),
    // e^x is its own derivative, so reuse the output instead of recomputing it
    local: ({ out }) => [out],
    explain: ({ out }) => `exp: e^x is its own derivative = ${fmt(out)}`,
  },
  log: {
    arity: 1,
    forward: (x) => Math.log(x),
    local: ({ x }) => [1 / x],
    explain: ({ x }, _i, d) => `log: 1/x = 1/${fmt(x)} = ${fmt(d)}`,
  },
  tanh: {
    arity: 1,
    forward: (x) => Math.tanh(x),
    local: ({ out }) => [1 - out * out],
    explain: ({ out }, _i, d) => `tanh: 1 - tanh² = 1 - ${fmt(out)}² = ${fmt(d)}`,
  },
  relu: {
    arity: 1,
    forward: (x) => (x < 0 ? 0 : x),
    // at exactly 0 we pick 0, as micrograd and PyTorch do
    local: ({ out }) => [out > 0 ? 1 : 0],
    explain: ({ out }, _i, d) => `relu routes: 1 if the output was positive else 0 (output ${fmt(out)}, so ${d})`,
  },
  max: {
    arity: 2,
    forward: (x, y) => (x >= y ? x : y),
    // At a tie the first operand takes the whole gradient (like argmax picking the first maximum),
    // so the two contributions still sum to the upstream gradient.
    local: ({ x, y }) => (x >= y ? [1, 0] : [0, 1]),
    explain: ({ x, y }, i, d) =>
      `max routes: the gradient goes to the larger operand (${fmt(x)} vs ${fmt(y)}${x === y ? ', a tie: the first wins' : ''}), so operand ${i + 1} gets ${d}`,
  },
} satisfies Record<string, Rule>

/** The ops that have a backward rule; everything else (sub, neg, div) is composed from these. */
export type ScalarOp = keyof typeof RULES

export function isScalarOp(op: string): op is ScalarOp {
  return Object.hasOwn(RULES, op)
}
