// The local backward rule of a graph node as a vector-Jacobian product, with the node's actual
// shapes: what the engine's op does in backward(), in words a student can check against the code.
import type { RequestResult } from '../../../../shared/protocol'
import { fmtBytes, fmtCount, fmtShape, numel } from '../../../composables/use-graph-format'
import { NORM_RULE_OPS, normRule } from './use-graph-vjp-norm'

type GraphNode = RequestResult<'session.graph'>['nodes'][number]

export interface VjpLine {
  /** The operand the gradient is for: "dA", "dx". */
  target: string
  formula: string
  /** The shapes of the product: "[4,10]·[10,2] → [4,2]". */
  shapes: string
  /** Why this one is not computed (an input or a constant), when it is not. */
  skipped?: string
}

export interface VjpRule {
  /** The forward computation: "C = A·B". */
  forward: string
  lines: VjpLine[]
  /** The gate's signature in words. */
  signature: string
  /** What the full Jacobian would have cost, never formed. */
  jacobian: string | null
}

const t = (s: readonly number[]): number[] => (s.length < 2 ? [...s] : [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!])
const S = fmtShape

function jacobianNote(out: readonly number[], parts: [string, readonly number[], string][]): string {
  const n = numel(out)
  const terms = parts.map(
    ([name, s, sym]) => `∂C/∂${name} would be ${sym}${fmtCount(n)}×${fmtCount(numel(s))} = ${fmtCount(n * numel(s))} numbers`,
  )
  const total = parts.reduce((sum, [, s]) => sum + n * numel(s), 0)
  return `A full Jacobian: ${terms.join('; ')} (${fmtBytes(total)} as float32) — never formed.`
}

function skipReason(input: GraphNode | undefined): string | undefined {
  if (!input || input.grad !== null) return undefined
  return input.kind === 'input' ? `not needed: ${input.label || 'this operand'} is an input` : 'not needed: a constant'
}

function matmulRule(node: GraphNode, a: GraphNode, b: GraphNode): VjpRule {
  const [A, B, C] = [a.shape, b.shape, node.shape]
  const transA = node.transA ?? false
  const transB = node.transB ?? false
  const opA = transA ? 'Aᵀ' : 'A'
  const opB = transB ? 'Bᵀ' : 'B'
  // The two VJPs for each transpose combination: [formula, the shapes it multiplies].
  const [dA, dB]: [string, string][] =
    !transA && !transB
      ? [
          ['dC·Bᵀ', `${S(C)}·${S(t(B))}`],
          ['Aᵀ·dC', `${S(t(A))}·${S(C)}`],
        ]
      : !transA
        ? [
            ['dC·B', `${S(C)}·${S(B)}`],
            ['dCᵀ·A', `${S(t(C))}·${S(A)}`],
          ]
        : !transB
          ? [
              ['B·dCᵀ', `${S(B)}·${S(t(C))}`],
              ['A·dC', `${S(A)}·${S(C)}`],
            ]
          : [
              ['Bᵀ·dCᵀ', `${S(t(B))}·${S(t(C))}`],
              ['dCᵀ·Aᵀ', `${S(t(C))}·${S(t(A))}`],
            ]
  const m = C[C.length - 2] ?? 1
  const n = C[C.length - 1] ?? 1
  const k = transA ? (A[A.length - 2] ?? 1) : (A[A.length - 1] ?? 1)
  return {
    forward: `C = ${opA}·${opB}: ${S(transA ? t(A) : A)}·${S(transB ? t(B) : B)} → ${S(C)}  (m=${m}, k=${k}, n=${n})`,
    lines: [
      { target: 'dA', formula: `dA = ${dA[0]}`, shapes: `${dA[1]} → ${S(A)}`, skipped: skipReason(a) },
      { target: 'dB', formula: `dB = ${dB[0]}`, shapes: `${dB[1]} → ${S(B)}`, skipped: skipReason(b) },
    ],
    signature: 'Two matrix products with the upstream gradient dC; the transposes are flags to the kernel, never copies.',
    jacobian: jacobianNote(C, [
      ['A', A, C.length === 2 ? '(m·n)×(m·k) = ' : ''],
      ['B', B, C.length === 2 ? '(m·n)×(k·n) = ' : ''],
    ]),
  }
}

function broadcastNote(from: readonly number[], to: readonly number[]): string {
  return numel(from) === numel(to) && from.length === to.length
    ? `${S(from)} → ${S(to)}`
    : `${S(from)} summed over broadcast dims → ${S(to)}`
}

function binaryRule(node: GraphNode, a: GraphNode, b: GraphNode): VjpRule {
  const C = node.shape
  if (node.op === 'add') {
    return {
      forward: `C = A + B: ${S(a.shape)} + ${S(b.shape)} → ${S(C)}`,
      lines: [
        { target: 'dA', formula: 'dA = dC', shapes: broadcastNote(C, a.shape), skipped: skipReason(a) },
        { target: 'dB', formula: 'dB = dC', shapes: broadcastNote(C, b.shape), skipped: skipReason(b) },
      ],
      signature:
        'add distributes: it passes dC to both operands unchanged; an operand that was broadcast (a bias added to every row) gets dC summed over the broadcast dims — once, in autograd.',
      jacobian: `The Jacobian is an identity: ${fmtCount(numel(C))}² numbers, all but ${fmtCount(numel(C))} zero — never formed.`,
    }
  }
  return {
    forward: `C = A ⊙ B: ${S(a.shape)} ⊙ ${S(b.shape)} → ${S(C)}`,
    lines: [
      { target: 'dA', formula: 'dA = dC ⊙ B', shapes: broadcastNote(C, a.shape), skipped: skipReason(a) },
      { target: 'dB', formula: 'dB = dC ⊙ A', shapes: broadcastNote(C, b.shape), skipped: skipReason(b) },
    ],
    signature: 'mul swaps: each operand’s gradient is the upstream gradient times the other operand (broadcast operands are summed back).',
    jacobian: `The Jacobian is diagonal: ${fmtCount(numel(C))}² numbers, all but ${fmtCount(numel(C))} zero — never formed.`,
  }
}

const UNARY: Record<string, [forward: string, formula: string, signature: string]> = {
  relu: ['y = max(x, 0)', 'dx = dC ⊙ 1[x > 0]', 'relu masks: the gradient passes where the input was positive and stops elsewhere.'],
  leakyRelu: [
    'y = x > 0 ? x : 0.01·x',
    'dx = dC ⊙ (x > 0 ? 1 : 0.01)',
    'leaky relu masks, but lets 1% through on the negative side so units never die.',
  ],
  tanh: ['y = tanh x', 'dx = dC ⊙ (1 − y²)', 'tanh reuses its output: 1 − y² is near 0 when the unit saturates — where gradients vanish.'],
  sigmoid: ['y = σ(x)', 'dx = dC ⊙ y(1 − y)', 'sigmoid reuses its output: y(1 − y) is at most ¼, so stacked sigmoids shrink gradients.'],
  gelu: ['y = x·Φ(x)', 'dx = dC ⊙ (Φ(x) + x·φ(x))', 'gelu: a smooth relu; its derivative is the Gaussian CDF plus x times the density.'],
  exp: ['y = eˣ', 'dx = dC ⊙ y', 'exp is its own derivative: the rule reuses the output y.'],
  log: ['y = ln x', 'dx = dC / x', 'log divides by its input: small inputs give large gradients.'],
  pow: ['y = xⁿ', 'dx = dC ⊙ n·xⁿ⁻¹', 'pow: the power rule, elementwise (div and sqrt are built from it).'],
}

function shapeRule(node: GraphNode, x: GraphNode): VjpRule {
  const [X, Y] = [x.shape, node.shape]
  const rules: Record<string, [string, string, string, string]> = {
    sum: [
      `y = Σ x: ${S(X)} → ${S(Y)}`,
      'dx = broadcast dC back to x',
      `${S(Y)} → ${S(X)}`,
      'sum broadcasts: every input element receives the same upstream gradient.',
    ],
    max: [
      `y = max x: ${S(X)} → ${S(Y)}`,
      'dx = dC routed to the argmax',
      `${S(Y)} → ${S(X)}`,
      'max routes: only the winning element gets the gradient; the others get 0.',
    ],
    reshape: [
      `y = reshape x: ${S(X)} → ${S(Y)}`,
      'dx = reshape(dC)',
      `${S(Y)} → ${S(X)}`,
      'reshape moves the gradient back to the old shape: no arithmetic.',
    ],
    expand: [
      `y = expand x: ${S(X)} → ${S(Y)}`,
      'dx = dC summed over the expanded dims',
      `${S(Y)} → ${S(X)}`,
      'expand is broadcasting made explicit: its gradient sums the copies back.',
    ],
    transpose: [
      `y = xᵀ: ${S(X)} → ${S(Y)}`,
      'dx = transpose(dC)',
      `${S(Y)} → ${S(X)}`,
      'transpose moves the gradient back: swap the axes again.',
    ],
    cast: [
      `y = cast x: ${S(X)}`,
      'dx = cast dC back',
      `${S(Y)} → ${S(X)}`,
      'cast only changes the number type; the gradient is cast back.',
    ],
  }
  const [forward, formula, shapes, signature] = rules[node.op]!
  return {
    forward,
    lines: [{ target: 'dx', formula, shapes, skipped: skipReason(x) }],
    signature,
    jacobian:
      node.op === 'sum' || node.op === 'max'
        ? `A full Jacobian: ${fmtCount(numel(Y))}×${fmtCount(numel(X))} = ${fmtCount(numel(Y) * numel(X))} numbers (${fmtBytes(numel(Y) * numel(X))}) — never formed.`
        : null,
  }
}

/** The fused loss: one node with its own rule (the CPU backend fuses softmax and the log-loss). */
function crossEntropyRule(z: GraphNode): VjpRule {
  const Z = z.shape
  const [n, c] = [Z[0] ?? 1, Z[1] ?? 1]
  return {
    forward: `L = −(1/n)·Σᵢ log softmax(zᵢ)[yᵢ]: ${S(Z)} → []  (n=${n}, classes=${c})`,
    lines: [{ target: 'dz', formula: 'dz = dL · (softmax(z) − onehot(y)) / n', shapes: `[] · ${S(Z)} → ${S(Z)}`, skipped: skipReason(z) }],
    signature:
      'softmax cross-entropy, fused: composed from exp, sum, log and mul its gradient would take five rules; fused, it is the predicted probabilities minus the one-hot labels, averaged over the batch.',
    jacobian: `A full Jacobian would be 1×${fmtCount(numel(Z))}: for a scalar loss the VJP is the gradient itself.`,
  }
}

const LEAVES: Record<string, string> = {
  parameter:
    'A leaf with requiresGrad: no rule of its own. backward() accumulates each contribution with +=; the optimiser then reads .grad.',
  input: 'A leaf that needs no gradient: backward stops here (nobody asks for ∂L/∂x).',
  constant: 'A constant leaf: no gradient flows into it.',
}

/** The rule for `node`, given its inputs in operand order. */
export function vjpRule(node: GraphNode, inputs: readonly GraphNode[]): VjpRule {
  if (node.op === '')
    return {
      forward: `${node.label || 'leaf'}: ${S(node.shape)}`,
      lines: [],
      signature: LEAVES[node.kind] ?? LEAVES['constant']!,
      jacobian: null,
    }
  const [a, b] = inputs
  const rule = ((): VjpRule => {
    if (node.op === 'matmul' && a && b) return matmulRule(node, a, b)
    if ((node.op === 'add' || node.op === 'mul') && a && b) return binaryRule(node, a, b)
    if (a && node.op in UNARY) {
      const [forward, formula, signature] = UNARY[node.op]!
      const n = numel(node.shape)
      return {
        forward: `${forward}: ${S(a.shape)} → ${S(node.shape)}`,
        lines: [{ target: 'dx', formula, shapes: `${S(node.shape)} ⊙ ${S(node.shape)} → ${S(a.shape)}`, skipped: skipReason(a) }],
        signature,
        jacobian: `The Jacobian is diagonal: ${fmtCount(n)}×${fmtCount(n)} numbers, all but ${fmtCount(n)} zero — a VJP is one elementwise product.`,
      }
    }
    if (a && ['sum', 'max', 'reshape', 'expand', 'transpose', 'cast'].includes(node.op)) return shapeRule(node, a)
    if (a && node.op === 'softmaxCrossEntropy') return crossEntropyRule(a)
    if (a && NORM_RULE_OPS.includes(node.op)) return normRule(node, inputs, skipReason)
    return { forward: `${node.op}: → ${S(node.shape)}`, lines: [], signature: `The engine's local rule for ${node.op}.`, jacobian: null }
  })()
  if (node.kind === 'loss') rule.signature = `backward() starts here with dL/dL = 1. ${rule.signature}`
  return rule
}
