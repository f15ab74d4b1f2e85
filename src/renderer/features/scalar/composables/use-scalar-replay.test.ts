import { describe, expect, it } from 'vitest'
import { ScalarProgram as ScalarProgramSchema } from '../../../../shared/protocol-inspect'
import { reuseProgram, seedProgram } from '../test-programs'
import {
  FORWARD,
  accumulation,
  asOperand,
  contributionsAt,
  fmtNum,
  gateFormula,
  gradsAt,
  nameNodes,
  variableRows,
  stepAt,
  useCounts,
} from './use-scalar-replay'

describe('scalar replay', () => {
  it('the fixtures are valid protocol replies', () => {
    expect(ScalarProgramSchema.safeParse(seedProgram()).success).toBe(true)
    expect(ScalarProgramSchema.safeParse(reuseProgram()).success).toBe(true)
  })

  it('shows no gradient in the forward pass, the seed at 0, then each step’s result', () => {
    const p = seedProgram()
    expect(gradsAt(p.rootId, p.steps, FORWARD).size).toBe(0)
    expect([...gradsAt(p.rootId, p.steps, 0)]).toEqual([[6, 1]])
    const afterTwo = gradsAt(p.rootId, p.steps, 2)
    expect(afterTwo.get(4)).toBe(-2)
    expect(afterTwo.get(5)).toBe(4)
    expect(afterTwo.has(0)).toBe(false)
    // The whole pass reproduces the host's final grads.
    const all = gradsAt(p.rootId, p.steps, p.steps.length)
    for (const n of p.nodes) expect(all.get(n.id)).toBe(n.grad)
  })

  it('lists each contribution a reused value receives, and the `=` pass keeps only the last', () => {
    const p = reuseProgram()
    expect(useCounts(p.steps).get(0)).toBe(2)
    expect(contributionsAt(p.steps, 1).get(0)?.map(accumulation)).toEqual(['0 + 1 = 1'])
    expect(contributionsAt(p.steps, 2).get(0)?.map(accumulation)).toEqual(['0 + 1 = 1', '1 + 1 = 2'])
    expect(gradsAt(p.rootId, p.steps, 2).get(0)).toBe(2)
    expect(gradsAt(p.rootId, p.wrongSteps, 2).get(0)).toBe(1)
    expect(stepAt(p.steps, 0)).toBeNull()
    expect(stepAt(p.steps, 2)).toBe(p.steps[1])
  })

  it('names nodes by label, constants by value, and keys duplicates by id', () => {
    const names = nameNodes([
      { id: 0, label: 'a', op: '', data: 2, grad: 0, inputs: [] },
      { id: 1, label: '', op: '', data: -1, grad: 0, inputs: [] },
      { id: 2, label: '', op: 'mul', data: -2, grad: 0, inputs: [0, 1] },
      { id: 3, label: 'x', op: '', data: 1, grad: 0, inputs: [] },
      { id: 4, label: 'x', op: 'pow', data: 1, grad: 0, inputs: [3], exponent: 2 },
    ])
    expect(names.get(0)).toEqual({ key: 'a', name: 'a', symbol: 'a' })
    // A literal reads as its value inside formulas, and as c₁ after ∂ and before .grad.
    expect(names.get(1)).toEqual({ key: 'n1', name: '-1', symbol: 'c₁' })
    expect(names.get(2)).toEqual({ key: 'n2', name: 'a·(-1)', symbol: 'a·(-1)' })
    expect(names.get(4)?.key).toBe('n4')
    const p = seedProgram()
    const seedNames = nameNodes(p.nodes)
    expect(gateFormula(p.nodes[6]!, seedNames)).toBe('L = d · f')
    expect(gateFormula(p.nodes[4]!, seedNames)).toBe('d = e + c')
    expect(gateFormula(names && { id: 2, label: '', op: 'mul', data: -2, grad: 0, inputs: [0, 1] }, names)).toBe('a · (-1)')
  })

  it('lists a re-bound Value once: `x=1; x=2; L=x` shows x, x₂ and L as the same Value as x₂', () => {
    // What the host answers for that program (inspect-scalar.ts): L binds x₂'s node itself.
    const nodes = [
      { id: 0, label: 'x', op: '' as const, data: 1, grad: 0, inputs: [] },
      { id: 1, label: 'x₂', op: '' as const, data: 2, grad: 1, inputs: [] },
    ]
    const vars = [
      { name: 'x', nodeId: 0 },
      { name: 'x', nodeId: 1 },
      { name: 'L', nodeId: 1 },
    ]
    expect(variableRows(vars, new Map(nodes.map((n) => [n.id, n])))).toEqual([
      { name: 'x', nodeId: 0, aliasOf: null },
      { name: 'x₂', nodeId: 1, aliasOf: null },
      { name: 'L', nodeId: 1, aliasOf: 'x₂' },
    ])
    // `b = a` on its own: b is a's Value, under a's label.
    expect(
      variableRows(
        [
          { name: 'a', nodeId: 0 },
          { name: 'b', nodeId: 0 },
        ],
        new Map([[0, { ...nodes[0]!, label: 'a' }]]),
      ),
    ).toEqual([
      { name: 'a', nodeId: 0, aliasOf: null },
      { name: 'b', nodeId: 0, aliasOf: 'a' },
    ])
  })

  it('parenthesises compound names inside formulas, but not function arguments', () => {
    const names = nameNodes([
      { id: 0, label: 'a', op: '', data: 2, grad: 0, inputs: [] },
      { id: 1, label: 'b', op: '', data: 1, grad: 0, inputs: [] },
      { id: 2, label: '', op: 'add', data: 3, grad: 0, inputs: [0, 1] },
      { id: 3, label: '', op: 'relu', data: 3, grad: 0, inputs: [2] },
      { id: 4, label: '', op: 'mul', data: 6, grad: 0, inputs: [2, 0] },
      { id: 5, label: '', op: '', data: -1, grad: 0, inputs: [] },
      { id: 6, label: '', op: 'add', data: 1, grad: 0, inputs: [0, 5] },
    ])
    expect(names.get(3)!.name).toBe('relu(a + b)')
    expect(names.get(4)!.name).toBe('(a + b)·a')
    expect(names.get(6)!.name).toBe('a + (-1)')
    expect(asOperand('relu(a + b)')).toBe('relu(a + b)')
    expect(asOperand('a + b')).toBe('(a + b)')
    expect(asOperand('c₂')).toBe('c₂')
  })

  it('formats numbers short and stable', () => {
    expect(fmtNum(6)).toBe('6')
    expect(fmtNum(-0)).toBe('0')
    expect(fmtNum(0.70710678)).toBe('0.7071')
    expect(fmtNum(6.8813735870195432)).toBe('6.881')
    expect(fmtNum(1e-7)).toBe('1.00e-7')
  })
})
