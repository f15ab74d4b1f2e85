import { describe, expect, it } from 'vitest'
import type { RequestResult } from '../../../../shared/protocol'
import { mlpGraph } from '../../../stores/inspect-fixtures'
import { inputsOf } from './use-graph-layout'
import { vjpRule } from './use-graph-vjp'

type GraphNode = RequestResult<'session.graph'>['nodes'][number]
const stats = { mean: 0, std: 0, min: 0, max: 0, norm: 1, nonFinite: 0 }
const t = (shape: number[], extra: Partial<GraphNode> = {}): GraphNode => ({
  id: 0,
  op: '',
  label: '',
  kind: 'op',
  shape,
  value: stats,
  grad: stats,
  ...extra,
})

describe('VJP rules with shapes', () => {
  it('the fused softmax cross-entropy loss: softmax minus one-hot over n, with the logits shape', () => {
    const loss = t([], { op: 'softmaxCrossEntropy', kind: 'loss' })
    const rule = vjpRule(loss, [t([4, 3])])
    expect(rule.forward).toContain('(n=4, classes=3)')
    expect(rule.lines).toEqual([
      { target: 'dz', formula: 'dz = dL · (softmax(z) − onehot(y)) / n', shapes: '[] · [4,3] → [4,3]', skipped: undefined },
    ])
    expect(rule.signature).toMatch(/^backward\(\) starts here/)
  })

  it('matmul: dA = dC·Bᵀ and dB = Aᵀ·dC with the shapes, the input operand skipped, and the Jacobian never formed', () => {
    const s = mlpGraph()
    const mm = s.nodes.find((n) => n.op === 'matmul')!
    const rule = vjpRule(mm, inputsOf(s, mm.id))
    expect(rule.forward).toContain('C = A·B: [4,2]·[2,10] → [4,10]')
    expect(rule.lines).toEqual([
      { target: 'dA', formula: 'dA = dC·Bᵀ', shapes: '[4,10]·[10,2] → [4,2]', skipped: 'not needed: input x is an input' },
      { target: 'dB', formula: 'dB = Aᵀ·dC', shapes: '[2,4]·[4,10] → [2,10]', skipped: undefined },
    ])
    // (m·n)×(m·k) = 40×8 and (m·n)×(k·n) = 40×20 numbers.
    expect(rule.jacobian).toContain('(m·n)×(m·k) = 40×8 = 320 numbers')
    expect(rule.jacobian).toContain('(m·n)×(k·n) = 40×20 = 800 numbers')
    expect(rule.jacobian).toContain('never formed')
  })

  it('matmul with transposed operands follows the engine’s rule for each flag', () => {
    const a = t([4, 3])
    const b = t([5, 3])
    const c = (transA: boolean, transB: boolean, shape: number[]) => t(shape, { op: 'matmul', transA, transB })
    expect(vjpRule(c(false, true, [4, 5]), [a, b]).lines.map((l) => `${l.formula} ${l.shapes}`)).toEqual([
      'dA = dC·B [4,5]·[5,3] → [4,3]',
      'dB = dCᵀ·A [5,4]·[4,3] → [5,3]',
    ])
    const a2 = t([3, 4])
    expect(vjpRule(c(true, false, [4, 3]), [a2, t([3, 3])]).lines.map((l) => l.formula)).toEqual(['dA = B·dCᵀ', 'dB = A·dC'])
    expect(vjpRule(c(true, true, [4, 5]), [a2, b]).lines.map((l) => l.formula)).toEqual(['dA = Bᵀ·dCᵀ', 'dB = dCᵀ·Aᵀ'])
  })

  it('a 512-wide layer: the Jacobian it avoids is counted in millions and gigabytes', () => {
    const rule = vjpRule(t([4, 512], { op: 'matmul', transA: false, transB: false }), [
      t([4, 512]),
      t([512, 512], { kind: 'parameter', op: '' }),
    ])
    expect(rule.jacobian).toMatch(/2048×262k = 537M numbers/)
    expect(rule.jacobian).toMatch(/GB as float32/)
  })

  it('add passes dC through and sums a broadcast bias; mul swaps', () => {
    const add = vjpRule(t([4, 10], { op: 'add' }), [t([4, 10]), t([10], { kind: 'parameter' })])
    expect(add.lines.map((l) => `${l.formula}: ${l.shapes}`)).toEqual([
      'dA = dC: [4,10] → [4,10]',
      'dB = dC: [4,10] summed over broadcast dims → [10]',
    ])
    expect(add.signature).toMatch(/passes dC to both/)
    const mul = vjpRule(t([4, 2], { op: 'mul' }), [t([4, 2]), t([4, 2], { grad: null, kind: 'constant' })])
    expect(mul.lines.map((l) => l.formula)).toEqual(['dA = dC ⊙ B', 'dB = dC ⊙ A'])
    expect(mul.lines[1]!.skipped).toBe('not needed: a constant')
    expect(mul.signature).toMatch(/swaps/)
  })

  it('elementwise, reduction and shape ops name their local derivative', () => {
    const x = t([4, 10])
    const rule = (op: string, shape = [4, 10]) => vjpRule(t(shape, { op }), [x])
    expect(rule('relu').lines[0]!.formula).toBe('dx = dC ⊙ 1[x > 0]')
    expect(rule('relu').signature).toMatch(/mask/)
    expect(rule('tanh').lines[0]!.formula).toBe('dx = dC ⊙ (1 − y²)')
    expect(rule('exp').lines[0]!.formula).toBe('dx = dC ⊙ y')
    expect(rule('log').lines[0]!.formula).toBe('dx = dC / x')
    expect(rule('pow').lines[0]!.formula).toBe('dx = dC ⊙ n·xⁿ⁻¹')
    expect(rule('sum', [4, 1]).lines[0]).toMatchObject({ formula: 'dx = broadcast dC back to x', shapes: '[4,1] → [4,10]' })
    expect(rule('max', [4, 1]).signature).toMatch(/routes/)
    expect(rule('reshape', [40]).lines[0]!.shapes).toBe('[40] → [4,10]')
    expect(rule('tanh').jacobian).toMatch(/diagonal: 40×40/)
  })

  it('the fused norms: BatchNorm and LayerNorm state their closed-form VJP for x, γ and β with the sums they take', () => {
    const x = t([128, 256])
    const [w, b] = [t([256], { kind: 'parameter' }), t([256], { kind: 'parameter' })]
    const bn = vjpRule(t([128, 256], { op: 'batchNorm' }), [x, w, b])
    expect(bn.forward).toBe('y = (x − mean)/√(var + ε)·γ + β, statistics per feature over the batch (n=128): [128,256] → [128,256]')
    expect(bn.lines.map((l) => [l.target, l.formula])).toEqual([
      ['dx', 'dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))'],
      ['dγ', 'dγ = Σ dy·x̂'],
      ['dβ', 'dβ = Σ dy'],
    ])
    expect(bn.lines[0]!.shapes).toBe('[128,256] with 256 pairs of sums → [128,256]')
    expect(bn.jacobian).toMatch(/only 256 blocks of 128×128/)
    const ln = vjpRule(t([4, 10], { op: 'layerNorm' }), [t([4, 10], { kind: 'input', grad: null, label: 'input x' })])
    expect(ln.forward).toContain('per row over its 10 features (n=10)')
    expect(ln.lines).toEqual([
      {
        target: 'dx',
        formula: 'dx = invstd/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  dx̂ = dy·γ',
        shapes: '[4,10] with 4 pairs of sums → [4,10]',
        skipped: 'not needed: input x is an input',
      },
    ])
    expect(ln.signature).not.toMatch(/engine's local rule/)
  })

  it('leaves and the loss say where backward stops and starts', () => {
    const s = mlpGraph()
    expect(
      vjpRule(
        s.nodes.find((n) => n.kind === 'parameter')!,
        [],
      ).signature,
    ).toMatch(/\+=/)
    expect(
      vjpRule(
        s.nodes.find((n) => n.kind === 'input')!,
        [],
      ).signature,
    ).toMatch(/stops here/)
    const loss = s.nodes.find((n) => n.id === s.rootId)!
    expect(vjpRule(loss, inputsOf(s, loss.id)).signature).toMatch(/^backward\(\) starts here with dL\/dL = 1/)
  })
})
