// One training step, two drivers. The step, evaluation and the session's slice loop are written
// once, as generators that name the values they must read (`need`, `later`), where they may stop
// for the rest of the thread (SLICE) and where they read the weights' CPU mirror (MIRROR). The
// CPU driver (`sliced`, `runSync`) answers every read at once from the tensors' memory and stops
// at a slice point once its deadline has passed, to resume there in the next slice; the device
// driver (`runAsync`) awaits the reads of each request together, which the backend turns into
// one read-back, and refreshes the mirror where asked.
import { mul, noGrad, sum, type Tensor, type TypedArray } from '../../engine'
import { view } from '../metrics'
import { allFinite, sumOfSquares } from '../scan'
import type { Work } from '../work-budget'

/** A value the work needs: a tensor's data, its sum of squares (in float64 on the CPU), or whether all of it is finite. */
export type Read = { value: Tensor } | { sumSq: Tensor } | { finite: Tensor }

export type Answer<R> = R extends { value: Tensor }
  ? TypedArray
  : R extends { sumSq: Tensor }
    ? number
    : R extends { finite: Tensor }
      ? boolean
      : never
export type Answers<R extends readonly Read[]> = { -readonly [K in keyof R]: Answer<R[K]> }

/** A slice point: the work may stop here and be resumed later (between chunks, between steps). */
export const SLICE = 'slice'
/** The weights' CPU mirror must be current here (a device session; on the CPU the model is its own mirror). */
export const MIRROR = 'mirror'

/** A request for values: the work waits for them, or (`then`) goes on and gets them later. */
export interface ReadNeed {
  read: readonly Read[]
  then?: (values: unknown[]) => void
}

export type Need = ReadNeed | typeof SLICE | typeof MIRROR

/** Work for either driver: what it yields are its needs, what it is sent back are read values. */
export type Drive<T> = Generator<Need, T, unknown>

/** Read values now: `const [loss, sq] = yield* need([{ value: loss }, { sumSq: g }])`. */
export function* need<const R extends readonly Read[]>(read: R): Drive<Answers<R>> {
  return (yield { read }) as Answers<R>
}

/**
 * Read values without waiting for them: `then` gets them at once on the CPU, and on a device with
 * the next request that waits (`need`, `settle`), in the same read-back. An evaluation reads every
 * chunk so, so a device evaluates in one round trip however many chunks it has.
 */
export function* later<const R extends readonly Read[]>(read: R, then: (values: Answers<R>) => void): Drive<void> {
  yield { read, then: then as (values: unknown[]) => void }
}

/** Wait until every `later` read so far has been delivered. */
export function* settle(): Drive<void> {
  yield { read: [] }
}

function tensorOf(r: Read): Tensor {
  return 'value' in r ? r.value : 'sumSq' in r ? r.sumSq : r.finite
}

/** A read answered from memory (a backend with synchronous reads: the CPU). */
function answerNow(r: Read): TypedArray | number | boolean {
  if ('value' in r) return view(r.value)
  if ('sumSq' in r) return sumOfSquares(view(r.sumSq))
  return allFinite(view(r.finite))
}

/** A read from a device: reduced there first (a sum of squares, x·0 summed: NaN iff a value is not finite), then read back. */
function answerLater(r: Read): TypedArray | number | boolean | Promise<TypedArray | number | boolean> {
  const t = tensorOf(r)
  if (t.backend.readSync) return answerNow(r)
  if ('value' in r) return t.data()
  if ('sumSq' in r)
    return noGrad(() => sum(mul(t, t)))
      .data()
      .then((v) => v[0])
  return noGrad(() => sum(mul(t, 0)))
    .data()
    .then((v) => v[0] === 0)
}

/**
 * The CPU driver, as resumable work: its pieces end at the slice points of `work` (what the
 * session's slice loop and the tests step through). Reads are answered at once; MIRROR needs
 * nothing. Every tensor read must live on a backend with synchronous reads.
 */
export function* sliced<T>(work: Drive<T>): Work<T> {
  let input: unknown
  for (;;) {
    const r = work.next(input)
    if (r.done) return r.value
    input = undefined
    const n = r.value
    if (n === SLICE) yield
    else if (n !== MIRROR) {
      const values = n.read.map(answerNow)
      if (n.then) n.then(values)
      else input = values
    }
  }
}

/** Stop at the first slice point at or past `deadline` (on the `now` clock). */
export interface Until {
  deadline: number
  now(): number
}

/**
 * Run `work` on the CPU driver: to its end, or (with `until`) to its first slice point past the
 * deadline, always through at least one piece. Null: stopped at a slice point; resuming the same
 * generator later continues from there.
 */
export function runSync<T>(work: Drive<T>, until?: Until): { value: T } | null {
  const w = sliced(work)
  for (;;) {
    const r = w.next()
    if (r.done) return { value: r.value }
    if (until && until.now() >= until.deadline) return null
  }
}

export interface AsyncOptions {
  until?: Until
  /** Bring the CPU mirror up to date (MIRROR). */
  mirror?: () => Promise<void>
}

/**
 * The device driver: each request's reads, with every `later` read still pending, are awaited in
 * one Promise.all (one read-back on WebGPU). Stops like runSync at a slice point past the
 * deadline (pending reads delivered first); null then.
 */
export async function runAsync<T>(work: Drive<T>, options: AsyncOptions = {}): Promise<{ value: T } | null> {
  const pending: ReadNeed[] = []
  /** Every pending read and `reads` in one await; delivers the pending ones, returns the others' values. */
  const fetch = async (reads: readonly Read[]): Promise<unknown[]> => {
    const all = [...pending.flatMap((p) => p.read), ...reads]
    if (all.length === 0) return []
    const values = await Promise.all(all.map(answerLater))
    let k = 0
    for (const p of pending.splice(0)) p.then!(values.slice(k, (k += p.read.length)))
    return values.slice(k)
  }
  let input: unknown
  for (;;) {
    const r = work.next(input)
    input = undefined
    if (r.done) {
      await fetch([])
      return { value: r.value }
    }
    const n = r.value
    if (n === SLICE) {
      if (options.until && options.until.now() >= options.until.deadline) {
        await fetch([])
        return null
      }
    } else if (n === MIRROR) {
      await options.mirror?.()
    } else if (n.then) {
      pending.push(n)
    } else {
      input = await fetch(n.read)
    }
  }
}
