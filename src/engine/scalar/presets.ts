// Example programs for the scalar explainer, as data: the lecture's examples and micrograd's tests in
// the expression language (expression.ts). No imports, so any side may show them.

export interface ScalarPreset {
  /** Stable key, e.g. for a select box or a test. */
  readonly id: string
  readonly title: string
  /** What it shows, in one sentence. */
  readonly description: string
  readonly source: string
}

export const SCALAR_PRESETS: readonly ScalarPreset[] = [
  {
    id: 'seed',
    title: 'L = (a·b + c)·f',
    description: 'The lecture’s first graph: add distributes, mul swaps. dL/da = 6, dL/db = -4, dL/dc = -2, dL/df = 4.',
    source: 'a = 2\nb = -3\nc = 10\ne = a*b\nd = e + c\nf = -2\nL = d*f\n',
  },
  {
    id: 'reuse',
    title: 'b = a + a',
    description: 'A value used twice gets both contributions: a.grad = 1 + 1 = 2, only because grads accumulate with +=.',
    source: 'a = 3\nb = a + a\n',
  },
  {
    id: 'tanh-neuron',
    title: 'A tanh neuron',
    description: 'o = tanh(x1·w1 + x2·w2 + b) with the bias chosen so that o = 1/√2 and do/dn = 0.5.',
    source: [
      '# inputs x1, x2; weights w1, w2; bias b',
      'x1 = 2',
      'x2 = 0',
      'w1 = -3',
      'w2 = 1',
      'b = 6.8813735870195432',
      'n = x1*w1 + x2*w2 + b',
      'o = tanh(n)',
      '',
    ].join('\n'),
  },
  {
    id: 'max',
    title: 'max routes',
    description: 'Only the larger operand of max receives the gradient; the other gets 0 (b.grad = 0 here).',
    source: [
      'a = 2',
      'b = -3',
      'c = 1.5',
      'm = max(a*c, b + 4)   # 3 vs 1: a*c is larger, so it takes the whole gradient',
      'L = m*m',
      '',
    ].join('\n'),
  },
  {
    id: 'more-ops',
    title: 'micrograd’s test_more_ops',
    description:
      'Reassignment, +=, pow, relu and division, as in micrograd’s test (PyTorch: g = 24.704, dg/da = 138.834, dg/db = 645.577).',
    source: [
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
      '',
    ].join('\n'),
  },
]
