// What a training step changes in a model besides its weights: BatchNorm's running statistics
// (moved by the forward pass in train mode) and the dropout generator (one draw per mask element).
// The step keeps them as they were before it: a refused step puts the statistics back (its batch
// and masks count as drawn, as the batch order does), an abandoned step puts both back (it is
// redone exactly), and a checkpoint taken mid-step saves them as they were before it. Kept by
// reference: a buffer is only ever replaced (assign), never written in place, so holding its
// storage keeps its values, on the CPU and on a device alike, without a copy.
import type { nn, RngState, Tensor } from '../../engine'

export interface ModelState {
  /** The model the state belongs to (a device session's copy, or the CPU model). */
  model: nn.MLP
  /** Each buffer's storage before the step, in namedBuffers order. */
  buffers: Tensor[]
  /** The dropout generator before the step; null without dropout. */
  rng: RngState | null
}

/** The state before a step, or null for a model with nothing but weights (plain layers, LayerNorm). */
export function keepModelState(model: nn.MLP): ModelState | null {
  const buffers = model.buffers()
  if (buffers.length === 0 && !model.dropoutRng) return null
  return { model, buffers: buffers.map((b) => b.detach()), rng: model.dropoutRng?.getState() ?? null }
}

/** Put the kept running statistics back, and the dropout generator too when `rng`. */
export function putBack(s: ModelState | null, { rng }: { rng: boolean }): void {
  if (!s) return
  s.model.buffers().forEach((b, i) => b.assign(s.buffers[i]))
  if (rng && s.rng) s.model.dropoutRng!.setState(s.rng)
}

/**
 * `fn` with the model in train mode (BatchNorm on the batch's statistics, moving its running
 * ones; dropout drawing masks), then back in eval mode, where the model rests between steps.
 */
export function inTrainMode<T>(model: nn.MLP, fn: () => T): T {
  model.train()
  try {
    return fn()
  } finally {
    model.eval()
  }
}
