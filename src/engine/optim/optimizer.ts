// Optimiser base: parameters (with names for error messages), mutable hyperparameters that the
// studio can change mid-run, and a guard that refuses to apply a non-finite gradient.
import { EngineError } from '../errors.js'
import { noGrad } from '../grad-mode.js'
import type { Tensor } from '../tensor.js'

export type Params = readonly Tensor[] | readonly [string, Tensor][]

export interface OptimizerOptions {
  lr: number
  weightDecay?: number
  /** Check gradients for NaN/Inf before updating (CPU: one cheap pass). Default true. */
  checkFinite?: boolean
}

/**
 * An optimiser's state apart from its hyperparameters: the step count and per-parameter buffers
 * named `<param>.<buffer>` (`layers.0.weight.m`), plus per-parameter scalars (`layers.0.weight.t`).
 * Loading it into a fresh optimiser over the same parameters continues the same trajectory.
 */
export interface OptimizerStateDict {
  step: number
  tensors: Record<string, Tensor>
  scalars: Record<string, number>
}

export abstract class Optimizer<O extends OptimizerOptions = OptimizerOptions> {
  readonly params: Tensor[]
  readonly names: string[]
  options: O
  stepCount = 0

  constructor(
    readonly name: string,
    params: Params,
    options: O,
  ) {
    const list = params as readonly (Tensor | [string, Tensor])[]
    this.params = list.map((p) => (Array.isArray(p) ? p[1] : p))
    this.names = list.map((p, i) => (Array.isArray(p) ? p[0] : p.label || `param ${i}`))
    if (this.params.length === 0) throw new EngineError(name, 'argument', 'got an empty parameter list')
    this.params.forEach((p, i) => {
      if (!p.requiresGrad) throw new EngineError(name, 'argument', `parameter "${this.names[i]}" does not require grad`)
    })
    this.options = { ...options }
    this.setOptions(options)
  }

  get lr(): number {
    return this.options.lr
  }
  set lr(lr: number) {
    this.setOptions({ lr } as Partial<O>)
  }

  /** Change hyperparameters between steps (live, without resetting optimiser state). */
  setOptions(patch: Partial<O>): void {
    const next = { ...this.options, ...patch }
    this.validate(next)
    this.options = next
  }

  protected validate(o: O): void {
    if (!(Number.isFinite(o.lr) && o.lr >= 0)) throw new EngineError(this.name, 'argument', `lr must be a finite number >= 0, got ${o.lr}`)
    const wd = o.weightDecay ?? 0
    if (!(Number.isFinite(wd) && wd >= 0)) throw new EngineError(this.name, 'argument', `weightDecay must be >= 0, got ${wd}`)
  }

  protected checkRange(key: string, v: number | undefined, lo: number, hi: number, hiOpen = false): void {
    if (v === undefined) return
    if (!(Number.isFinite(v) && v >= lo && (hiOpen ? v < hi : v <= hi))) {
      throw new EngineError(this.name, 'argument', `${key} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`)
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null
  }

  /** Apply one update from the current gradients. Parameters without a gradient are skipped. */
  step(): void {
    if (this.options.checkFinite !== false) this.assertFiniteGrads()
    this.stepCount++
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad !== null) this.update(p, p.grad, i)
      })
    })
  }

  protected abstract update(p: Tensor, g: Tensor, index: number): void

  /**
   * The state by name. Its tensors do not change with later steps, unless `views` is set: then a
   * buffer an in-place step updates is handed out as it is, not copied (a 16×1024 model's Adam
   * moments are 126 MB), for a caller that is done with it before the next step (a checkpoint,
   * whose session waits for its write).
   */
  stateDict(options: { views?: boolean } = {}): OptimizerStateDict {
    const sd: OptimizerStateDict = { step: this.stepCount, tensors: {}, scalars: {} }
    this.params.forEach((p, i) => this.saveParamState(p, this.names[i], sd, options.views === true))
    return sd
  }

  /** Replace the state; tensors must match their parameter's shape (checked before anything changes). */
  loadStateDict(sd: OptimizerStateDict): void {
    const byName = new Map(this.names.map((n, i) => [n, this.params[i]]))
    for (const [key, t] of Object.entries(sd.tensors)) {
      const p = byName.get(key.slice(0, key.lastIndexOf('.')))
      if (!p) throw new EngineError(`${this.name}.loadStateDict`, 'argument', `"${key}" belongs to no parameter of this optimiser`)
      if (t.size !== p.size)
        throw new EngineError(`${this.name}.loadStateDict`, 'shape', `"${key}" has ${t.size} elements, its parameter has ${p.size}`)
    }
    this.stepCount = sd.step
    this.params.forEach((p, i) => this.loadParamState(p, this.names[i], sd))
  }

  /** Subclasses with state add their buffers under `${name}.<buffer>`. */
  protected saveParamState(_p: Tensor, _name: string, _sd: OptimizerStateDict, _views: boolean): void {}
  protected loadParamState(_p: Tensor, _name: string, _sd: OptimizerStateDict): void {}

  private assertFiniteGrads(): void {
    this.params.forEach((p, i) => {
      const g = p.grad
      const read = g?.backend.readSync
      if (!g || !read) return
      const data = read.call(g.backend, g.storage)
      for (let k = 0; k < data.length; k++) {
        if (!Number.isFinite(data[k])) {
          throw new EngineError(
            `${this.name}.step`,
            'nan',
            `gradient of "${this.names[i]}" is ${data[k]} at index ${k} (step ${this.stepCount + 1}); no parameter was updated`,
          )
        }
      }
    })
  }
}
