// The explainer's example programs. A local copy of src/engine/scalar/presets.ts's texts (not an
// import) so the renderer bundle never pulls in engine code; the host parses whatever is sent.

export interface ScalarPreset {
  id: string
  /** The chip's text. */
  label: string
  /** One line on what the example teaches (the chip's tooltip). */
  hint: string
  source: string
}

const lines = (...l: string[]) => [...l, ''].join('\n')

export const SCALAR_PRESETS: readonly ScalarPreset[] = [
  {
    id: 'seed',
    label: 'L = (a·b + c)·f',
    hint: 'The lecture’s first graph: add distributes, mul swaps. dL/da = 6, dL/db = -4, dL/dc = -2, dL/df = 4.',
    source: lines('a = 2', 'b = -3', 'c = 10', 'e = a*b', 'd = e + c', 'f = -2', 'L = d*f'),
  },
  {
    id: 'reuse',
    label: 'b = a + a',
    hint: 'A value used twice gets both contributions: a.grad = 1 + 1 = 2, only because grads accumulate with +=.',
    source: lines('a = 3', 'b = a + a'),
  },
  {
    id: 'tanh-neuron',
    label: 'tanh neuron',
    hint: 'o = tanh(x1·w1 + x2·w2 + b) with the bias chosen so that o = 1/√2 and do/dn = 0.5.',
    source: lines('# inputs x1, x2; weights w1, w2; bias b', 'x1 = 2', 'x2 = 0', 'w1 = -3', 'w2 = 1', 'b = 6.8813735870195432', 'n = x1*w1 + x2*w2 + b', 'o = tanh(n)'),
  },
  {
    id: 'max',
    label: 'max routes',
    hint: 'Only the larger operand of max receives the gradient; the other gets 0 (b.grad = 0 here).',
    source: lines('a = 2', 'b = -3', 'c = 1.5', 'm = max(a*c, b + 4)   # 3 vs 1: a*c wins', 'L = m*m'),
  },
  {
    id: 'more-ops',
    label: 'micrograd test',
    hint: 'micrograd’s test_more_ops: reassignment, +=, pow, relu and division (PyTorch: dg/da = 138.834, dg/db = 645.577).',
    source: lines(
      'a = -4',
      'b = 2',
      'c = a + b',
      'd = a*b + b**3',
      'c += c + 1',
      'c += 1 + c + (-a)',
      'd += d*2 + relu(b + a)',
      'd += 3*d + relu(b - a)',
      'e = c - d',
      'f = e**2',
      'g = f / 2',
      'g += 10 / f',
    ),
  },
]

export const DEFAULT_PRESET = SCALAR_PRESETS[0]!
