// scalar.evaluate: a program of the explainer's expression language, evaluated, differentiated and
// replayed step by step (with `+=`, and with the `=` bug for comparison), as plain data. Node ids
// are positions in `nodes` (inputs first), so the same program always gets the same ids.
import { backwardSteps, EngineError, gradsAfter, parseProgram, type BackwardStep, type Value } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { HostError } from './errors'

export type ScalarProgramResult = RequestResult<'scalar.evaluate'>
type Step = ScalarProgramResult['steps'][number]

export function evaluateScalar(source: string): ScalarProgramResult {
  // Parse errors, values that are not finite (exp(1000)) and gradients that are not (x**0.5 at 0):
  // the program is what is wrong, so they are payload errors, and the messages say where.
  const program = asPayloadError('', () => parseProgram(source))
  asPayloadError('scalar.evaluate: backward failed: ', () => program.root.backward())
  const { root, bindings, nodes } = program
  const ids = new Map<Value, number>(nodes.map((v, i) => [v, i]))
  const id = (v: Value) => ids.get(v)!
  const toStep = (s: BackwardStep): Step => ({
    nodeId: id(s.node),
    inputId: id(s.input),
    inputIndex: s.inputIndex,
    upstream: s.upstream,
    localDerivative: s.localDerivative,
    contribution: s.contribution,
    gradBefore: s.gradBefore,
    gradAfter: s.gradAfter,
    rule: s.rule,
  })
  const wrong = backwardSteps(root, { accumulate: false })
  const wrongGrads = gradsAfter(root, wrong)
  const result: ScalarProgramResult = {
    nodes: nodes.map((v) => {
      const node: ScalarProgramResult['nodes'][number] = {
        id: id(v),
        label: v.label,
        op: v.op,
        data: v.data,
        grad: v.grad,
        inputs: v.inputs.map(id),
      }
      if (v.exponent !== undefined) node.exponent = v.exponent
      return node
    }),
    rootId: id(root),
    variables: bindings.map((b) => ({ name: b.name, nodeId: id(b.value) })),
    steps: backwardSteps(root).map(toStep),
    wrongSteps: wrong.map(toStep),
    // Nodes the wrong pass never reaches (not used by the root) keep a gradient of 0.
    wrongGrads: nodes.map((v) => ({ nodeId: id(v), grad: wrongGrads.get(v) ?? 0 })),
  }
  const bad = firstNonFinite(result)
  if (bad)
    throw new HostError('invalid_payload', `scalar.evaluate: ${bad} is not a finite number; the numbers overflow, so make them smaller`)
  return result
}

function asPayloadError<T>(prefix: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof EngineError) throw new HostError('invalid_payload', `${prefix}${e.message}`)
    throw e
  }
}

/** The protocol carries finite numbers only: name the first number that is not, if any. */
function firstNonFinite(p: ScalarProgramResult): string | null {
  const label = (nodeId: number) => p.nodes[nodeId].label || `node ${nodeId}`
  for (const n of p.nodes) {
    if (!Number.isFinite(n.data)) return `the value of ${label(n.id)}`
    if (!Number.isFinite(n.grad)) return `the gradient of ${label(n.id)}`
  }
  for (const s of [...p.steps, ...p.wrongSteps]) {
    for (const k of ['upstream', 'localDerivative', 'contribution', 'gradBefore', 'gradAfter'] as const) {
      if (!Number.isFinite(s[k])) return `the ${k} of the step from ${label(s.nodeId)} to ${label(s.inputId)}`
    }
  }
  for (const g of p.wrongGrads) if (!Number.isFinite(g.grad)) return `the wrong-pass gradient of ${label(g.nodeId)}`
  return null
}
