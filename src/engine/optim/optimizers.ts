// SGD (momentum, Nesterov), Adam, AdamW and RMSprop with PyTorch's exact update rules, so runs
// exported to PyTorch continue the same trajectory.
import type { Storage } from '../backends/backend.js'
import { sameShape } from '../shape.js'
import { Tensor } from '../tensor.js'
import { add, mul, sqrt, div, sub } from '../ops/index.js'
import { Optimizer, type OptimizerOptions, type OptimizerStateDict, type Params } from './optimizer.js'

/** A backend's fused update (WebGPU) applies when p and g line up; a hand-set grad may broadcast. */
function fusable(p: Tensor, g: Tensor): boolean {
  return g.backend === p.backend && g.dtype === p.dtype && sameShape(g.shape, p.shape)
}

const like = (s: Storage, p: Tensor): Tensor => new Tensor(s, p.shape, p.backend)

/** A loaded state tensor, placed like its parameter (a copy: the state dict keeps its own). */
function loaded(t: Tensor | undefined, p: Tensor): Tensor | undefined {
  return t && new Tensor(p.backend.fromArray(t.dataSync()), p.shape, p.backend)
}

export interface SGDOptions extends OptimizerOptions {
  momentum?: number
  dampening?: number
  nesterov?: boolean
}

export class SGD extends Optimizer<SGDOptions> {
  private readonly buf = new Map<Tensor, Tensor>()

  constructor(params: Params, options: SGDOptions) {
    super('SGD', params, options)
  }

  protected override validate(o: SGDOptions): void {
    super.validate(o)
    this.checkRange('momentum', o.momentum, 0, 1, true)
    this.checkRange('dampening', o.dampening, 0, 1)
  }

  protected update(p: Tensor, g: Tensor): void {
    const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = this.options
    const fused = p.backend.sgdStep
    if (fused && fusable(p, g)) {
      const r = fused.call(p.backend, p.storage, g.storage, this.buf.get(p)?.storage ?? null, {
        lr,
        momentum,
        dampening,
        nesterov,
        weightDecay,
      })
      if (r.buf) this.buf.set(p, like(r.buf, p))
      p.assign(like(r.p, p))
      return
    }
    let d = weightDecay !== 0 ? add(g, mul(p, weightDecay)) : g
    if (momentum !== 0) {
      const prev = this.buf.get(p)
      const b = prev === undefined ? d : add(mul(prev, momentum), mul(d, 1 - dampening))
      this.buf.set(p, b)
      d = nesterov ? add(d, mul(b, momentum)) : b
    }
    p.assign(sub(p, mul(d, lr)))
  }

  protected override saveParamState(p: Tensor, name: string, sd: OptimizerStateDict): void {
    const b = this.buf.get(p)
    if (b) sd.tensors[`${name}.momentum_buffer`] = b
  }

  protected override loadParamState(p: Tensor, name: string, sd: OptimizerStateDict): void {
    const b = loaded(sd.tensors[`${name}.momentum_buffer`], p)
    if (b) this.buf.set(p, b)
    else this.buf.delete(p)
  }
}

export interface AdamOptions extends OptimizerOptions {
  beta1?: number
  beta2?: number
  eps?: number
}

interface AdamState {
  m: Tensor
  v: Tensor
  t: number
  /** The backend updates m and v in place (the CPU does): a state dict must get copies. */
  inPlace: boolean
}

/** Adam with L2 weight decay added to the gradient (torch.optim.Adam). */
export class Adam extends Optimizer<AdamOptions> {
  private readonly state = new Map<Tensor, AdamState>()
  protected decoupled = false

  constructor(params: Params, options: AdamOptions, name = 'Adam') {
    super(name, params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...options })
  }

  protected override validate(o: AdamOptions): void {
    super.validate(o)
    this.checkRange('beta1', o.beta1, 0, 1, true)
    this.checkRange('beta2', o.beta2, 0, 1, true)
    this.checkRange('eps', o.eps, 0, Infinity)
  }

  protected update(p: Tensor, g: Tensor): void {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = this.options
    const s = this.state.get(p)
    const t = (s?.t ?? 0) + 1
    const fused = p.backend.adamStep
    if (fused && fusable(p, g)) {
      const o = { lr, beta1, beta2, eps, weightDecay, decoupled: this.decoupled, step: t }
      const r = fused.call(p.backend, p.storage, g.storage, s?.m.storage ?? null, s?.v.storage ?? null, o)
      const inPlace = p.backend.adamStepInPlace === true
      this.state.set(p, { m: s?.m.storage === r.m ? s.m : like(r.m, p), v: s?.v.storage === r.v ? s.v : like(r.v, p), t, inPlace })
      p.assign(like(r.p, p))
      return
    }
    let grad = g
    let param = p
    if (weightDecay !== 0) {
      if (this.decoupled) param = mul(p, 1 - lr * weightDecay)
      else grad = add(g, mul(p, weightDecay))
    }
    const m = s ? add(mul(s.m, beta1), mul(grad, 1 - beta1)) : mul(grad, 1 - beta1)
    const v = s ? add(mul(s.v, beta2), mul(mul(grad, grad), 1 - beta2)) : mul(mul(grad, grad), 1 - beta2)
    this.state.set(p, { m, v, t, inPlace: false })
    const bc1 = 1 - Math.pow(beta1, t)
    const bc2 = 1 - Math.pow(beta2, t)
    const denom = add(mul(sqrt(v), 1 / Math.sqrt(bc2)), eps)
    p.assign(sub(param, mul(div(m, denom), lr / bc1)))
  }

  protected override saveParamState(p: Tensor, name: string, sd: OptimizerStateDict, views: boolean): void {
    const s = this.state.get(p)
    if (!s) return
    // A later in-place step must not change a state dict already handed out, unless asked for views.
    const copy = s.inPlace && !views
    sd.tensors[`${name}.m`] = copy ? s.m.copyTo(s.m.backend) : s.m
    sd.tensors[`${name}.v`] = copy ? s.v.copyTo(s.v.backend) : s.v
    sd.scalars[`${name}.t`] = s.t
  }

  protected override loadParamState(p: Tensor, name: string, sd: OptimizerStateDict): void {
    const m = loaded(sd.tensors[`${name}.m`], p)
    const v = loaded(sd.tensors[`${name}.v`], p)
    const t = sd.scalars[`${name}.t`]
    if (m && v && t !== undefined) this.state.set(p, { m, v, t, inPlace: false })
    else this.state.delete(p)
  }
}

/** Adam with decoupled weight decay (torch.optim.AdamW; default weightDecay 0.01). */
export class AdamW extends Adam {
  constructor(params: Params, options: AdamOptions) {
    super(params, { weightDecay: 0.01, ...options }, 'AdamW')
    this.decoupled = true
  }
}

export interface RMSpropOptions extends OptimizerOptions {
  alpha?: number
  eps?: number
  momentum?: number
  centered?: boolean
}

interface RMSState {
  sq: Tensor
  avg: Tensor | null
  buf: Tensor | null
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  private readonly state = new Map<Tensor, RMSState>()

  constructor(params: Params, options: RMSpropOptions) {
    super('RMSprop', params, { alpha: 0.99, eps: 1e-8, ...options })
  }

  protected override validate(o: RMSpropOptions): void {
    super.validate(o)
    this.checkRange('alpha', o.alpha, 0, 1)
    this.checkRange('eps', o.eps, 0, Infinity)
    this.checkRange('momentum', o.momentum, 0, 1, true)
  }

  protected update(p: Tensor, g: Tensor): void {
    const { lr, alpha = 0.99, eps = 1e-8, momentum = 0, centered = false, weightDecay = 0 } = this.options
    const grad = weightDecay !== 0 ? add(g, mul(p, weightDecay)) : g
    const s = this.state.get(p)
    const g2 = mul(mul(grad, grad), 1 - alpha)
    const sq = s ? add(mul(s.sq, alpha), g2) : g2
    let avgGrad: Tensor | null = null
    let denom: Tensor
    if (centered) {
      avgGrad = s?.avg ? add(mul(s.avg, alpha), mul(grad, 1 - alpha)) : mul(grad, 1 - alpha)
      denom = add(sqrt(sub(sq, mul(avgGrad, avgGrad))), eps)
    } else {
      denom = add(sqrt(sq), eps)
    }
    let buf: Tensor | null = null
    if (momentum > 0) {
      buf = s?.buf ? add(mul(s.buf, momentum), div(grad, denom)) : div(grad, denom)
      p.assign(sub(p, mul(buf, lr)))
    } else {
      p.assign(sub(p, mul(div(grad, denom), lr)))
    }
    this.state.set(p, { sq, avg: avgGrad, buf })
  }

  protected override saveParamState(p: Tensor, name: string, sd: OptimizerStateDict): void {
    const s = this.state.get(p)
    if (!s) return
    sd.tensors[`${name}.square_avg`] = s.sq
    if (s.avg) sd.tensors[`${name}.grad_avg`] = s.avg
    if (s.buf) sd.tensors[`${name}.momentum_buffer`] = s.buf
  }

  protected override loadParamState(p: Tensor, name: string, sd: OptimizerStateDict): void {
    const sq = loaded(sd.tensors[`${name}.square_avg`], p)
    if (sq)
      this.state.set(p, {
        sq,
        avg: loaded(sd.tensors[`${name}.grad_avg`], p) ?? null,
        buf: loaded(sd.tensors[`${name}.momentum_buffer`], p) ?? null,
      })
    else this.state.delete(p)
  }
}
