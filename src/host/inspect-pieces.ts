// Inspections in pieces. The host runs every session and every request on one thread, so an
// inspection of a big model done in one go (a 16×1024 ReLU net is ~34 MFLOPs per row) held
// training and every other request for up to seconds. Here an inspection is resumable work
// (work-budget.ts) whose pieces are sized from the model's shape: the first piece runs inside the
// session's `reading` (a device session's CPU mirror is current), the rest on later turns of the
// event loop (a few milliseconds of pieces per turn), so a training slice, a Pause or another
// request runs between them. Work that
// takes more than one piece reads a frozen copy of the weights, taken in its first piece, so its
// result belongs to one step however far the session trains meanwhile.
import { performance } from 'node:perf_hooks'
import { setImmediate } from 'node:timers'
import { backwardInPieces, nn, Rng, type BackwardOptions, type DType, type Tensor } from '../engine'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { SessionRegistry } from './sessions/registry'
import { backwardFlops, type Work } from './work-budget'

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Which copy of the weights an inspection reads: in the model's own dtype, or in float64 (gradcheck). */
export type CopyKind = 'model' | 'float64'

/**
 * How long an inspection goes on to its next piece before the loop turns (ms): half a frame. Many
 * pieces are tiny (the backward's cheap nodes between two products), and each turn waits behind
 * whatever else is queued (a training slice, a big checkpoint's next 4 MiB): one piece per turn
 * made the 16×1024 network view wait ~50 turns. A piece is at most chunkFlops, so a turn holds at
 * most this plus one piece.
 */
export const INSPECT_TURN_MS = 8

export interface InPiecesOptions {
  /** The weight copy the work will freeze into, allocated first (prepareCopy). */
  copy?: CopyKind
  /** Pieces run back to back for up to this long before the loop turns (INSPECT_TURN_MS); 0: one piece per turn. */
  turnMs: number
}

/**
 * Run an inspection's work on session `sessionId`: its first piece now, the next ones on later
 * turns of the event loop (as many per turn as fit turnMs). With `copy`, the weight copy the work
 * will freeze into is allocated first, a few layers per piece (prepareCopy), so the freeze itself
 * is one copy of values into memory that is already there.
 */
export async function inPieces<T>(
  registry: SessionRegistry,
  sessionId: string,
  make: (s: TrainingSession) => Work<T>,
  options: InPiecesOptions,
): Promise<T> {
  const { copy, turnMs } = options
  const live = copy ? registry.get(sessionId).trainer.model : null
  const dtype = live && (copy === 'float64' ? 'float64' : live.layers[0]!.weight.dtype)
  try {
    if (live && dtype) {
      const prep = prepareCopy(live, dtype)
      while (!turn(prep, turnMs).done) await nextTurn()
    }
    let work: Work<T> | null = null
    let r = await registry.reading(sessionId, (s) => {
      work = make(s)
      return work.next()
    })
    while (!r.done) {
      await nextTurn()
      r = turn(work!, turnMs)
    }
    return r.value
  } finally {
    // A copy in another dtype is not kept (at most one extra copy per session, in its own dtype).
    if (live && dtype && dtype !== live.layers[0]!.weight.dtype) spares.get(live)?.delete(dtype)
  }
}

/** One turn's pieces of `work`: the next one, then more while less than `turnMs` has passed on `clock`. */
export function turn<T>(work: Work<T>, turnMs: number, clock: () => number = () => performance.now()): IteratorResult<void, T> {
  const start = clock()
  let r = work.next()
  while (!r.done && clock() - start < turnMs) r = work.next()
  return r
}

/**
 * Released or prepared copies per live model and dtype, which the next freeze takes: allocating a
 * 16×1024 model's 63 MB afresh (page faults) costs several times more than copying into it. Copies
 * in the model's own dtype (the polled panels') are kept after use; a float64 copy (gradcheck, on
 * a click) is not, so a big session holds at most one extra copy of its weights.
 */
const spares = new WeakMap<nn.MLP, Map<DType, nn.MLP>>()

/** Bytes of layers allocated per piece by prepareCopy (one 1024×1024 float32 layer is 4 MiB). */
export const COPY_PIECE_BYTES = 8 << 20

/**
 * Allocate a copy of `live` in `dtype` for the next freeze, at most COPY_PIECE_BYTES of layers per
 * piece (nothing to do when a spare is there). Its values are whatever the layers held when each
 * was copied: freeze overwrites them all at once, so the frozen copy still belongs to one step.
 */
export function* prepareCopy(live: nn.MLP, dtype: DType): Work<void> {
  if (spares.get(live)?.has(dtype)) return
  const layers: nn.Linear[] = []
  let bytes = 0
  for (const layer of live.layers) {
    if (bytes >= COPY_PIECE_BYTES) {
      yield
      bytes = 0
    }
    layers.push(layer.clone({ dtype }))
    bytes += layer.parameters().reduce((n, p) => n + p.size, 0) * (dtype === 'float64' ? 8 : 4)
  }
  const model = new nn.MLP(live.sizes, {
    activation: live.activations,
    blocks: live.blocks,
    fromNorms: live.norms,
    dropoutRng: live.dropoutRng ?? undefined,
    layers,
    rng: new Rng(0), // never drawn from: every value is given
  })
  putSpare(live, dtype, model)
}

/** The dtypes of the copies held for `live` (tests). */
export function sparesOf(live: nn.MLP): DType[] {
  return [...(spares.get(live)?.keys() ?? [])]
}

function putSpare(live: nn.MLP, dtype: DType, model: nn.MLP): void {
  let byDtype = spares.get(live)
  if (!byDtype) spares.set(live, (byDtype = new Map()))
  byDtype.set(dtype, model)
}

export interface Frozen {
  /** A copy of the live model's weights and buffers at the moment of freezing, in the same mode; the holder's alone. */
  model: nn.MLP
  /** Done with it: its gradients are dropped and, in the model's dtype, its buffers kept for the next freeze. */
  release(): void
}

/**
 * The live model's weights and buffers (running statistics) as they are now, in a copy training
 * does not touch: a prepared or released spare overwritten with the current values, else a fresh
 * clone. At most one spare copy per live model is kept; a freeze while it is in use makes another
 * (freed with its holder).
 */
export function freeze(live: nn.MLP, dtype: DType = live.layers[0]!.weight.dtype): Frozen {
  const keep = dtype === live.layers[0]!.weight.dtype
  const byDtype = spares.get(live)
  let model = byDtype?.get(dtype)
  if (model) {
    byDtype!.delete(dtype)
    copyState(live, model)
    model.train(live.training)
  } else model = live.clone({ dtype })
  const held = model
  return {
    model: held,
    release() {
      for (const [, p] of held.namedParameters()) p.grad = null
      if (keep) putSpare(live, dtype, held)
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
