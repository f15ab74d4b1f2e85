// Replaying the host's backward steps: which gradients are set after the first k steps, each
// value's contributions so far, and names for nodes. No derivative is computed here; every number
// shown comes from the host's ScalarProgram (steps or wrongSteps).
import type { RequestResult } from '../../../../shared/protocol'

export type ScalarProgram = RequestResult<'scalar.evaluate'>
export type ScalarNode = ScalarProgram['nodes'][number]
export type ScalarStep = ScalarProgram['steps'][number]
export type ScalarOp = ScalarNode['op']

/**
 * Where the replay stands. FORWARD: data only, no gradient yet. 0: backward has seeded the root's
 * gradient with 1. k > 0: the first k steps have run.
 */
export const FORWARD = -1

/** Symbols drawn in the op circles (micrograd's draw_dot draws the op name there). */
export const OP_SYMBOLS: Record<Exclude<ScalarOp, ''>, string> = {
  add: '+',
  mul: '×',
  pow: 'xⁿ',
  exp: 'exp',
  log: 'log',
  tanh: 'tanh',
  relu: 'relu',
  max: 'max',
}

/** Each gate's signature in words: what it does to the gradient flowing back through it. */
export const GATE_SIGNATURES: Record<Exclude<ScalarOp, ''>, string> = {
  add: 'add distributes: every operand gets the upstream gradient unchanged (local derivative 1)',
  mul: 'mul swaps: each operand’s local derivative is the other operand’s value',
  pow: 'pow: the local derivative of xⁿ is n·xⁿ⁻¹',
  exp: 'exp: eˣ is its own derivative',
  log: 'log: the local derivative of ln x is 1/x',
  tanh: 'tanh: the local derivative is 1 − tanh², read off the output',
  relu: 'relu routes: the gradient passes where the output was positive, 0 elsewhere',
  max: 'max routes: the whole gradient goes to the larger operand, 0 to the other',
}

/** Short, stable number text: up to 4 significant digits, no trailing zeros, no "-0". */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  if (Object.is(x, -0) || x === 0) return '0'
  const abs = Math.abs(x)
  if (abs >= 1e5 || abs < 1e-4) return x.toExponential(2)
  return String(Number(x.toPrecision(4)))
}

/** A number inside an expression: negative ones in parentheses, "1 + (-2)". */
export function fmtTerm(x: number): string {
  const s = fmtNum(x)
  return s.startsWith('-') ? `(${s})` : s
}

export interface NodeNames {
  /** data-testid suffix: the label when it names one node, else `n<id>`. */
  key: string
  /** How sentences refer to it: its label, a constant's value, or its formula (`x1·w1`, `b + 4`). */
  name: string
  /**
   * How `∂L/∂·` and `·.grad` refer to it: the name, except for an unlabelled literal, which is
   * c₁, c₂… there (∂L/∂2 would read as a derivative with respect to the number 2).
   */
  symbol: string
}

const SUBSCRIPT_DIGITS = '₀₁₂₃₄₅₆₇₈₉'
const subscript = (n: number) => [...String(n)].map((d) => SUBSCRIPT_DIGITS[Number(d)]).join('')

/** Longer formulas are named t1, t2… instead, so sentences stay readable. */
const MAX_FORMULA_NAME = 18

export function nameNodes(nodes: readonly ScalarNode[]): Map<number, NodeNames> {
  const counts = new Map<string, number>()
  for (const n of nodes) if (n.label) counts.set(n.label, (counts.get(n.label) ?? 0) + 1)
  const names = new Map<number, NodeNames>()
  const raw = (id: number) => names.get(id)?.name ?? `#${id}`
  let temps = 0
  let literals = 0
  // Ids grow in creation order, so every operand is named before the nodes that use it.
  for (const n of [...nodes].sort((a, b) => a.id - b.id)) {
    const unique = n.label !== '' && counts.get(n.label) === 1
    let name = n.label
    if (!name && n.op === '') name = fmtNum(n.data)
    else if (!name) {
      const formula = formulaOf(n, n.inputs.map(raw), '·')
      name = formula.length <= MAX_FORMULA_NAME ? formula : `t${++temps}`
    }
    const symbol = !n.label && n.op === '' ? `c${subscript(++literals)}` : name
    names.set(n.id, { key: unique ? n.label : `n${n.id}`, name, symbol })
  }
  return names
}

/** A name inside a larger formula (or before `.grad`): negative constants and compound formulas
 *  go in parentheses; plain names and function calls stand as they are. */
export function asOperand(name: string): string {
  return name.startsWith('-') || (/[ ·^]/.test(name) && !/^\w+\([^()]*(\([^()]*\)[^()]*)*\)$/.test(name)) ? `(${name})` : name
}

function formulaOf(node: ScalarNode, names: readonly string[], times: string): string {
  const ins = node.op === 'add' ? names.map((n) => (n.startsWith('-') ? `(${n})` : n)) : names.map(asOperand)
  switch (node.op) {
    case '':
      return ''
    case 'add':
      return ins.join(' + ')
    case 'mul':
      return ins.join(times)
    case 'pow':
      return `${ins[0]}^${fmtTerm(node.exponent ?? Number.NaN)}`
    default:
      // Function arguments need no parentheses of their own.
      return `${node.op}(${names.join(', ')})`
  }
}

/** The gate as a formula: `L = d · f`, `o = tanh(n)`; an unnamed gate is just its right side. */
export function gateFormula(node: ScalarNode, names: Map<number, NodeNames>): string {
  const rhs = formulaOf(
    node,
    node.inputs.map((id) => names.get(id)?.name ?? `#${id}`),
    ' · ',
  )
  return node.label ? `${node.label} = ${rhs}` : rhs
}

/** The gradients known after `position` (see FORWARD): root seeded with 1, then each step's result. */
export function gradsAt(rootId: number, steps: readonly ScalarStep[], position: number): Map<number, number> {
  const grads = new Map<number, number>()
  if (position < 0) return grads
  grads.set(rootId, 1)
  for (const s of steps.slice(0, position)) grads.set(s.inputId, s.gradAfter)
  return grads
}

/** The contributions each value has received after `position`, in order. */
export function contributionsAt(steps: readonly ScalarStep[], position: number): Map<number, ScalarStep[]> {
  const byInput = new Map<number, ScalarStep[]>()
  for (const s of steps.slice(0, Math.max(0, position))) {
    const list = byInput.get(s.inputId)
    if (list) list.push(s)
    else byInput.set(s.inputId, [s])
  }
  return byInput
}

/** How many contributions each value receives over the whole pass (a value used twice gets two). */
export function useCounts(steps: readonly ScalarStep[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const s of steps) counts.set(s.inputId, (counts.get(s.inputId) ?? 0) + 1)
  return counts
}

/** `0 + 1 = 1` with `+=`; with the `=` bug the old value is simply overwritten: `= 1`. */
export function accumulation(step: ScalarStep): string {
  return `${fmtNum(step.gradBefore)} + ${fmtTerm(step.contribution)} = ${fmtNum(step.gradAfter)}`
}

/** The step that ran last at `position` (none at FORWARD or at the seed). */
export function stepAt(steps: readonly ScalarStep[], position: number): ScalarStep | null {
  return position >= 1 ? (steps[position - 1] ?? null) : null
}

/** Whether two gradients agree to display precision (the wrong pass is marked where they do not). */
export function sameGrad(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))
}

export interface VariableRow {
  /** The name as the table shows it: a reassigned name's label (c, c₂), else the binding's name. */
  name: string
  nodeId: number
  /** `L = x` binds L to x₂'s Value itself: the Value's own label, shown beside L ("same Value as x₂"). */
  aliasOf: string | null
}

/**
 * The Variables table's rows: one per assignment, except that an assignment that only re-binds a
 * Value another row already shows (`L = x`) says so instead of listing that Value a second time.
 */
export function variableRows(
  variables: readonly { name: string; nodeId: number }[],
  nodesById: ReadonlyMap<number, ScalarNode>,
): VariableRow[] {
  const shown = new Set<number>()
  return variables.map((v) => {
    const label = nodesById.get(v.nodeId)?.label ?? ''
    const own = label !== '' && label.replace(/[₀-₉]+$/, '') === v.name
    const alias = shown.has(v.nodeId) || (label !== '' && !own)
    shown.add(v.nodeId)
    return { name: alias ? v.name : label || v.name, nodeId: v.nodeId, aliasOf: alias ? label || null : null }
  })
}
