// Small graphs from micrograd's lecture and tests, shared by the scalar engine's test files so both
// check the same numbers. Each builder returns fresh Values (leaves first, output last).

import { Value } from './value'

/** The lecture's seed example: L = (a*b + c) * f. */
export function seedExample() {
  const a = new Value(2, 'a')
  const b = new Value(-3, 'b')
  const c = new Value(10, 'c')
  const e = a.mul(b)
  e.label = 'e'
  const d = e.add(c)
  d.label = 'd'
  const f = new Value(-2, 'f')
  const L = d.mul(f)
  L.label = 'L'
  return { a, b, c, d, e, f, L }
}

/** A tanh neuron whose bias puts the output at 1/√2. */
export function tanhNeuron() {
  const x1 = new Value(2, 'x1')
  const x2 = new Value(0, 'x2')
  const w1 = new Value(-3, 'w1')
  const w2 = new Value(1, 'w2')
  const b = new Value(6.8813735870195432, 'b')
  const n = x1.mul(w1).add(x2.mul(w2)).add(b)
  const o = n.tanh()
  return { x1, x2, w1, w2, b, n, o }
}

/** micrograd test_engine.py test_sanity_check, transcribed op for op (3*x → x.mul(3) etc.). */
export function sanityCheck() {
  const x = new Value(-4)
  const z = x.mul(2).add(2).add(x)
  const q = z.relu().add(z.mul(x))
  const h = z.mul(z).relu()
  const y = h.add(q).add(q.mul(x))
  return { x, y }
}

/** micrograd test_engine.py test_more_ops; `c += c + 1` becomes `c = c.add(c.add(1))`. */
export function moreOps(av = -4, bv = 2) {
  const a = new Value(av)
  const b = new Value(bv)
  let c = a.add(b)
  let d = a.mul(b).add(b.pow(3))
  c = c.add(c.add(1))
  c = c.add(c.add(1).add(a.neg())) // 1 + c + (-a)
  d = d.add(d.mul(2).add(b.add(a).relu()))
  d = d.add(d.mul(3).add(b.sub(a).relu())) // 3 * d → d.__rmul__(3) = d * 3
  const e = c.sub(d)
  const f = e.pow(2)
  let g = f.div(2)
  g = g.add(f.pow(-1).mul(10)) // 10.0 / f → f.__rtruediv__(10) = 10 * f**-1
  return { a, b, g }
}

/** A shared node used along two paths: y = (x*x) + (x*x).tanh() with one x*x node. */
export function diamond() {
  const x = new Value(0.7, 'x')
  const s = x.mul(x)
  const y = s.add(s.tanh())
  return { x, s, y }
}

/** y = x * k * k * ... (length multiplications), so dy/dx = k^length. */
export function chain(length: number, k = 1.00001) {
  const x = new Value(1, 'x')
  let y = x
  for (let i = 0; i < length; i++) y = y.mul(k)
  return { x, y }
}
