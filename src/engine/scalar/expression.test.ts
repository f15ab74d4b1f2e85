// The expression language: what it accepts and builds, the gradients of every preset, and a precise
// message (line, column, what was expected) for each way a program can be wrong.

import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors'
import { backwardSteps, gradsAfter } from './backward-steps'
import { ExpressionError, MAX_PROGRAM_NODES, parseProgram, type ScalarProgramGraph } from './expression'
import { SCALAR_PRESETS } from './presets'
import { topoSort, type Value } from './value'

const preset = (id: string) => SCALAR_PRESETS.find((p) => p.id === id)!.source

/** The Value a name refers to at the end of the program. */
function named(p: ScalarProgramGraph, name: string): Value {
  const b = p.bindings.filter((x) => x.name === name).at(-1)
  if (!b) throw new Error(`no binding ${name}`)
  return b.value
}

function run(source: string): ScalarProgramGraph {
  const p = parseProgram(source)
  p.root.backward()
  return p
}

function error(source: string): ExpressionError {
  try {
    parseProgram(source)
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError)
    expect(e).toBeInstanceOf(EngineError)
    expect((e as EngineError).code).toBe('syntax')
    return e as ExpressionError
  }
  throw new Error(`expected ${JSON.stringify(source)} to be refused`)
}

describe('expression language: the presets give the known gradients', () => {
  it('seed example: dL/da = 6, dL/db = -4, dL/dc = -2, dL/df = 4', () => {
    const p = run(preset('seed'))
    expect(p.root.data).toBe(-8)
    expect(p.root.label).toBe('L')
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'L'].map((n) => named(p, n).grad)).toEqual([6, -4, -2, -2, -2, 4, 1])
    // f = -2 is one leaf holding -2 (numbers fold, as Python floats do), so the graph is the lecture's.
    expect(named(p, 'f').op).toBe('')
    expect(p.nodes.length).toBe(7)
    expect(backwardSteps(p.root).length).toBe(6)
  })

  it('the seed example also parses on one line with semicolons', () => {
    const p = run('a = 2; b = -3; c = 10; e = a*b; d = e + c; f = -2; L = d*f')
    expect(named(p, 'a').grad).toBe(6)
    expect(named(p, 'f').grad).toBe(4)
  })

  it('b = a + a: two contributions summing to 2', () => {
    const p = run(preset('reuse'))
    const a = named(p, 'a')
    expect(a.grad).toBe(2)
    expect(p.root.inputs).toEqual([a, a])
    const steps = backwardSteps(p.root)
    expect(steps.map((s) => [s.contribution, s.gradAfter])).toEqual([
      [1, 1],
      [1, 2],
    ])
    expect(gradsAfter(p.root, backwardSteps(p.root, { accumulate: false })).get(a)).toBe(1)
  })

  it('tanh neuron: x1.grad ≈ -1.5, w1.grad ≈ 1, x2.grad ≈ 0.5, w2.grad = 0', () => {
    const p = run(preset('tanh-neuron'))
    expect(p.root.label).toBe('o')
    expect(p.root.data).toBeCloseTo(Math.SQRT1_2, 12)
    expect(named(p, 'n').grad).toBeCloseTo(0.5, 12)
    expect(named(p, 'x1').grad).toBeCloseTo(-1.5, 12)
    expect(named(p, 'w1').grad).toBeCloseTo(1, 12)
    expect(named(p, 'x2').grad).toBeCloseTo(0.5, 12)
    expect(named(p, 'w2').grad).toBe(0)
    expect(named(p, 'b').grad).toBeCloseTo(0.5, 12)
  })

  it('max: the larger operand takes the gradient, the other none', () => {
    const p = run(preset('max'))
    const m = named(p, 'm')
    expect(m.op).toBe('max')
    expect(m.data).toBe(3)
    expect(named(p, 'a').grad).toBe(9) // dL/dm = 2m = 6, times c = 1.5
    expect(named(p, 'c').grad).toBe(12)
    expect(named(p, 'b').grad).toBe(0)
    expect(backwardSteps(p.root).find((s) => s.op === 'max')!.rule).toBe(
      'max routes: the gradient goes to the larger operand (3 vs 1), so operand 1 gets 1',
    )
  })

  it("micrograd's test_more_ops, with += and reassignment, matches PyTorch", () => {
    const p = run(preset('more-ops'))
    expect(Math.abs(p.root.data - 24.70408163265306)).toBeLessThan(1e-6)
    expect(Math.abs(named(p, 'a').grad - 138.83381924198252)).toBeLessThan(1e-6)
    expect(Math.abs(named(p, 'b').grad - 645.5772594752186)).toBeLessThan(1e-6)
    // Each assignment to c labels its own Value; the name ends on the last one.
    expect(p.bindings.filter((b) => b.name === 'c').map((b) => b.value.label)).toEqual(['c', 'c₂', 'c₃'])
    expect(p.root.label).toBe('g₂')
  })

  it('every preset parses within the node cap', () => {
    for (const { id, source } of SCALAR_PRESETS) expect(parseProgram(source).nodes.length, id).toBeLessThan(MAX_PROGRAM_NODES)
  })
})

describe('expression language: what it accepts', () => {
  it('numbers: integers, decimals, .5, 2., exponents', () => {
    const p = parseProgram('a = 1e-3\nb = .5\nc = 2.\nd = 1.5E2\ne = 3e+1')
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => named(p, n).data)).toEqual([0.001, 0.5, 2, 150, 30])
  })

  it('precedence, right-associative power, unary minus binding looser than power (as in Python)', () => {
    const cases: [string, number][] = [
      ['1 + 2*3', 7],
      ['(1 + 2)*3', 9],
      ['2**3**2', 512],
      ['2^3^2', 512],
      ['-2**2', -4],
      ['2**-1', 0.5],
      ['10 - 4 - 3', 3],
      ['12 / 3 / 2', 2],
      ['-(-3)', 3],
      ['+4', 4],
      ['max(2, 5) + relu(-1) + tanh(0) + exp(0) + log(1)', 6],
    ]
    for (const [expr, want] of cases) expect(parseProgram(`x = ${expr}`).root.data, expr).toBeCloseTo(want, 12)
    // The same with a Value in place of each number: now nodes are built.
    const p = parseProgram('t = 2\nx = t**3**2\ny = -t**2\nz = 10 - t - 3')
    expect([named(p, 'x').data, named(p, 'y').data, named(p, 'z').data]).toEqual([512, -4, 5])
  })

  it('builds nodes the way micrograd does: -a is a*(-1), a - b is a + b*(-1), a / b is a * b**-1', () => {
    const p = parseProgram('a = 2; b = 4; n = -a; s = a - b; q = a / b; w = a**2')
    expect(named(p, 'n').op).toBe('mul')
    expect(named(p, 's').op).toBe('add')
    expect(named(p, 's').inputs[1]!.op).toBe('mul')
    expect(named(p, 'q').op).toBe('mul')
    expect(named(p, 'q').inputs[1]!.exponent).toBe(-1)
    expect(named(p, 'w').exponent).toBe(2)
  })

  it('comments, blank lines, tabs, CRLF and trailing separators', () => {
    const p = parseProgram('# a comment\r\n\ta = 2   # two\r\n\n;;b = a*a;\n# end')
    expect(p.root.data).toBe(4)
    expect(p.bindings.map((b) => [b.name, b.line])).toEqual([
      ['a', 2],
      ['b', 4],
    ])
  })

  it('+=, -=, *=, /= rebind the name to a new Value; the old Value keeps its own label', () => {
    const p = run('x = 3\ny = x\ny *= 2\ny += x\ny -= 1\ny /= 2')
    expect(p.root.data).toBe(4) // ((3*2 + 3) - 1) / 2
    expect(named(p, 'x').grad).toBe(1.5)
    expect(p.bindings.map((b) => b.value.label)).toEqual(['x', 'x', 'y₂', 'y₃', 'y₄', 'y₅'])
  })

  it('the root is the last assigned variable; unused variables are still listed', () => {
    const p = parseProgram('a = 2\nunused = 7\nL = a*a')
    expect(p.root.label).toBe('L')
    expect(p.nodes.map((v) => v.label)).toEqual(['a', 'unused', 'L'])
    // inputs always precede the nodes that use them
    const pos = new Map(p.nodes.map((v, i) => [v, i]))
    for (const v of p.nodes) for (const i of v.inputs) expect(pos.get(i)!).toBeLessThan(pos.get(v)!)
    expect(topoSort(p.root)).toEqual(p.nodes.filter((v) => v.label !== 'unused'))
  })
})

describe('expression language: errors say where and what was expected', () => {
  const cases: [string, string][] = [
    ['a = 2\ne = a*', "line 2, col 7: expected an expression after '*'"],
    ['a = 2\ne = a* )', "line 2, col 8: expected an expression after '*', got ')'"],
    ['a = ', "line 1, col 5: expected an expression after '='"],
    ['a = 2; b = c*a', 'line 1, col 12: c is used before it is assigned'],
    ['a = sin(2)', "line 1, col 5: unknown function 'sin'; the functions are tanh, exp, log, relu, max"],
    ['a = 2; b = a(3)', "line 1, col 12: unknown function 'a'; the functions are tanh, exp, log, relu, max"],
    ['a = tanh', 'line 1, col 9: tanh is a function; call it as tanh(x)'],
    ['a = max(1)', 'line 1, col 5: max takes 2 arguments, got 1'],
    ['a = tanh(1, 2)', 'line 1, col 5: tanh takes 1 argument, got 2'],
    ['a = (1 + 2', "line 1, col 11: expected ')' to close the '(' at line 1, col 5, got the end of the program"],
    ['a = 2 3', "line 1, col 7: expected an operator between '2' and '3' (write 2*3 for a product)"],
    ['x = 1; a = 2x', "line 1, col 13: expected an operator between '2' and 'x' (write 2*x for a product)"],
    ['a = 2 )', "line 1, col 7: expected an operator or the end of the statement, got ')'"],
    ['2 = a', "line 1, col 1: expected a variable name to assign to, got '2'"],
    ['a + 1', "line 1, col 3: expected '=' after 'a' (every statement assigns a name, like L = a*b), got '+'"],
    ['a', "line 1, col 2: expected '=' after 'a' (every statement assigns a name, like L = a*b), got the end of the program"],
    ['exp = 1', 'line 1, col 1: exp is a function and cannot be assigned to'],
    ['c += 1', 'line 1, col 1: c is used before it is assigned (+= needs a value to update)'],
    ['a = 2 $ 3', "line 1, col 7: unexpected character '$'"],
    [
      'a = 2; b = a ** a',
      'line 1, col 14: the exponent of ** must be a number, not a Value (pow has a backward rule for constant exponents only)',
    ],
    ['a = 1 / 0', 'line 1, col 7: division by zero (1 / 0)'],
    ['a = 1e400', 'line 1, col 5: the number 1e400 is too large'],
    ['a = exp(1000)', 'line 1, col 5: exp(1000) is Infinity; a Value must hold a finite number'],
    ['a = 1000; b = exp(a)', 'line 1, col 15: exp: result is Infinity for operand(s) 1000'],
    ['a = -1\nb = log(a)', 'line 2, col 5: log: result is NaN for operand(s) -1'],
    ['a = 0\nb = 1/a', 'line 2, col 6: div: division by zero (1 / 0)'],
    ['', 'line 1, col 1: the program is empty: write assignments such as a = 2 and L = a*b, one per line or separated by ;'],
    [
      '# only a comment\n\n',
      'line 1, col 1: the program is empty: write assignments such as a = 2 and L = a*b, one per line or separated by ;',
    ],
  ]
  for (const [source, message] of cases) {
    it(JSON.stringify(source), () => {
      const e = error(source)
      expect(e.message).toBe(`expression: ${message}`)
      const [, line, col] = /^line (\d+), col (\d+)/.exec(message)!
      expect([e.line, e.column]).toEqual([Number(line), Number(col)])
    })
  }

  it('refuses a program of more than MAX_PROGRAM_NODES nodes, saying so', () => {
    const ok = ['x = 1', ...Array.from({ length: MAX_PROGRAM_NODES - 1 }, () => 'x = x + x')].join('\n')
    expect(parseProgram(ok).nodes.length).toBe(MAX_PROGRAM_NODES)
    const e = error(`${ok}\nx = x + x`)
    expect(e.line).toBe(MAX_PROGRAM_NODES + 1)
    expect(e.detail).toBe(`the program builds more than ${MAX_PROGRAM_NODES} nodes; the explainer draws every one, so keep it smaller`)
    // Only nodes count, not text: a long sum of numbers folds to one constant.
    expect(parseProgram(`x = ${Array(1000).fill('1').join(' + ')}`).root.data).toBe(1000)
  })

  it('refuses what is not a string', () => {
    expect(() => parseProgram(42 as unknown as string)).toThrow(/expression: source must be a string/)
  })
})
