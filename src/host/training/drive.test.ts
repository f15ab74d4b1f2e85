// The two drivers on a toy piece of work: the CPU driver answers reads at once and stops at a
// slice point past its deadline, to resume there; the device driver puts every read of one
// request (and the `later` reads before it) into one await, and refreshes the mirror where asked.
import { describe, expect, it } from 'vitest'
import { backends, tensor, type Backend, type Tensor, type TypedArray } from '../../engine'
import { later, MIRROR, need, runAsync, runSync, settle, SLICE, sliced, type Drive } from './drive'

/** What the toy work saw, in order. */
type Log = (string | number | boolean | number[])[]

/** Reads a value, a sum of squares and a finiteness (one request), two `later` reads, then a settle, with slice points between. */
function* toy(a: Tensor, b: Tensor, log: Log): Drive<string> {
  log.push('start')
  const [v, sq, fin] = yield* need([{ value: a }, { sumSq: a }, { finite: b }])
  log.push(Array.from(v), sq, fin)
  yield SLICE
  log.push('resumed')
  yield* later([{ value: b }], ([x]) => log.push('later b', Array.from(x)))
  yield* later([{ sumSq: b }], ([x]) => log.push('later sumSq', x))
  log.push('after later')
  yield MIRROR
  yield SLICE
  yield* settle()
  log.push('settled')
  return 'done'
}

const cpu = backends.get('cpu')
const t = (values: number[], be: Backend = cpu): Tensor => tensor(values, { backend: be, allowNonFinite: true })

/**
 * A backend that reads only asynchronously, as WebGPU does (CPU kernels underneath): every read
 * waits until the test releases it, and records which batch of reads it was issued in.
 */
function slowBackend(): { be: Backend; issued: number[]; release(): void } {
  const waiting: (() => void)[] = []
  const issued: number[] = []
  let batch = 0
  const be = Object.create(cpu, {
    name: { value: 'slow' },
    readSync: { value: undefined },
    read: {
      value: (s: Parameters<Backend['read']>[0]) => {
        issued.push(batch)
        return new Promise<TypedArray>((resolve) => waiting.push(() => resolve(cpu.readSync!(s))))
      },
    },
  }) as Backend
  return {
    be,
    issued,
    release: () => {
      batch++
      for (const r of waiting.splice(0)) r()
    },
  }
}

/** Let pending promise callbacks run (the driver's awaits), without releasing any read. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

describe('the CPU driver', () => {
  it('answers every read at once, delivers `later` reads at once, ignores MIRROR', () => {
    const log: Log = []
    expect(runSync(toy(t([1, -2, 3]), t([0.5, Infinity]), log))).toEqual({ value: 'done' })
    expect(log).toEqual([
      'start',
      [1, -2, 3],
      14,
      false,
      'resumed',
      'later b',
      [0.5, Infinity],
      'later sumSq',
      Infinity,
      'after later',
      'settled',
    ])
  })

  it('stops at the first slice point at or past the deadline, at least one piece a call, and resumes there', () => {
    const log: Log = []
    let clock = 0
    const work = toy(t([1]), t([2]), log)
    const until = { deadline: 0, now: () => clock }
    expect(runSync(work, until)).toBeNull() // past the deadline already: one piece, to the first slice point
    expect(log).toEqual(['start', [1], 1, true])
    expect(runSync(work, until)).toBeNull()
    expect(log.slice(4)).toEqual(['resumed', 'later b', [2], 'later sumSq', 4, 'after later'])
    clock = -1 // before the deadline: on to the end
    expect(runSync(work, until)).toEqual({ value: 'done' })
    expect(log.at(-1)).toBe('settled')
  })

  it('as resumable work (sliced): one piece per slice point', () => {
    const pieces = [...sliced(toy(t([1]), t([2]), []))]
    expect(pieces).toHaveLength(2)
  })
})

describe('the device driver', () => {
  it("awaits a request's reads together: all issued before any is answered, one resume after them all", async () => {
    const slow = slowBackend()
    const log: Log = []
    const mirrors: number[] = []
    const done = runAsync(toy(t([1, -2, 3], slow.be), t([0.5, Infinity], slow.be), log), {
      mirror: async () => void mirrors.push(log.length),
    })
    await flush()
    // The value, the sum of squares and the finiteness are three reads, all in flight, none answered.
    expect(slow.issued).toEqual([0, 0, 0])
    expect(log).toEqual(['start'])
    slow.release()
    await flush()
    expect(log).toEqual(['start', [1, -2, 3], 14, false, 'resumed', 'after later'])
    // The `later` reads waited for the next request that waits (the settle): one batch again.
    expect(slow.issued).toEqual([0, 0, 0, 1, 1])
    expect(mirrors).toEqual([6])
    slow.release()
    expect(await done).toEqual({ value: 'done' })
    expect(log.slice(6)).toEqual(['later b', [0.5, Infinity], 'later sumSq', Infinity, 'settled'])
  })

  it('stops at a slice point past the deadline, delivering pending `later` reads first', async () => {
    const log: Log = []
    const work = toy(t([1]), t([2]), log)
    const until = { deadline: 0, now: () => 0 }
    expect(await runAsync(work, { until })).toBeNull()
    expect(await runAsync(work, { until })).toBeNull()
    expect(log.slice(4)).toEqual(['resumed', 'after later', 'later b', [2], 'later sumSq', 4])
    expect(await runAsync(work)).toEqual({ value: 'done' })
  })
})
