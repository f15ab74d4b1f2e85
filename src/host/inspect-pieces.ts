// Inspections in pieces. The host runs every session and every request on one thread, so an
// inspection of a big model done in one go (a 16×1024 ReLU net is ~34 MFLOPs per row) held
// training and every other request for up to seconds. Here an inspection is resumable work
// (work-budget.ts) whose pieces are sized from the model's shape: the first piece runs inside the
// session's `reading` (a device session's CPU mirror is current), the rest one per turn of the
// event loop, so a training slice, a Pause or another request can run between any two. Work that
// takes more than one piece reads a frozen copy of the weights, taken in its first piece, so its
// result belongs to one step however far the session trains meanwhile.
import { setImmediate } from 'node:timers'
import { backwardInPieces, type BackwardOptions, type DType, type nn, type Tensor } from '../engine'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { SessionRegistry } from './sessions/registry'
import { backwardFlops, type Work } from './work-budget'

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Run an inspection's work on session `sessionId`: its first piece now, each next piece on a later turn of the event loop. */
export async function inPieces<T>(registry: SessionRegistry, sessionId: string, make: (s: TrainingSession) => Work<T>): Promise<T> {
  let work: Work<T> | null = null
  let r = await registry.reading(sessionId, (s) => {
    work = make(s)
    return work.next()
  })
  while (!r.done) {
    await nextTurn()
    r = work!.next()
  }
  return r.value
}

/**
 * A released frozen copy per live model, whose buffers the next freeze reuses: allocating a 16×1024
 * model's 63 MB afresh (page faults) costs several times more than copying into it. Only copies in
 * the model's own dtype are kept (the polled panels'); a float64 copy (gradcheck, on a click) is not,
 * so a big session holds at most one extra copy of its weights.
 */
const spares = new WeakMap<nn.MLP, nn.MLP>()

export interface Frozen {
  /** A copy of the live model's weights and buffers at the moment of freezing, in the same mode; the holder's alone. */
  model: nn.MLP
  /** Done with it: its gradients are dropped and its buffers kept for the next freeze of the same model. */
  release(): void
}

/**
 * The live model's weights and buffers (running statistics) as they are now, in a copy training
 * does not touch. At most one spare copy per live model is kept; a freeze while it is in use makes
 * another (freed with its holder).
 */
export function freeze(live: nn.MLP, dtype: DType = live.layers[0]!.weight.dtype): Frozen {
  const keep = dtype === live.layers[0]!.weight.dtype
  let model = keep ? spares.get(live) : undefined
  if (model) {
    spares.delete(live)
    copyState(live, model)
    model.train(live.training)
  } else model = live.clone({ dtype })
  const held = model
  return {
    model: held,
    release() {
      for (const [, p] of held.namedParameters()) p.grad = null
      if (keep) spares.set(live, held)
    },
  }
}

/** Copy every parameter and buffer of `from` into `to` (same architecture and dtype, CPU tensors). */
function copyState(from: nn.MLP, to: nn.MLP): void {
  const src = [...from.namedParameters(), ...from.namedBuffers()]
  const dst = [...to.namedParameters(), ...to.namedBuffers()]
  src.forEach(([, t], i) => view(dst[i]![1]).set(view(t)))
}

/** loss.backward() in pieces of at most `chunkFlops` of work each (work-budget.ts backwardFlops). */
export function backwardWork(loss: Tensor, chunkFlops: number, options?: BackwardOptions): Work<void> {
  return backwardInPieces(loss, undefined, options, { budget: chunkFlops, cost: backwardFlops })
}
