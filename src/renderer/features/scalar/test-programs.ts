// Hand-written host replies for the renderer's unit tests (the seed graph and `b = a + a`), in the
// exact shape of the protocol's ScalarProgram. Numbers follow micrograd's lecture.
import type { ScalarProgram, ScalarStep } from './composables/use-scalar-replay'

type Leaf = [id: number, label: string, data: number]

const leaf = ([id, label, data]: Leaf) => ({ id, label, op: '' as const, data, grad: 0, inputs: [] })

function step(
  nodeId: number,
  inputId: number,
  inputIndex: number,
  upstream: number,
  local: number,
  before: number,
  rule: string,
  accumulate = true,
): ScalarStep {
  const contribution = upstream * local
  return {
    nodeId,
    inputId,
    inputIndex,
    upstream,
    localDerivative: local,
    contribution,
    gradBefore: before,
    gradAfter: accumulate ? before + contribution : contribution,
    rule,
  }
}

const ADD = 'add distributes: passes the upstream gradient unchanged (local derivative 1)'
const mulRule = (other: number) => `mul swaps: local derivative is the other operand (${other})`

/** a = 2; b = -3; c = 10; e = a*b; d = e + c; f = -2; L = d*f */
export function seedProgram(): ScalarProgram {
  const steps = [
    step(6, 4, 0, 1, -2, 0, mulRule(-2)),
    step(6, 5, 1, 1, 4, 0, mulRule(4)),
    step(4, 3, 0, -2, 1, 0, ADD),
    step(4, 2, 1, -2, 1, 0, ADD),
    step(3, 0, 0, -2, -3, 0, mulRule(-3)),
    step(3, 1, 1, -2, 2, 0, mulRule(2)),
  ]
  const grads = new Map([
    [0, 6],
    [1, -4],
    [2, -2],
    [3, -2],
    [4, -2],
    [5, 4],
    [6, 1],
  ])
  const nodes = [
    leaf([0, 'a', 2]),
    leaf([1, 'b', -3]),
    leaf([2, 'c', 10]),
    { id: 3, label: 'e', op: 'mul' as const, data: -6, grad: 0, inputs: [0, 1] },
    { id: 4, label: 'd', op: 'add' as const, data: 4, grad: 0, inputs: [3, 2] },
    leaf([5, 'f', -2]),
    { id: 6, label: 'L', op: 'mul' as const, data: -8, grad: 0, inputs: [4, 5] },
  ].map((n) => ({ ...n, grad: grads.get(n.id)! }))
  return {
    nodes,
    rootId: 6,
    variables: ['a', 'b', 'c', 'e', 'd', 'f', 'L'].map((name) => ({ name, nodeId: nodes.find((n) => n.label === name)!.id })),
    steps,
    wrongSteps: steps.map((s) => ({ ...s })),
    wrongGrads: nodes.map((n) => ({ nodeId: n.id, grad: n.grad })),
  }
}

/** a = 3; b = a + a: a receives two contributions, 0 + 1 = 1 then 1 + 1 = 2 (only 1 with `=`). */
export function reuseProgram(): ScalarProgram {
  return {
    nodes: [
      { id: 0, label: 'a', op: '', data: 3, grad: 2, inputs: [] },
      { id: 1, label: 'b', op: 'add', data: 6, grad: 1, inputs: [0, 0] },
    ],
    rootId: 1,
    variables: [
      { name: 'a', nodeId: 0 },
      { name: 'b', nodeId: 1 },
    ],
    steps: [step(1, 0, 0, 1, 1, 0, ADD), step(1, 0, 1, 1, 1, 1, ADD)],
    wrongSteps: [step(1, 0, 0, 1, 1, 0, ADD, false), step(1, 0, 1, 1, 1, 1, ADD, false)],
    wrongGrads: [
      { nodeId: 0, grad: 1 },
      { nodeId: 1, grad: 1 },
    ],
  }
}
