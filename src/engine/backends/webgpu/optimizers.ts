// Fused optimiser updates: one kernel per parameter writes the new parameter and its state, where
// the composed update in optim/ (the reference) takes a dozen. Each follows the composed
// formula operation by operation, so float32 results match it to rounding.
import type { AdamStep, SgdStep } from '../backend.js'
import { GpuStorage } from './pool.js'
import type { GpuRuntime } from './runtime.js'
import { contiguousOver, map, type MapKernel } from './elementwise.js'

const ADAM: MapKernel = {
  name: 'adam',
  vars: ['p', 'g', 'm', 'v'],
  params: ['b1', 'c1', 'b2', 'c2', 'l2', 'decay', 'invSqrtBc2', 'eps', 'stepSize'],
  body: `  let gg = select(g, g + p * l2, l2 != 0.0);
  let m1 = m * b1 + gg * c1;
  let v1 = v * b2 + (gg * gg) * c2;
  let denom = sqrt(v1) * invSqrtBc2 + eps;`,
  outputs: ['p * decay - (m1 * (1.0 / denom)) * stepSize', 'm1', 'v1'],
}

/** Adam / AdamW (decoupled weight decay), as torch.optim; null state is the first step. */
export function adamStep(rt: GpuRuntime, p: GpuStorage, g: GpuStorage, m: GpuStorage | null, v: GpuStorage | null, o: AdamStep) {
  const zero = new GpuStorage(p.size, null, 0)
  const decoupled = o.decoupled && o.weightDecay !== 0
  const params = [
    o.beta1,
    1 - o.beta1,
    o.beta2,
    1 - o.beta2,
    decoupled ? 0 : o.weightDecay,
    decoupled ? 1 - o.lr * o.weightDecay : 1,
    1 / Math.sqrt(1 - Math.pow(o.beta2, o.step)),
    o.eps,
    o.lr / (1 - Math.pow(o.beta1, o.step)),
  ]
  const [np, nm, nv] = map(rt, ADAM, [p, g, m ?? zero, v ?? zero].map(contiguousOver), [p.size], params)
  return { p: np, m: nm, v: nv }
}

/** SGD variants differ in code (momentum, its first step, Nesterov), so each is its own kernel. */
function sgdKernel(momentum: boolean, first: boolean, nesterov: boolean): MapKernel {
  const lines = ['  let d = select(g, g + p * wd, wd != 0.0);']
  if (momentum) {
    lines.push(first ? '  let b1 = d;' : '  let b1 = b * mom + d * damp1;')
    lines.push(nesterov ? '  let step = d + b1 * mom;' : '  let step = b1;')
  } else lines.push('  let step = d;')
  return {
    name: `sgd${momentum ? (first ? '-momentum-first' : '-momentum') : ''}${momentum && nesterov ? '-nesterov' : ''}`,
    vars: ['p', 'g', 'b'],
    params: ['lr', 'wd', 'mom', 'damp1'],
    body: lines.join('\n'),
    outputs: momentum ? ['p - step * lr', 'b1'] : ['p - step * lr'],
  }
}

export function sgdStep(rt: GpuRuntime, p: GpuStorage, g: GpuStorage, buf: GpuStorage | null, o: SgdStep) {
  const momentum = o.momentum !== 0
  const kernel = sgdKernel(momentum, buf === null, o.nesterov)
  const operands = [p, g, buf ?? new GpuStorage(p.size, null, 0)].map(contiguousOver)
  const [np, nb] = map(rt, kernel, operands, [p.size], [o.lr, o.weightDecay, o.momentum, 1 - o.dampening])
  return { p: np, buf: momentum ? nb : null }
}
